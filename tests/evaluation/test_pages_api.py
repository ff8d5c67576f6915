"""Evaluation pages and API: lists are paginated with bounded queries, the form fills it in, the requirement
page shows the section, permissions per role, bad input is 400 and never 500."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from needpool.accounts.roles import Role
from needpool.evaluation.models import Evaluation
from needpool.requirements.models import StatusChange
from tests.conftest import PASSWORD, count_queries
from tests.evaluation.helpers import launch

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def evaluation(users: dict[str, Any], requirement: Any, django_capture_on_commit_callbacks: Any) -> Evaluation:
    requirement.owner = users["sales"]
    requirement.save(update_fields=["owner"])
    with django_capture_on_commit_callbacks(execute=True):
        launch(requirement, users["admin"])
    return Evaluation.objects.get(requirement=requirement)


def make_evaluations(n: int, owner: Any, make_requirements: Any) -> list[Evaluation]:
    made = []
    for requirement in make_requirements(n, prefix="评估"):
        change = StatusChange.objects.create(
            requirement=requirement, source=requirement.status, target=requirement.status, note=""
        )
        made.append(
            Evaluation.objects.create(
                requirement=requirement,
                launch=change,
                launched_at=timezone.now(),
                owner=owner,
                due_date=timezone.localdate() + dt.timedelta(days=14),
            )
        )
    return made


def test_my_evaluations_lists_the_owners_own(evaluation: Evaluation, users: Any) -> None:
    html = client_for(users["sales"]).get(reverse("evaluation:mine")).content.decode()
    assert evaluation.requirement.code in html
    assert (
        evaluation.requirement.code not in client_for(users["manager"]).get(reverse("evaluation:mine")).content.decode()
    )
    assert evaluation.requirement.code in client_for(users["manager"]).get(reverse("evaluation:list")).content.decode()


def test_all_evaluations_is_for_people_closing_the_loop(users: Any) -> None:
    assert client_for(users["sales"]).get(reverse("evaluation:list")).status_code == 403
    assert client_for(users["viewer"]).get(reverse("evaluation:list")).status_code == 403
    assert client_for(users["product_manager"]).get(reverse("evaluation:list")).status_code == 200


@pytest.mark.parametrize("url_name", ["evaluation:mine", "evaluation:list"])
def test_evaluation_lists_are_paginated_with_bounded_queries(users: Any, make_requirements: Any, url_name: str) -> None:
    owner = users["admin"]
    make_evaluations(3, owner, make_requirements)
    client = client_for(owner)
    few = count_queries(client, reverse(url_name))
    make_evaluations(30, owner, make_requirements)
    assert count_queries(client, reverse(url_name)) == few
    html = client.get(reverse(url_name)).content.decode()
    assert html.count('class="evaluation-row"') == 25
    assert client.get(reverse(url_name) + "?page=2").content.decode().count('class="evaluation-row"') == 8


def test_the_owner_fills_in_the_evaluation_on_its_form(evaluation: Evaluation, users: Any) -> None:
    client = client_for(users["sales"])
    url = reverse("evaluation:edit", args=[evaluation.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "met": "yes",
            "actual": "40%",
            "ease_of_use": "5",
            "complaint_drop_pct": "30",
            "notes": "好用",
            "version": "1",
        },
    )
    assert response.status_code == 302
    evaluation.refresh_from_db()
    assert (evaluation.met, evaluation.ease_of_use, evaluation.completed_by) == ("yes", 5, users["sales"])


def test_the_form_refuses_bad_input_in_chinese_and_writes_nothing(evaluation: Evaluation, users: Any) -> None:
    client = client_for(users["sales"])
    response = client.post(reverse("evaluation:edit", args=[evaluation.pk]), {"met": "", "ease_of_use": "9"})
    assert response.status_code == 200 and "未保存" in response.content.decode()
    evaluation.refresh_from_db()
    assert evaluation.completed_at is None


def test_a_stale_form_is_refused(evaluation: Evaluation, users: Any) -> None:
    client = client_for(users["sales"])
    url = reverse("evaluation:edit", args=[evaluation.pk])
    assert client.post(url, {"met": "yes", "version": "1"}).status_code == 302
    response = client.post(url, {"met": "no", "version": "1"})
    assert response.status_code == 200 and "他人修改" in response.content.decode()
    evaluation.refresh_from_db()
    assert evaluation.met == "yes"


def test_who_may_not_see_the_requirement_gets_404(evaluation: Evaluation, other_sales: Any) -> None:
    client = client_for(other_sales)
    assert client.get(reverse("evaluation:edit", args=[evaluation.pk])).status_code == 404
    assert client.post(reverse("evaluation:edit", args=[evaluation.pk]), {"met": "yes"}).status_code == 404


def test_a_viewer_sees_the_evaluation_but_may_not_post(evaluation: Evaluation, users: Any) -> None:
    client = client_for(users["viewer"])
    url = reverse("evaluation:edit", args=[evaluation.pk])
    assert client.get(url).status_code == 200
    assert client.post(url, {"met": "yes"}).status_code == 403


def test_the_requirement_page_shows_the_evaluation_section(evaluation: Evaluation, users: Any) -> None:
    html = client_for(users["sales"]).get(reverse("requirements:detail", args=[evaluation.requirement_id])).content
    assert b'id="section-evaluation"' in html and reverse("evaluation:edit", args=[evaluation.pk]).encode() in html
    dossier = client_for(users["sales"]).get(reverse("dossier:requirement", args=[evaluation.requirement_id])).content
    assert b'id="section-evaluation"' in dossier


def test_the_settings_page_is_for_admins(users: Any) -> None:
    assert client_for(users["manager"]).get(reverse("evaluation:settings")).status_code == 403
    client = client_for(users["admin"])
    assert client.post(reverse("evaluation:settings"), {"delay_days": "10"}).status_code == 302
    assert client.post(reverse("evaluation:settings"), {"delay_days": "0"}).status_code == 200
    from needpool.evaluation.services import evaluation_settings

    assert evaluation_settings().delay_days == 10


# ---------------------------------------------------------------- API


def test_api_lists_and_reads_evaluations(evaluation: Evaluation, users: Any, api: Any) -> None:
    client = api(users["sales"])
    listed = client.get("/api/v1/evaluations/", {"mine": "true", "state": "open"})
    assert listed.status_code == 200 and listed.json()["results"][0]["id"] == evaluation.pk
    one = client.get(f"/api/v1/evaluations/{evaluation.pk}/")
    assert one.status_code == 200 and one.json()["met"] is None
    nested = client.get(f"/api/v1/requirements/{evaluation.requirement_id}/evaluations/")
    assert nested.status_code == 200 and nested.json()[0]["id"] == evaluation.pk


def test_api_list_query_count_is_bounded(users: Any, api: Any, make_requirements: Any) -> None:
    owner = users["admin"]
    make_evaluations(3, owner, make_requirements)
    client = api(owner)

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/api/v1/evaluations/").status_code == 200
        return len(ctx.captured_queries)

    few = queries()
    make_evaluations(20, owner, make_requirements)
    assert queries() == few


def test_api_completes_an_evaluation(evaluation: Evaluation, users: Any, api: Any) -> None:
    response = api(users["sales"]).patch(
        f"/api/v1/evaluations/{evaluation.pk}/",
        {"met": "partly", "actual": "28%", "ease_of_use": 4, "complaint_drop_pct": "12.5"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["met"] == "partly" and response.json()["completed_by"] == users["sales"].pk


@pytest.mark.parametrize(
    "body",
    [
        {"met": "maybe"},
        {"met": "yes", "ease_of_use": 6},
        {"met": "yes", "ease_of_use": "x"},
        {"met": "yes", "complaint_drop_pct": "101"},
        {"met": "yes", "complaint_drop_pct": "NaN"},
        {"met": "yes", "notes": "长" * 5001},
        {"actual": "1"},
        ["not", "an", "object"],
    ],
)
def test_api_refuses_bad_input_with_400_and_writes_nothing(
    evaluation: Evaluation, users: Any, api: Any, body: Any
) -> None:
    response = api(users["sales"]).patch(f"/api/v1/evaluations/{evaluation.pk}/", body, format="json")
    assert response.status_code == 400, response.content
    evaluation.refresh_from_db()
    assert evaluation.completed_at is None and evaluation.version == 1


@pytest.mark.parametrize("query", [{"state": "nope"}, {"mine": "maybe"}])
def test_api_refuses_bad_filters(users: Any, api: Any, query: dict[str, str]) -> None:
    assert api(users["admin"]).get("/api/v1/evaluations/", query).status_code == 400


def test_api_stale_write_is_refused_with_412(evaluation: Evaluation, users: Any, api: Any) -> None:
    client = api(users["sales"])
    url = f"/api/v1/evaluations/{evaluation.pk}/"
    read = client.get(url)
    assert read["ETag"] == 'W/"1"'
    assert client.patch(url, {"met": "yes"}, format="json", HTTP_IF_MATCH='W/"1"').status_code == 200
    stale = client.patch(url, {"met": "no"}, format="json", HTTP_IF_MATCH='W/"1"')
    assert stale.status_code == 412 and stale.json()["version"] == 2
    evaluation.refresh_from_db()
    assert evaluation.met == "yes"


@settings(max_examples=len(Role) * 2, deadline=None, suppress_health_check=list(HealthCheck))
@given(role=st.sampled_from(list(Role)), owner_is_actor=st.booleans())
def test_api_permissions_over_roles(
    evaluation: Evaluation, users: Any, api: Any, role: str, owner_is_actor: bool
) -> None:
    """Anyone who sees the requirement reads the evaluation; its owner and people closing the loop complete
    it, everyone else gets 403 before any input error."""
    actor = users[role]
    Evaluation.objects.filter(pk=evaluation.pk).update(
        owner=actor if owner_is_actor else users["admin"], completed_at=None, met="", version=1
    )
    client = api(actor)
    assert client.get(f"/api/v1/evaluations/{evaluation.pk}/").status_code == 200
    may = owner_is_actor or role in (Role.ADMIN, Role.MANAGER, Role.PRODUCT_MANAGER)
    response = client.patch(f"/api/v1/evaluations/{evaluation.pk}/", {"met": "bogus"}, format="json")
    assert response.status_code == (400 if may else 403)
    response = client.patch(f"/api/v1/evaluations/{evaluation.pk}/", {"met": "yes"}, format="json")
    assert response.status_code == (200 if may else 403)


def test_api_hides_evaluations_of_requirements_the_caller_may_not_see(
    evaluation: Evaluation, other_sales: Any, api: Any
) -> None:
    client = api(other_sales)
    assert client.get(f"/api/v1/evaluations/{evaluation.pk}/").status_code == 404
    assert client.patch(f"/api/v1/evaluations/{evaluation.pk}/", {"met": "yes"}, format="json").status_code == 404
    assert client.get(f"/api/v1/requirements/{evaluation.requirement_id}/evaluations/").status_code == 404
    assert client.get("/api/v1/evaluations/").json()["count"] == 0


def test_api_settings(users: Any, api: Any) -> None:
    assert api(users["viewer"]).get("/api/v1/evaluation/settings/").json() == {"delay_days": 14}
    assert (
        api(users["manager"]).patch("/api/v1/evaluation/settings/", {"delay_days": 7}, format="json").status_code == 403
    )
    admin = api(users["admin"])
    assert admin.patch("/api/v1/evaluation/settings/", {"delay_days": 0}, format="json").status_code == 400
    assert admin.patch("/api/v1/evaluation/settings/", {"delay_days": 7}, format="json").json() == {"delay_days": 7}


def test_evaluations_due_for_the_home_page(evaluation: Evaluation, users: Any) -> None:
    from needpool.evaluation.selectors import evaluations_due

    assert list(evaluations_due(user=users["sales"], today=evaluation.due_date - dt.timedelta(days=1))) == []
    assert list(evaluations_due(user=users["sales"], today=evaluation.due_date)) == [evaluation]
    assert list(evaluations_due(user=users["manager"], today=evaluation.due_date)) == []
