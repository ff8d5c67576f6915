"""Channel API: a channel token may only create feedback; Idempotency-Key makes retries safe."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from django.db import connection, connections
from rest_framework.test import APIClient

from needpool.intake.channels.services import channel_token_revoke, channel_token_rotate, channel_update
from needpool.intake.models import IdempotencyRecord, Submission
from needpool.requirements.models import Feedback

FEEDBACK = "/api/v1/feedback/"
BODY = {"raw_text": "工单 #1024：希望导出报表时能选择字段", "customer_name": "A科技公司", "external_id": "T-1024"}


def test_a_channel_token_creates_unlinked_feedback(ticket_channel, channel_client, customer):
    channel, token = ticket_channel
    response = channel_client(token).post(
        FEEDBACK,
        {**BODY, "contact_name": "王总", "contact_email": "wang@a-tech.com.cn", "type": "function"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    feedback = Feedback.objects.get(pk=body["id"])
    assert body["channel"] == "ticket" and body["external_id"] == "T-1024"
    assert feedback.requirement is None and feedback.created_by is None
    assert feedback.customer == customer and feedback.contact == customer.contacts.get()
    assert feedback.type.key == "function"
    assert Submission.objects.get(feedback=feedback).channel == channel
    assert "Idempotent-Replayed" not in response


def test_the_channel_keyword_works_too(ticket_channel, channel_client):
    response = channel_client(ticket_channel[1], keyword="Channel").post(FEEDBACK, BODY, format="json")
    assert response.status_code == 201


def test_unknown_customers_are_kept_as_sent_never_created(ticket_channel, channel_client):
    from needpool.customers.models import Customer

    response = channel_client(ticket_channel[1]).post(
        FEEDBACK, {"raw_text": "x", "customer_code": "C1999001", "customer_name": "新公司"}, format="json"
    )
    assert response.status_code == 201
    submission = Submission.objects.get()
    assert submission.feedback.customer is None and submission.customer_text == "C1999001 新公司"
    assert not Customer.objects.filter(name="新公司").exists()


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/api/v1/requirements/"),
        ("post", "/api/v1/requirements/"),
        ("get", "/api/v1/customers/"),
        ("post", "/api/v1/customers/"),
        ("get", "/api/v1/contacts/"),
        ("get", "/api/v1/interactions/"),
        ("get", "/api/v1/options/"),
        ("get", "/api/v1/statuses/"),
        ("get", "/api/v1/analysis/ranked/"),
    ],
)
def test_a_channel_token_opens_no_other_endpoint(ticket_channel, channel_client, method, url):
    response = getattr(channel_client(ticket_channel[1]), method)(url, {}, format="json")
    assert response.status_code == 401


def test_a_channel_token_cannot_read_feedback(ticket_channel, channel_client, requirement):
    client = channel_client(ticket_channel[1])
    item = requirement.feedback_items.get()
    for url in (FEEDBACK, f"{FEEDBACK}{item.pk}/"):
        response = client.get(url)
        assert response.status_code == 403
        assert "只能用于提交反馈" in response.json()["detail"]


@pytest.mark.parametrize("header", ["Bearer npc_not-a-real-token", "Bearer", "Channel a b"])
def test_bad_tokens_are_refused(db, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.post(FEEDBACK, BODY, format="json")
    assert response.status_code == 401
    assert not Feedback.objects.exists()


def test_revoked_rotated_or_inactive_channels_are_refused(users, ticket_channel, channel_client):
    channel, token = ticket_channel
    _c, new_token = channel_token_rotate(actor=users["admin"], channel=channel)
    assert channel_client(token).post(FEEDBACK, BODY, format="json").status_code == 401
    channel_update(actor=users["admin"], channel=channel, is_active=False)
    assert channel_client(new_token).post(FEEDBACK, BODY, format="json").status_code == 401
    channel_update(actor=users["admin"], channel=channel, is_active=True)
    channel_token_revoke(actor=users["admin"], channel=channel)
    assert channel_client(new_token).post(FEEDBACK, BODY, format="json").status_code == 401
    assert not Feedback.objects.exists()


def test_staff_tokens_work_as_before(users, staff_client, customer):
    response = staff_client(users["sales"]).post(
        FEEDBACK, {"customer": customer.pk, "channel": "sales", "raw_text": "需要对接 ERP"}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["created_by"] == users["sales"].pk
    listed = staff_client(users["sales"]).get(FEEDBACK)
    assert listed.status_code == 200 and listed.json()["count"] == 1
    assert staff_client(users["viewer"]).post(FEEDBACK, {"channel": "x", "raw_text": "x"}).status_code == 403


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"raw_text": ""}, "raw_text", ""),
        ({"raw_text": "x", "contact_phone": "13912345678"}, "contact_phone", "个人手机号"),
        ({"raw_text": "x", "contact_email": "a@gmail.com"}, "contact_email", "个人邮箱"),
        ({"raw_text": "x", "type": "no-such-type"}, "type", ""),
        ({"raw_text": "x", "sentiment": "furious"}, "sentiment", ""),
        ({"raw_text": "x", "received_at": "2999-01-01T00:00:00Z"}, "received_at", "晚于现在"),
    ],
)
def test_bad_channel_input_is_refused_per_field(ticket_channel, channel_client, data, field, words):
    response = channel_client(ticket_channel[1]).post(FEEDBACK, data, format="json")
    assert response.status_code == 400
    assert words in " ".join(response.json()[field])
    assert not Feedback.objects.exists()


def test_the_same_external_id_twice_is_a_conflict_naming_the_first_item(ticket_channel, channel_client):
    client = channel_client(ticket_channel[1])
    first = client.post(FEEDBACK, BODY, format="json").json()
    again = client.post(FEEDBACK, {**BODY, "raw_text": "改过的内容"}, format="json")
    assert again.status_code == 409
    assert again.json()["feedback"] == first["id"]
    assert Feedback.objects.count() == 1


def test_the_channels_rate_limit_answers_429(users, ticket_channel, channel_client):
    channel, token = ticket_channel
    channel_update(actor=users["admin"], channel=channel, api_rate_limit=2)
    client = channel_client(token)
    assert client.post(FEEDBACK, {"raw_text": "1"}, format="json").status_code == 201
    assert client.post(FEEDBACK, {"raw_text": "2"}, format="json").status_code == 201
    response = client.post(FEEDBACK, {"raw_text": "3"}, format="json")
    assert response.status_code == 429 and "每分钟最多 2 次" in response.json()["detail"]
    assert "Retry-After" in response
    assert Feedback.objects.count() == 2


def test_token_use_is_noted(ticket_channel, channel_client):
    channel, token = ticket_channel
    channel_client(token).post(FEEDBACK, BODY, format="json")
    channel.refresh_from_db()
    assert channel.token_last_used_at is not None


# ---------------------------------------------------------------- Idempotency-Key


def test_a_retry_with_the_same_key_returns_the_first_response(ticket_channel, channel_client):
    client = channel_client(ticket_channel[1])
    key = str(uuid.uuid4())
    first = client.post(FEEDBACK, BODY, format="json", HTTP_IDEMPOTENCY_KEY=key)
    again = client.post(FEEDBACK, BODY, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    assert Feedback.objects.count() == 1


def test_the_same_key_with_another_body_is_refused(ticket_channel, channel_client):
    client = channel_client(ticket_channel[1])
    client.post(FEEDBACK, BODY, format="json", HTTP_IDEMPOTENCY_KEY="order-7")
    response = client.post(FEEDBACK, {**BODY, "raw_text": "别的内容"}, format="json", HTTP_IDEMPOTENCY_KEY="order-7")
    assert response.status_code == 422
    assert "Idempotency-Key" in response.json()["detail"]
    assert Feedback.objects.count() == 1


def test_keys_are_per_caller(users, ticket_channel, channel_client, make_channel, staff_client):
    _other, other_token = channel_token_rotate(
        actor=users["admin"], channel=make_channel(slug="app", kind="app_feedback")
    )
    assert (
        channel_client(ticket_channel[1]).post(FEEDBACK, BODY, format="json", HTTP_IDEMPOTENCY_KEY="k").status_code
        == 201
    )
    second = channel_client(other_token).post(FEEDBACK, BODY, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert second.status_code == 201 and "Idempotent-Replayed" not in second
    assert Feedback.objects.count() == 2


def test_a_refused_call_leaves_the_key_free(ticket_channel, channel_client):
    client = channel_client(ticket_channel[1])
    bad = client.post(
        FEEDBACK, {"raw_text": "x", "contact_phone": "13800138000"}, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )
    assert bad.status_code == 400
    fixed = client.post(
        FEEDBACK, {"raw_text": "x", "contact_phone": "010-88886666"}, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )
    assert fixed.status_code == 201 and "Idempotent-Replayed" not in fixed


@pytest.mark.parametrize("key", ["", "含中文", "x" * 256, "has space"])
def test_malformed_keys_are_refused(ticket_channel, channel_client, key):
    response = channel_client(ticket_channel[1]).post(FEEDBACK, BODY, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 400 and "Idempotency-Key" in response.json()
    assert not Feedback.objects.exists()


def test_staff_calls_are_idempotent_too(users, staff_client):
    client = staff_client(users["service"])
    body = {"channel": "after_sales", "raw_text": "售后反馈：安装指引不清楚"}
    first = client.post(FEEDBACK, body, format="json", HTTP_IDEMPOTENCY_KEY="s-1")
    again = client.post(FEEDBACK, body, format="json", HTTP_IDEMPOTENCY_KEY="s-1")
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"] and again["Idempotent-Replayed"] == "true"
    assert Feedback.objects.count() == 1
    assert IdempotencyRecord.objects.get().scope == f"user:{users['service'].pk}"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks on the unique index need PostgreSQL")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_calls_with_one_key_create_one_item(users, make_channel, monkeypatch):
    """Two requests with the same key at the same time: the second blocks on the key's unique index
    until the first commits, then replays the first response."""
    import needpool.intake.channels.api as api_channel

    _channel, token = channel_token_rotate(actor=users["admin"], channel=make_channel(slug="race", kind="ticket"))
    original = api_channel.channel_feedback_submit
    first_inside = threading.Event()
    saw_waiter: list[bool] = []

    def slow_first(**kwargs):
        if not first_inside.is_set():
            first_inside.set()
            # Hold the first transaction open until the second request waits on the key's row lock
            # (bounded: if it never comes, carry on and let the assertions below tell).
            with connection.cursor() as cursor:
                for _attempt in range(200):
                    cursor.execute("SELECT pg_stat_clear_snapshot()")  # activity is snapshotted per transaction
                    cursor.execute(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                        "AND datname = current_database()"
                    )
                    if cursor.fetchone()[0]:
                        saw_waiter.append(True)
                        break
                    time.sleep(0.05)
        return original(**kwargs)

    monkeypatch.setattr(api_channel, "channel_feedback_submit", slow_first)
    responses: dict[str, object] = {}

    def call(name: str) -> None:
        try:
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
            responses[name] = client.post(FEEDBACK, BODY, format="json", HTTP_IDEMPOTENCY_KEY="same-key")
        finally:
            connections.close_all()

    first = threading.Thread(target=call, args=("first",))
    first.start()
    assert first_inside.wait(timeout=30)
    second = threading.Thread(target=call, args=("second",))
    second.start()
    first.join(timeout=60)
    second.join(timeout=60)

    assert saw_waiter == [True]  # the second request really ran concurrently and blocked
    one, two = responses["first"], responses["second"]
    assert one.status_code == two.status_code == 201  # type: ignore[attr-defined]
    assert one.json()["id"] == two.json()["id"]  # type: ignore[attr-defined]
    assert two["Idempotent-Replayed"] == "true"  # type: ignore[index]
    assert Feedback.objects.count() == 1 and Submission.objects.count() == 1
