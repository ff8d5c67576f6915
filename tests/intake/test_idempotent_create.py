"""Idempotency-Key on requirement and feedback creation by signed-in users: one row per key, the first
response replayed, another body with the same key refused (422), concurrent retries create one row."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from needpool.intake.models import IdempotencyRecord
from needpool.requirements.models import Feedback, Requirement
from tests.conftest import docs_client

REQUIREMENTS = "/api/v1/requirements/"
FEEDBACK = "/api/v1/feedback/"


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _body(customer, title: str = "批量导出订单") -> dict:
    return {"title": title, "customer": customer.pk, "description": "客户希望按月批量导出订单"}


class TestRequirementCreate:
    def test_the_same_key_twice_creates_one_requirement_and_replays_the_response(self, users, customer):
        client = _client(users["sales"])
        before = Requirement.objects.count()
        first = client.post(REQUIREMENTS, _body(customer), format="json", HTTP_IDEMPOTENCY_KEY="req-1")
        again = client.post(REQUIREMENTS, _body(customer), format="json", HTTP_IDEMPOTENCY_KEY="req-1")
        assert first.status_code == again.status_code == 201, first.json()
        assert again.json() == first.json()
        assert again["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
        assert Requirement.objects.count() == before + 1
        assert IdempotencyRecord.objects.get().scope == f"user:{users['sales'].pk}"

    def test_the_same_key_with_another_body_is_refused_and_creates_nothing(self, users, customer):
        client = _client(users["sales"])
        client.post(REQUIREMENTS, _body(customer), format="json", HTTP_IDEMPOTENCY_KEY="req-2")
        before = Requirement.objects.count()
        response = client.post(REQUIREMENTS, _body(customer, "别的需求"), format="json", HTTP_IDEMPOTENCY_KEY="req-2")
        assert response.status_code == 422
        assert "Idempotency-Key" in response.json()["detail"]
        assert Requirement.objects.count() == before

    def test_keys_are_per_user(self, users, customer):
        _client(users["sales"]).post(REQUIREMENTS, _body(customer), format="json", HTTP_IDEMPOTENCY_KEY="k")
        other = _client(users["product_manager"]).post(
            REQUIREMENTS, _body(customer), format="json", HTTP_IDEMPOTENCY_KEY="k"
        )
        assert other.status_code == 201 and "Idempotent-Replayed" not in other
        assert Requirement.objects.filter(title="批量导出订单").count() == 2

    def test_a_refused_create_leaves_the_key_free(self, users, customer):
        client = _client(users["sales"])
        bad = client.post(REQUIREMENTS, {"title": ""}, format="json", HTTP_IDEMPOTENCY_KEY="k")
        assert bad.status_code == 400
        fixed = client.post(REQUIREMENTS, _body(customer), format="json", HTTP_IDEMPOTENCY_KEY="k")
        assert fixed.status_code == 201 and "Idempotent-Replayed" not in fixed

    def test_without_a_key_every_call_creates(self, users, customer):
        client = _client(users["sales"])
        client.post(REQUIREMENTS, _body(customer), format="json")
        client.post(REQUIREMENTS, _body(customer), format="json")
        assert Requirement.objects.filter(title="批量导出订单").count() == 2

    @pytest.mark.parametrize("key", ["", "含中文", "x" * 256, "has space"])
    def test_malformed_keys_are_refused(self, users, customer, key):
        response = _client(users["sales"]).post(REQUIREMENTS, _body(customer), format="json", HTTP_IDEMPOTENCY_KEY=key)
        assert response.status_code == 400 and "Idempotency-Key" in response.json()
        assert not Requirement.objects.filter(title="批量导出订单").exists()

    def test_the_schema_documents_the_key_on_requirement_create(self, db):
        schema = docs_client().get("/api/schema/", {"format": "json"}).json()
        operation = schema["paths"]["/api/v1/requirements/"]["post"]
        assert "Idempotency-Key" in {p["name"] for p in operation["parameters"]}
        assert "422" in operation["responses"]


def test_a_signed_in_users_feedback_create_honours_the_key(users, customer):
    client = _client(users["service"])
    body = {"channel": "after_sales", "raw_text": "售后反馈：安装指引不清楚", "customer": customer.pk}
    first = client.post(FEEDBACK, body, format="json", HTTP_IDEMPOTENCY_KEY="fb-1")
    again = client.post(FEEDBACK, body, format="json", HTTP_IDEMPOTENCY_KEY="fb-1")
    assert first.status_code == again.status_code == 201, first.json()
    assert again.json()["id"] == first.json()["id"] and again["Idempotent-Replayed"] == "true"
    other = client.post(FEEDBACK, {**body, "raw_text": "另一条"}, format="json", HTTP_IDEMPOTENCY_KEY="fb-1")
    assert other.status_code == 422
    assert Feedback.objects.filter(raw_text__startswith="售后反馈").count() == 1


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    sends=st.lists(
        st.tuples(st.sampled_from(["a", "b", "c"]), st.sampled_from(["标题一", "标题二"])), min_size=1, max_size=6
    )
)
def test_one_requirement_per_key_whatever_the_retries(users, customer, sends):
    """However a client retries (same key same body, same key other body, other keys), each key makes at most
    one requirement, a replay answers the first response, and a reused key with another body creates nothing."""
    client = _client(users["sales"])
    prefix = f"h{IdempotencyRecord.objects.count()}-{Requirement.objects.count()}-"
    first_body: dict[str, str] = {}
    first_id: dict[str, int] = {}
    before = Requirement.objects.count()
    for key, title in sends:
        response = client.post(REQUIREMENTS, _body(customer, title), format="json", HTTP_IDEMPOTENCY_KEY=prefix + key)
        if key not in first_body:
            assert response.status_code == 201
            first_body[key], first_id[key] = title, response.json()["id"]
        elif title == first_body[key]:
            assert response.status_code == 201 and response.json()["id"] == first_id[key]
        else:
            assert response.status_code == 422
    assert Requirement.objects.count() == before + len(first_body)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks on the unique index need PostgreSQL")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("kind", ["requirement", "feedback"])
def test_concurrent_retries_with_one_key_create_one_row(kind):
    from needpool.accounts.models import User
    from needpool.customers.services import customer_create

    user = User.objects.create_user(username="retrier", password="x-9-long-enough", role="product_manager")
    customer = customer_create(actor=user, name="并发客户")
    url, body, model = (
        (REQUIREMENTS, _body(customer), Requirement)
        if kind == "requirement"
        else (FEEDBACK, {"channel": "after_sales", "raw_text": "并发的反馈", "customer": customer.pk}, Feedback)
    )
    before = model.objects.count()
    n = 6
    barrier = threading.Barrier(n)
    answers: list[tuple[int, int]] = []
    errors: list[BaseException] = []

    def call() -> None:
        try:
            client = _client(user)
            barrier.wait(timeout=10)
            response = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="same-key")
            answers.append((response.status_code, response.json().get("id")))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=call) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert model.objects.count() == before + 1
    assert {status for status, _id in answers} == {201}
    assert len({row_id for _status, row_id in answers}) == 1
