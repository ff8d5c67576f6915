"""The 仪表盘 page: the filter bar (choices limited to what the reader may pick, Chinese messages, no numbers on
bad input), the document it shows, ``build_from_query`` for the exports, and its query count."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from needpool.accounts.models import Team
from needpool.reports import metrics
from needpool.reports.dashboard_views import build_from_query
from needpool.reports.filters import ReportFilters
from tests.reports.sample_report import sample_report

URL = "/reports/"
ROLES = ["admin", "manager", "product_manager", "sales", "service", "engineer", "compliance", "viewer"]


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """metrics.dashboard replaced by the hand-built report; each call's arguments recorded."""
    made: list[dict[str, Any]] = []

    def fake(*, user: Any, filters: ReportFilters, now: dt.datetime | None = None) -> Any:
        made.append({"user": user, "filters": filters, "now": now})
        return sample_report()

    monkeypatch.setattr(metrics, "dashboard", fake)
    return made


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def project(users: dict[str, Any]) -> Any:
    from needpool.analysis.services import project_create

    return project_create(
        actor=users["manager"],
        name="折扣规则分析",
        goal="梳理批量折扣",
        leader=users["manager"],
        start_date=dt.date(2026, 1, 1),
        end_date=dt.date(2026, 12, 31),
    )


def test_the_url_is_the_dashboard():
    assert reverse("reports:dashboard") == URL


def test_signed_out_is_sent_to_sign_in(db, calls):
    response = Client().get(URL)
    assert response.status_code == 302 and "/login" in response["Location"]
    assert calls == []


def test_shows_the_document_for_the_default_period(users, calls):
    response = client_for(users["sales"]).get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    today = timezone.localdate()
    [call] = calls
    assert call["user"] == users["sales"]
    assert call["filters"] == ReportFilters(start=today - dt.timedelta(days=89), end=today, grain="week")
    assert 'id="report-document"' in html
    assert '<h2 class="page-title">需求仪表盘</h2>' in html
    assert "report-title" not in html  # the header already shows it
    assert 'id="figure-overview-fulfilment_rate"' in html
    assert 'id="chart-distribution-by_type"' in html
    assert "数据截至" in html
    assert 'id="report-filter-errors"' not in html


def test_the_filters_reach_the_builder(users, calls, team, customer, project):
    query = {
        "start": "2026-11-01",
        "end": "2026-11-30",
        "grain": "month",
        "team": team.pk,
        "owner": users["sales"].pk,
        "segment": "high_value",
        "industry": "互联网",
        "project": project.pk,
        "page": "3",
    }
    response = client_for(users["manager"]).get(URL, query)
    assert response.status_code == 200
    assert calls[0]["filters"] == ReportFilters(
        start=dt.date(2026, 11, 1),
        end=dt.date(2026, 11, 30),
        grain="month",
        team=team.pk,
        owner=users["sales"].pk,
        segment="high_value",
        industry="互联网",
        project=project.pk,
    )
    html = response.content.decode()
    assert 'value="2026-11-01"' in html and 'value="2026-11-30"' in html
    assert f'<option value="{team.pk}" selected>销售一部</option>' in html
    assert '<option value="high_value" selected>高价值</option>' in html
    assert 'id="report-more-filters"' in html and 'class="collapse show" id="report-more-filters"' in html
    assert '<option value="互联网"></option>' in html  # industries of the customers the reader sees


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"start": "2026-12-01", "end": "2026-11-01"}, None, "开始日期不能晚于结束日期。"),
        ({"start": "2026-13-01"}, "start", "有效"),
        ({"end": "9999-12-31"}, "end", "日期须在 1970-01-01 至 2099-12-31 之间。"),
        ({"start": "2000-01-01", "end": "2026-01-01"}, None, "统计期间最长十年，请缩短期间。"),
        ({"grain": "day"}, "grain", "选择"),
        ({"team": "999999"}, "team", "该团队不存在，请从列表中选择。"),
        ({"owner": "abc"}, "owner", "整数"),
        ({"segment": "vip"}, "segment", "选择"),
        ({"project": "0"}, "project", "1"),
    ],
)
def test_bad_input_shows_the_message_and_no_numbers(users, calls, query, field, message):
    response = client_for(users["manager"]).get(URL, query)
    assert response.status_code == 200
    html = response.content.decode()
    assert calls == []
    assert 'id="report-document"' not in html and "report-figure" not in html
    assert 'id="report-filter-errors"' in html
    assert message in html
    if field:
        assert f'id="id_{field}_error"' in html


def test_an_inactive_owner_is_not_offered_and_refused(users, calls, make_user):
    gone = make_user("sales", username="gone", is_active=False)
    html = client_for(users["manager"]).get(URL).content.decode()
    assert f'<option value="{users["sales"].pk}">' in html
    assert f'<option value="{gone.pk}">' not in html
    calls.clear()
    response = client_for(users["manager"]).get(URL, {"owner": gone.pk})
    assert "该负责人不存在或已停用，请从列表中选择。" in response.content.decode()
    assert calls == []


def test_a_project_the_reader_cannot_see_is_neither_offered_nor_accepted(users, calls, project):
    sales = client_for(users["sales"])
    html = sales.get(URL).content.decode()
    assert "折扣规则分析" not in html
    calls.clear()
    response = sales.get(URL, {"project": project.pk})
    assert "该分析项目不存在或您无权查看，请从列表中选择。" in response.content.decode()
    assert calls == []
    manager = client_for(users["manager"]).get(URL).content.decode()
    assert f'<option value="{project.pk}">折扣规则分析</option>' in manager


def test_every_team_is_offered(users, calls, team):
    Team.objects.create(name="华东销售部")
    html = client_for(users["sales"]).get(URL).content.decode()
    assert f'<option value="{team.pk}">销售一部</option>' in html
    assert "华东销售部</option>" in html


def test_query_count_is_bounded(users, calls, team, customer, project, django_assert_max_num_queries, make_user):
    for i in range(5):
        make_user("sales", username=f"s{i}", team=Team.objects.create(name=f"团队{i}"))
    client = client_for(users["manager"])
    client.get(URL)  # warm caches (session, site config)
    with django_assert_max_num_queries(12):
        response = client.get(URL, {"team": team.pk, "project": project.pk})
    assert response.status_code == 200


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(role=st.sampled_from(ROLES), member=st.booleans())
def test_a_project_is_offered_and_accepted_exactly_when_the_reader_sees_it(users, calls, project, role, member):
    from needpool.analysis.models import ProjectMember
    from needpool.analysis.permissions import visible_projects

    reader = users[role]
    ProjectMember.objects.filter(project=project, user=reader).delete()
    if member and reader != project.leader:
        ProjectMember.objects.create(project=project, user=reader, duty="分析")
    sees = visible_projects(reader).filter(pk=project.pk).exists()
    client = client_for(reader)
    offered = f'<option value="{project.pk}">折扣规则分析</option>' in client.get(URL).content.decode()
    calls.clear()
    refused = "该分析项目不存在或您无权查看" in client.get(URL, {"project": project.pk}).content.decode()
    assert offered == sees
    assert refused == (not sees)
    assert bool(calls) == sees


# ---------------------------------------------------------------- build_from_query (the exports)


def test_build_from_query_returns_the_report(users, calls):
    report = build_from_query(users["sales"], {"start": "2026-11-01", "end": "2026-11-30"})
    assert report.title == "需求仪表盘"
    assert calls[0]["filters"].start == dt.date(2026, 11, 1)
    assert calls[0]["filters"].grain == "week"


def test_build_from_query_refuses_bad_input(users, calls):
    with pytest.raises(ValidationError) as caught:
        build_from_query(users["sales"], {"start": "2026-12-01", "end": "2026-11-01", "team": "999999"})
    errors = caught.value.message_dict
    assert errors["__all__"] == ["开始日期不能晚于结束日期。"]
    assert errors["team"] == ["该团队不存在，请从列表中选择。"]
    assert calls == []


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(
    query=st.dictionaries(
        st.sampled_from(["start", "end", "grain", "team", "owner", "segment", "industry", "project"]),
        st.one_of(
            st.text(max_size=12),
            st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)).map(dt.date.isoformat),
            st.integers(min_value=-(2**63), max_value=2**63).map(str),
        ),
    )
)
def test_any_query_is_a_report_or_a_clear_refusal(users, calls, query):
    """Whatever the query: either a report whose period is valid (start ≤ end, at most ten years), or a refusal
    naming fields, never a crash."""
    calls.clear()
    try:
        build_from_query(users["sales"], query)
    except ValidationError as refused:
        assert refused.message_dict and calls == []
        return
    filters = calls[0]["filters"]
    assert filters.start <= filters.end
    assert (filters.end - filters.start).days < 3660
    assert filters.grain in ("week", "month")


# ---------------------------------------------------------------- with the real dashboard


@pytest.fixture
def november(users: dict[str, Any], customer: Any, customer_b: Any) -> dict[str, Any]:
    """Three 功能优化 and one 服务 requirement submitted in November 2026, one 服务 in October."""
    from needpool.requirements.services import requirement_create
    from tests.conftest import option

    def make(title: str, type_key: str, day: dt.date, on: Any) -> Any:
        return requirement_create(
            actor=users["manager"],
            customer=on,
            title=title,
            type=option("type", type_key),
            submitted_at=dt.datetime.combine(day, dt.time(10), tzinfo=timezone.get_current_timezone()),
        )

    made = [
        make("批量折扣规则", "function_improvement", dt.date(2026, 11, 3), customer),
        make("报表导出 Excel", "function_improvement", dt.date(2026, 11, 12), customer),
        make("订单批量导入", "function_improvement", dt.date(2026, 11, 29), customer_b),
        make("交付速度慢", "service", dt.date(2026, 11, 20), customer_b),
        make("十月的投诉", "service", dt.date(2026, 10, 31), customer_b),
    ]
    return {"requirements": made}


def chart_data(html: str, element_id: str) -> dict[str, Any]:
    import json
    import re

    found = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', html, re.S)
    assert found, element_id
    return json.loads(found.group(1))


def test_the_real_dashboard_counts_the_period(users, november):
    response = client_for(users["manager"]).get(URL, {"start": "2026-11-01", "end": "2026-11-30"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="report-document"' in html
    by_type = chart_data(html, "chart-data-distributions-type")
    counts = dict(zip(by_type["categories"], by_type["series"][0]["values"], strict=True))
    assert counts == {"功能优化": 3, "服务": 1}
    href = by_type["hrefs"][by_type["categories"].index("服务")]
    assert "type=service" in href and "submitted_after=2026-11-01" in href and "submitted_before=2026-11-30" in href
    assert "期间 2026-11-01 至 2026-11-30" in html or "2026-11-01" in html


def test_the_real_dashboard_page_query_count(
    users, november, team, monkeypatch, django_assert_max_num_queries, make_user
):
    """The page's own queries (session, user, the filter menus, the nav) stay few beside the dashboard's; more
    teams, users and rows add none."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for i in range(5):
        make_user("sales", username=f"s{i}", team=Team.objects.create(name=f"团队{i}"))
    real = metrics.dashboard
    counted: list[int] = []

    def counting(**kwargs: Any) -> Any:
        with CaptureQueriesContext(connection) as inner:
            report = real(**kwargs)
        counted.append(len(inner.captured_queries))
        return report

    monkeypatch.setattr(metrics, "dashboard", counting)
    client = client_for(users["manager"])
    client.get(URL)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(URL, {"start": "2026-11-01", "end": "2026-11-30", "team": team.pk})
    assert response.status_code == 200
    own = len(ctx.captured_queries) - counted[-1]
    assert own <= 10, own
    with django_assert_max_num_queries(counted[-1] + 10):
        client.get(URL, {"start": "2026-11-01", "end": "2026-11-30", "team": team.pk})
