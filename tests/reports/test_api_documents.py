"""The customer, analysis-project and monthly-review documents as JSON: the same builders as the pages, the same
scope (another team's customer is 404, a month's review without the whole team's view 403, a bad month 400)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from needpool.analysis.services.projects import project_create


def _figures(body: dict[str, Any]) -> dict[str, Any]:
    return {b["key"]: b["value"] for s in body["sections"] for b in s["blocks"] if b["type"] == "figure"}


def test_a_customer_report_for_its_owner_and_404_for_another_team(
    api, users, customer, requirement, other_sales
) -> None:
    url = f"/api/v1/reports/customers/{customer.pk}/"
    body = api(users["sales"]).get(url).json()
    assert body["kind"] == "customer"
    assert requirement.code in str(body["sections"])
    assert api(other_sales).get(url).status_code == 404
    assert api(None).get(url).status_code in (401, 403)
    assert api(users["sales"]).get("/api/v1/reports/customers/999999/").status_code == 404


def test_a_project_report_counts_its_scope(api, users, requirement, customer_b) -> None:
    project = project_create(
        actor=users["product_manager"],
        name="互联网客户专项",
        goal="看互联网客户的需求",
        leader=users["product_manager"],
        start_date=dt.date(2020, 1, 1),
        end_date=timezone.localdate(),
        scope={"industries": ["互联网"]},
    )
    response = api(users["product_manager"]).get(f"/api/v1/reports/projects/{project.pk}/")
    assert response.status_code == 200, response.content
    assert response.json()["kind"] == "project"
    assert _figures(response.json())["total"] == 1  # the requirement of A科技公司 (互联网), not B制造企业's
    assert api(users["product_manager"]).get("/api/v1/reports/projects/999999/").status_code == 404


@pytest.mark.parametrize(("who", "month", "status"), [("manager", "last", 200), ("sales", "last", 403)])
def test_a_months_review_needs_the_whole_team_view(api, users, requirement, who, month, status) -> None:
    first = timezone.localdate().replace(day=1) - dt.timedelta(days=1)
    response = api(users[who]).get(f"/api/v1/reports/monthly/{first:%Y-%m}/")
    assert response.status_code == status
    if status == 200:
        assert response.json()["kind"] == "monthly"


@pytest.mark.parametrize("month", ["2026-13", "20-11", "next", "2999-01"])
def test_a_bad_or_future_month_is_400_in_chinese(api, users, month) -> None:
    response = api(users["manager"]).get(f"/api/v1/reports/monthly/{month}/")
    assert response.status_code == 400
    assert any("\u4e00" <= ch <= "\u9fff" for ch in str(response.json()))
