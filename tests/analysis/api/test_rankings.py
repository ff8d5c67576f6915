"""Pool-wide analysis views over the API: the ranked list, the matrix, the demand ranking; query counts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from needpool.analysis.services import analysis_update, priority_override
from needpool.requirements.models import Feedback
from tests.analysis.api.conftest import assert_constant_queries, req_url

RANKED = "/api/v1/analysis/ranked/"
MATRIX = "/api/v1/analysis/matrix/"
DEMAND = "/api/v1/analysis/demand/"


@pytest.fixture
def ranked_pool(users, pool):
    """r1 scored P0 (urgent and important), r3 overridden to P1 over a computed P3, r2 P0 set by hand."""
    pm = users["product_manager"]
    analysis_update(actor=pm, requirement=pool["r1"], urgency_score=5, importance_score=5, value_score=4, cost_score=2)
    analysis_update(actor=pm, requirement=pool["r3"], urgency_score=1, importance_score=2)
    priority_override(actor=pm, requirement=pool["r3"], priority="P1", reason="体验专项")
    return pool


def codes(body):
    return [row["code"] for row in body["results"]]


# ---------------------------------------------------------------- ranked


def test_ranked_explains_each_place(api, users, ranked_pool):
    r1, r2, r3 = ranked_pool["r1"], ranked_pool["r2"], ranked_pool["r3"]
    body = api(users["viewer"]).get(RANKED).json()
    assert codes(body) == [r1.code, r2.code, r3.code]
    first, second, third = body["results"]
    assert first["priority"] == "P0"
    assert first["computed_model"] == "matrix"
    assert first["computed_score"] == 100.0
    assert first["parts"] == {"urgency": 5.0, "importance": 5.0, "cutoff": 3, "urgent": True, "important": True}
    assert first["status"]["key"] == "new"
    assert second["priority"] == "P0"
    assert second["computed_score"] is None
    assert second["parts"] is None
    assert third["priority"] == "P1"
    assert third["computed_priority"] == "P3"
    assert third["override_priority"] == "P1"
    assert third["override_reason"] == "体验专项"


def test_ranked_takes_the_requirement_list_filters(api, users, ranked_pool, customer_b):
    client = api(users["manager"])
    assert codes(client.get(RANKED, {"priority": "P1"}).json()) == [ranked_pool["r3"].code]
    assert codes(client.get(RANKED, {"customer": customer_b.pk}).json()) == [ranked_pool["r2"].code]
    assert codes(client.get(RANKED, {"q": ranked_pool["r1"].code}).json()) == [ranked_pool["r1"].code]
    page = client.get(RANKED, {"page_size": 1, "page": 2}).json()
    assert page["count"] == 3
    assert codes(page) == [ranked_pool["r2"].code]


def test_ranked_leaves_out_rejected_and_merged_requirements(api, users, ranked_pool):
    from needpool.requirements.models import Requirement
    from needpool.requirements.services import requirement_transition

    r1, r2, r3 = ranked_pool["r1"], ranked_pool["r2"], ranked_pool["r3"]
    requirement_transition(actor=users["product_manager"], requirement=r2, to="rejected")
    Requirement.objects.filter(pk=r3.pk).update(merged_into=r1)
    client = api(users["manager"])
    assert codes(client.get(RANKED).json()) == [r1.code]
    assert codes(client.get(RANKED, {"status": "rejected"}).json()) == []


def test_ranked_refuses_bad_filters(api, users, ranked_pool):
    response = api(users["manager"]).get(RANKED, {"priority": "P9"})
    assert response.status_code == 400
    assert "priority" in response.json()


def test_ranked_shows_only_what_the_caller_sees(api, users, other_sales, ranked_pool):
    assert codes(api(users["sales"]).get(RANKED).json()) == [ranked_pool["r1"].code]
    assert codes(api(other_sales).get(RANKED).json()) == []


# ---------------------------------------------------------------- matrix


def test_matrix_points(api, users, ranked_pool):
    r1, r3 = ranked_pool["r1"], ranked_pool["r3"]
    api(users["engineer"]).put(req_url(r1, "analysis/feasibility/"), {"effort_days": 8}, format="json")
    body = api(users["viewer"]).get(MATRIX).json()
    assert body["cutoff"] == 3
    points = {p["code"]: p for p in body["points"]}
    assert set(points) == {r1.code, r3.code}
    assert points[r1.code] | {"id": None} == {
        "id": None,
        "code": r1.code,
        "title": r1.title,
        "priority": "P0",
        "urgency": 5,
        "importance": 5,
        "value": 4,
        "cost": 2,
        "effort": None,
    }
    assert points[r3.code]["priority"] == "P1"
    assert body["value_effort"] == [
        {"id": r1.pk, "code": r1.code, "title": r1.title, "priority": "P0", "value": 4, "effort": 8.0}
    ]


def test_matrix_shows_only_what_the_caller_sees(api, users, other_sales, ranked_pool):
    assert [p["code"] for p in api(users["sales"]).get(MATRIX).json()["points"]] == [ranked_pool["r1"].code]
    assert api(other_sales).get(MATRIX).json()["points"] == []


# ---------------------------------------------------------------- demand


def test_demand_ranking(api, users, ranked_pool, customer, customer_b):
    from needpool.requirements.services import feedback_create

    r1, r2 = ranked_pool["r1"], ranked_pool["r2"]
    feedback_create(actor=users["manager"], raw_text="也要", channel="ticket", customer=customer_b, requirement=r1)
    Feedback.objects.filter(requirement=r2).update(importance=3)
    body = api(users["manager"]).get(DEMAND).json()
    rows = [(r["code"], r["demand"], r["customers"]) for r in body["results"]]
    # r1: A high (3×1) + B low (1×1); r2: B low (1×3)
    assert rows == [(r1.code, 4, 2), (r2.code, 3, 1)]
    assert body["results"][0]["status"]["key"] == "new"
    assert body["results"][0]["priority"] == "P0"
    assert len(api(users["manager"]).get(DEMAND, {"limit": 1}).json()["results"]) == 1


@pytest.mark.parametrize("limit", ["0", "201", "多"])
def test_demand_ranking_refuses_bad_limits(api, users, limit):
    response = api(users["manager"]).get(DEMAND, {"limit": limit})
    assert response.status_code == 400
    assert "limit" in response.json()


def test_demand_ranking_shows_only_what_the_caller_sees(api, users, other_sales, ranked_pool):
    assert [r["code"] for r in api(users["sales"]).get(DEMAND).json()["results"]] == [ranked_pool["r1"].code]
    assert api(other_sales).get(DEMAND).json()["results"] == []


# ---------------------------------------------------------------- query counts


@pytest.fixture
def add_scored(users, customer):
    """Adds requirements of the sales user's customer, each scored and with a second feedback item."""
    from needpool.customers.services import customer_create
    from needpool.requirements.services import feedback_create, requirement_create

    second = customer_create(actor=users["sales"], name="第二家客户", yearly_purchase=2_000_000, owner=users["sales"])
    made: list = []

    def add(n: int) -> None:
        for _ in range(n):
            i = len(made)
            req = requirement_create(
                actor=users["sales"],
                customer=customer,
                title=f"批量需求{i}",
                submitted_at=timezone.now() - dt.timedelta(minutes=i),
            )
            feedback_create(
                actor=users["sales"], raw_text="同样的诉求", channel="ticket", customer=second, requirement=req
            )
            analysis_update(
                actor=users["product_manager"],
                requirement=req,
                urgency_score=1 + i % 5,
                importance_score=5 - i % 5,
                value_score=3,
                cost_score=2,
            )
            if i % 3 == 0:
                priority_override(actor=users["product_manager"], requirement=req, priority="P0", reason="重点")
            made.append(req)

    return add


@pytest.mark.parametrize("role", ["manager", "sales"])
@pytest.mark.parametrize(
    ("url", "rows"),
    [
        (RANKED, lambda body: len(body["results"])),
        (MATRIX, lambda body: len(body["points"])),
        (DEMAND, lambda body: len(body["results"])),
    ],
    ids=["ranked", "matrix", "demand"],
)
def test_lists_do_not_grow_queries_with_rows(api, users, add_scored, django_assert_max_num_queries, role, url, rows):
    client = api(users[role])
    count = assert_constant_queries(client, url, add_scored, rows, params={"page_size": 50})
    with django_assert_max_num_queries(8):
        client.get(url, {"page_size": 50})
    assert count <= 8
