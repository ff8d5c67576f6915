"""GET /api/v1/reports/dashboard/: the dashboard document as JSON, the page's parse, 400 in the API's shape."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from needpool.reports import metrics
from needpool.reports.document import as_dict
from needpool.reports.filters import ReportFilters
from tests.reports.sample_report import sample_report

URL = "/api/v1/reports/dashboard/"


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    made: list[dict[str, Any]] = []

    def fake(*, user: Any, filters: ReportFilters, now: dt.datetime | None = None) -> Any:
        made.append({"user": user, "filters": filters})
        return sample_report()

    monkeypatch.setattr(metrics, "dashboard", fake)
    return made


def test_signed_out_is_401(db, api, calls):
    response = api().get(URL)
    assert response.status_code == 401
    assert calls == []


def test_answers_the_document(api, users, calls, team):
    response = api(users["sales"]).get(
        URL, {"start": "2026-11-01", "end": "2026-11-30", "grain": "month", "team": team.pk, "segment": "potential"}
    )
    assert response.status_code == 200, response.content
    assert response.json() == as_dict(sample_report())
    [call] = calls
    assert call["user"] == users["sales"]
    assert call["filters"] == ReportFilters(
        start=dt.date(2026, 11, 1), end=dt.date(2026, 11, 30), grain="month", team=team.pk, segment="potential"
    )


def test_bad_input_is_400_per_field_and_builds_nothing(api, users, calls):
    response = api(users["sales"]).get(URL, {"start": "2026-12-01", "end": "2026-11-01", "team": "999999"})
    assert response.status_code == 400
    assert response.json() == {
        "non_field_errors": ["开始日期不能晚于结束日期。"],
        "team": ["该团队不存在，请从列表中选择。"],
    }
    response = api(users["sales"]).get(URL, {"grain": "day", "start": "nope"})
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"grain", "start"}
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in m) for ms in body.values() for m in ms)
    assert calls == []


def test_a_project_the_caller_cannot_see_is_refused(api, users, calls):
    from needpool.analysis.services import project_create

    project = project_create(
        actor=users["manager"],
        name="折扣规则分析",
        goal="梳理",
        leader=users["manager"],
        start_date=dt.date(2026, 1, 1),
        end_date=dt.date(2026, 12, 31),
    )
    refused = api(users["sales"]).get(URL, {"project": project.pk})
    assert refused.status_code == 400 and "project" in refused.json()
    assert api(users["manager"]).get(URL, {"project": project.pk}).status_code == 200
    assert calls[0]["filters"].project == project.pk


def test_documented_in_the_schema(db):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    operation = schema["paths"]["/api/v1/reports/dashboard/"]["get"]
    assert operation["operationId"] == "reports_dashboard"
    names = {p["name"] for p in operation["parameters"]}
    assert names == {"start", "end", "grain", "team", "owner", "segment", "industry", "project"}
    assert set(operation["responses"]) >= {"200", "400", "401"}


def test_the_real_dashboard_as_json(api, users, customer, django_assert_max_num_queries):
    from django.utils import timezone

    from needpool.requirements.services import requirement_create
    from tests.conftest import option

    tz = timezone.get_current_timezone()
    made = [("批量折扣规则", "function_improvement", 3), ("交付慢", "service", 20), ("导出", "service", 21)]
    for title, key, day in made:
        requirement_create(
            actor=users["manager"],
            customer=customer,
            title=title,
            type=option("type", key),
            submitted_at=dt.datetime(2026, 11, day, 10, tzinfo=tz),
        )
    client = api(users["manager"])
    with django_assert_max_num_queries(32):  # the dashboard's 28 aggregates and the caller
        response = client.get(URL, {"start": "2026-11-01", "end": "2026-11-30"})
    assert response.status_code == 200
    body = response.json()
    assert body["kind"] == "dashboard"
    blocks = {b["key"]: b for s in body["sections"] for b in s["blocks"]}
    by_type = blocks["type"]
    assert dict(zip(by_type["categories"], by_type["series"][0]["values"], strict=True)) == {"服务": 2, "功能优化": 1}
    assert all("submitted_after=2026-11-01" in href for href in by_type["hrefs"])
