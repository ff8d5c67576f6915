"""The report slices on the requirement list (page and API): team, segment, industry, channel, status category,
value tier, resolved, overdue and analysis project — the parameters a dashboard number links with.

Over the shared ``pool``: r1 (customer A 普通 互联网, owner sales of 销售一部, new, expected 2024-06-30),
r2 (customer B 潜力 制造, owner product manager, in progress, expected 2024-09-01), r3 (no customer, owner
product manager, new, no expected date). Here r3 also gets a feedback from the 工单 channel and is launched.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse

from needpool.accounts.models import Team, User
from needpool.analysis.services.projects import project_create
from needpool.requirements.filters import RequirementFilter
from needpool.requirements.models import Feedback, Requirement, WorkflowStatus
from needpool.requirements.selectors import requirement_list
from tests.conftest import count_queries

API = "/api/v1/requirements/"


@pytest.fixture
def sliced_pool(pool: dict[str, Requirement], users: dict[str, User]) -> dict[str, Any]:
    r1, r2, r3 = pool["r1"], pool["r2"], pool["r3"]
    Feedback.objects.create(channel="ticket", raw_text="配色问题", received_at=r3.submitted_at, requirement=r3)
    Requirement.objects.filter(pk=r1.pk).update(customer_value="high")
    Requirement.objects.filter(pk=r2.pk).update(customer_value="medium")
    Requirement.objects.filter(pk=r3.pk).update(
        status=WorkflowStatus.objects.get(workflow__is_active=True, key="launched")
    )
    project = project_create(
        actor=users["product_manager"],
        name="潜力客户专项",
        goal="看潜力客户的需求",
        leader=users["product_manager"],
        start_date=dt.date(2024, 1, 1),
        end_date=dt.date(2024, 12, 31),
        scope={"segments": ["potential"]},
    )
    return {**pool, "team": Team.objects.get(name="销售一部"), "project": project}


CASES = [
    ({"team": "team"}, {"r1"}),
    ({"segment": "potential"}, {"r2"}),
    ({"segment": "normal"}, {"r1"}),
    ({"segment": "high_value"}, set()),
    ({"industry": "制造"}, {"r2"}),
    ({"industry": "互联网"}, {"r1"}),
    ({"channel": "ticket"}, {"r3"}),
    ({"channel": "sales"}, {"r1", "r2", "r3"}),
    ({"status_category": "active"}, {"r2"}),
    ({"status_category": "new"}, {"r1"}),
    ({"status_category": "done"}, {"r3"}),
    ({"value_tier": "high"}, {"r1"}),
    ({"value_tier": "medium"}, {"r2"}),
    ({"resolved": "true"}, {"r3"}),
    ({"resolved": "false"}, {"r1", "r2"}),
    ({"overdue": "true"}, {"r1", "r2"}),  # open and past the expected date
    ({"overdue": "false"}, {"r3"}),
    ({"project": "project"}, {"r2"}),
    ({"segment": "potential", "overdue": "true", "status": "in_progress"}, {"r2"}),
    ({"industry": "互联网", "resolved": "true"}, set()),
]


def _params(params: dict[str, str], data: dict[str, Any]) -> dict[str, Any]:
    return {k: (data[v].pk if v in ("team", "project") else v) for k, v in params.items()}


@pytest.mark.parametrize(("params", "expected"), CASES)
def test_each_report_filter_on_the_api(api: Any, users: dict[str, User], sliced_pool: dict[str, Any], params, expected):
    response = api(users["manager"]).get(API, _params(params, sliced_pool))
    assert response.status_code == 200, response.json()
    assert {row["code"] for row in response.json()["results"]} == {sliced_pool[k].code for k in expected}


PAGE_CASES = [case for case in CASES if "project" not in case[0]]


@pytest.mark.parametrize(("params", "expected"), PAGE_CASES)
def test_each_report_filter_on_the_page(client, users: dict[str, User], sliced_pool: dict[str, Any], params, expected):
    client.force_login(users["manager"])
    response = client.get(reverse("requirements:list"), _params(params, sliced_pool))
    assert response.status_code == 200
    shown = {r.code for r in response.context["page_obj"].object_list}
    assert shown == {sliced_pool[k].code for k in expected}


def test_team_follows_the_owners_current_team(api: Any, users: dict[str, User], sliced_pool: dict[str, Any]) -> None:
    moved = Team.objects.create(name="产品部")
    User.objects.filter(pk=users["product_manager"].pk).update(team=moved)
    response = api(users["manager"]).get(API, {"team": moved.pk})
    assert {row["code"] for row in response.json()["results"]} == {sliced_pool["r2"].code, sliced_pool["r3"].code}


def test_a_deleted_feedback_does_not_place_a_requirement(
    api: Any, users: dict[str, User], sliced_pool: dict[str, Any]
) -> None:
    Feedback.objects.filter(requirement=sliced_pool["r3"], channel="ticket").update(deleted_at=dt.datetime.now(dt.UTC))
    response = api(users["manager"]).get(API, {"channel": "ticket"})
    assert response.json()["count"] == 0


def test_project_is_the_readers_project(api: Any, users: dict[str, User], sliced_pool: dict[str, Any]) -> None:
    """A project the reader cannot open narrows to nothing (its scope is not revealed through the list)."""
    project = sliced_pool["project"].pk
    assert api(users["product_manager"]).get(API, {"project": project}).json()["count"] == 1
    assert api(users["sales"]).get(API, {"project": project}).json()["count"] == 0
    assert api(users["manager"]).get(API, {"project": 99999}).json()["count"] == 0


def test_project_on_the_page(client, users: dict[str, User], sliced_pool: dict[str, Any]) -> None:
    client.force_login(users["manager"])
    response = client.get(reverse("requirements:list"), {"project": sliced_pool["project"].pk})
    assert {r.code for r in response.context["page_obj"].object_list} == {sliced_pool["r2"].code}


def test_project_with_the_reader_given_to_the_filterset(users: dict[str, User], sliced_pool: dict[str, Any]) -> None:
    project = sliced_pool["project"].pk
    qs = Requirement.objects.all()
    assert set(RequirementFilter({"project": project}, queryset=qs, user=users["manager"]).qs) == {sliced_pool["r2"]}
    assert list(RequirementFilter({"project": project}, queryset=qs).qs) == []  # no reader: nothing


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"segment": "vip"}, "segment"),
        ({"channel": "pigeon"}, "channel"),
        ({"status_category": "open"}, "status_category"),
        ({"value_tier": "gold"}, "value_tier"),
        ({"team": "abc"}, "team"),
        ({"team": "99999999999999999999"}, "team"),
        ({"project": "-1"}, "project"),
        ({"industry": "行" * 61}, "industry"),
    ],
)
def test_bad_report_filter_values_are_refused_with_a_message(
    api: Any, users: dict[str, User], sliced_pool: dict[str, Any], params: dict[str, str], field: str
) -> None:
    response = api(users["manager"]).get(API, params)
    assert response.status_code == 400
    body = response.json()
    assert field in str(body)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in str(body)), body  # a Chinese message
    # the page shows no rows rather than guessing
    assert requirement_list(user=users["manager"], filters=params).count() == 0


def test_list_query_count_with_every_report_filter_is_constant(
    client,
    api: Any,
    users: dict[str, User],
    make_requirements: Any,
    sliced_pool: dict[str, Any],
    django_assert_max_num_queries,
) -> None:
    client.force_login(users["product_manager"])
    query = (
        f"?team={sliced_pool['team'].pk}&segment=normal&industry=制造&channel=sales&status_category=new"
        "&value_tier=high&resolved=false&overdue=false"
    )
    url = reverse("requirements:list") + query
    make_requirements(4)
    client.get(url)
    few = count_queries(client, url)
    make_requirements(20)
    assert count_queries(client, url) == few
    with django_assert_max_num_queries(20):
        client.get(url)
    reader = api(users["product_manager"])
    reader.get(API + query)
    few_api = count_queries(reader, API + query)
    make_requirements(10)
    assert count_queries(reader, API + query) == few_api
    with django_assert_max_num_queries(20):
        reader.get(API + query + f"&project={sliced_pool['project'].pk}")
