"""The dashboard document over the hand-computed November (see test_metrics): breakdowns, trends, the status
funnel with the time spent in each status, and click-through links that count what their numbers say."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from needpool.accounts.models import Team, User
from needpool.reports import metrics
from needpool.reports.document import Chart, Figure, Report, Table
from needpool.reports.filters import ReportFilters
from needpool.requirements.models import Feedback
from tests.reports import test_metrics
from tests.reports.test_metrics import NOVEMBER, NOW, at

november = test_metrics.november  # the hand-computed pool, shared as a fixture


def table_rows(report: Report, key: str) -> dict[str, list[Any]]:
    block = report.block(key)
    assert isinstance(block, Table)
    return {row[0]: row[1:] for row in block.rows}


def chart(report: Report, key: str) -> Chart:
    block = report.block(key)
    assert isinstance(block, Chart)
    return block


def query_of(href: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(href).query)


def test_headline_figures_and_scope(november: dict[str, Any], users: dict[str, User]) -> None:
    report = metrics.dashboard(user=users["admin"], filters=NOVEMBER, now=NOW)
    assert report.kind == "dashboard"
    assert report.scope == ["期间 2026-11-01 至 2026-11-30"]
    assert report.computed_at == NOW
    values = {f.key: f.value for s in report.sections for f in s.figures()}
    assert values["total"] == 6
    assert values["fulfilment_rate"] == 33.3
    assert values["sla_compliance"] == 50.0
    assert values["first_response_avg_hours"] == 22.0
    assert values["lead_launch_avg_days"] == 7.5
    assert values["overdue_requirements"] == 2
    assert values["overdue_tasks"] == 1
    assert values["csat_avg"] == 4.0
    assert values["nps"] == 20.0
    assert values["repurchase_rate"] == 50.0
    assert values["complaint_drop_avg_pct"] == 15.0
    assert values["met_rate"] == 33.3
    fulfilment = report.figure("fulfilment_rate")
    assert fulfilment is not None and fulfilment.note == "2 / 6"
    assert query_of(fulfilment.href) == {
        "submitted_after": ["2026-11-01"],
        "submitted_before": ["2026-11-30"],
        "resolved": ["true"],
    }
    overdue = report.figure("overdue_requirements")
    assert overdue is not None and query_of(overdue.href) == {"overdue": ["true"]}  # a state of today


def test_breakdowns_per_owner_team_segment_industry(november: dict[str, Any], users: dict[str, User]) -> None:
    # A second feedback from B on r3 must not count r3 twice under 潜力 / 制造.
    Feedback.objects.create(customer=november["b"], channel="sales", raw_text="再提", received_at=at(11, 21),
                            requirement=november["r3"])  # fmt: skip
    report = metrics.dashboard(user=users["admin"], filters=NOVEMBER, now=NOW)
    columns = ["需求数", "已解决", "满足率（%）", "SLA 达标率（%）", "平均首次响应（小时）", "逾期"]
    owner = report.block("by_owner")
    assert isinstance(owner, Table) and owner.columns[1:] == columns
    sales, pm, manager = (str(users[k]) for k in ("sales", "product_manager", "manager"))
    # columns: total, resolved, fulfilment %, SLA %, first response h, overdue (r5 outside the period counts)
    assert table_rows(report, "by_owner") == {
        pm: [3, 0, 0.0, 50.0, 24.0, 0],  # r3 r4 r9
        sales: [2, 1, 50.0, 50.0, 29.0, 2],  # r1 r2; overdue r2 r5
        manager: [1, 1, 100.0, None, 6.0, 0],  # r8
    }
    assert [row[0] for row in owner.rows] == [pm, sales, manager]
    assert table_rows(report, "by_team") == {
        "产品部": [3, 0, 0.0, 50.0, 24.0, 0],
        "销售一部": [2, 1, 50.0, 50.0, 29.0, 2],
        "无团队": [1, 1, 100.0, None, 6.0, 0],
    }
    assert table_rows(report, "by_segment") == {
        "潜力": [3, 0, 0.0, 33.3, 36.0, 1],  # r2 r3 r9; overdue r2
        "高价值": [2, 1, 50.0, 50.0, 29.0, 2],  # r1 r2; overdue r2 r5
        "普通": [2, 1, 50.0, None, 6.0, 0],  # r4 r8
    }
    assert table_rows(report, "by_industry") == {
        "互联网": [4, 2, 50.0, 50.0, 21.3, 2],  # r1 r2 r4 r8: (10 + 48 + 6) / 3
        "制造": [3, 0, 0.0, 33.3, 36.0, 1],
    }
    team = report.block("by_team")
    assert isinstance(team, Table)
    no_team = next(h for row, h in zip(team.rows, team.hrefs, strict=True) if row[0] == "无团队")
    assert no_team == [""] * 7
    pm_row = next(h for row, h in zip(owner.rows, owner.hrefs, strict=True) if row[0] == pm)
    assert query_of(pm_row[2])["resolved"] == ["true"] and query_of(pm_row[2])["owner"] == [
        str(users["product_manager"].pk)
    ]
    assert "submitted_after" not in query_of(pm_row[6]) and query_of(pm_row[6])["overdue"] == ["true"]


def test_a_requirement_counts_for_its_owners_current_team(november: dict[str, Any], users: dict[str, User]) -> None:
    moved = Team.objects.create(name="产品二部")
    User.objects.filter(pk=users["product_manager"].pk).update(team=moved)
    teams = table_rows(metrics.dashboard(user=users["admin"], filters=NOVEMBER, now=NOW), "by_team")
    assert "产品部" not in teams
    assert teams["产品二部"][0] == 3


def test_weekly_and_monthly_trends(november: dict[str, Any], users: dict[str, User]) -> None:
    report = metrics.dashboard(user=users["admin"], filters=NOVEMBER, now=NOW)
    trend = chart(report, "trend")
    # 2026-11-01 is a Sunday: the first week is that one day, the last is Monday the 30th.
    assert trend.categories == ["11-01", "11-02", "11-09", "11-16", "11-23", "11-30"]
    assert trend.series[0].values == [0, 1, 2, 1, 1, 1]  # r1; r2 r8; r3; r9; r4 (23:30 on the 30th)
    assert trend.series[1].values == [0, 1, 1, 0, 0, 0]  # r1; r8
    assert query_of(trend.hrefs[1]) == {"submitted_after": ["2026-11-02"], "submitted_before": ["2026-11-08"]}
    assert chart(report, "trend_rate").series[0].values == [None, 100.0, 50.0, 0.0, 0.0, 0.0]
    quarter = ReportFilters(start=dt.date(2026, 10, 1), end=dt.date(2026, 12, 31), grain="month")
    monthly = chart(metrics.dashboard(user=users["admin"], filters=quarter, now=NOW), "trend")
    assert monthly.categories == ["2026-10", "2026-11", "2026-12"]
    assert monthly.series[0].values == [1, 6, 1]  # r5; the cohort; r11 (00:30 on 12-01)


def test_status_funnel_in_flow_order_with_time_in_each_status(november: dict[str, Any], users: dict[str, User]) -> None:
    report = metrics.dashboard(user=users["admin"], filters=NOVEMBER, now=NOW)
    rows = table_rows(report, "status_table")
    # status: current count, ever entered, average stay in days (terminal statuses: none)
    assert list(rows) == ["待处理", "处理中", "测试中", "已上线", "已关闭", "暂缓", "已拒绝"]
    # 待处理 stays: r1 10 h, r2 48 h, r3 358 h (to now), r4 108.5 h (to now), r8 6 h, r9 24 h → 554.5 / 6 h
    assert rows["待处理"] == [2, 6, 3.9]
    # 处理中: r1 158 h, r2 555 h (to now), r8 66 h → 779 / 3 h = 10.8 d
    assert rows["处理中"] == [1, 3, 10.8]
    assert rows["测试中"] == [0, 2, 2.5]  # r1 3 d, r8 2 d
    assert rows["已上线"] == [1, 2, None]
    assert rows["已关闭"] == [1, 1, None]
    assert rows["暂缓"] == [0, 0, None]
    assert rows["已拒绝"] == [1, 1, None]
    funnel = chart(report, "status_funnel")
    assert funnel.kind == "funnel" and funnel.series[0].values == [2, 1, 0, 1, 1, 0, 1]
    assert query_of(funnel.hrefs[0])["status"] == ["new"]
    stay = chart(report, "status_stay")
    assert stay.categories == ["待处理", "处理中", "测试中"] and stay.note == "停留最久：处理中"


def test_distribution_charts_link_each_category(november: dict[str, Any], users: dict[str, User]) -> None:
    report = metrics.dashboard(user=users["admin"], filters=NOVEMBER, now=NOW)
    priority = chart(report, "priority")
    assert priority.categories == ["P0", "P1", "P2", "P3", "未定优先级"]
    assert priority.series[0].values == [1, 2, 1, 1, 1]
    assert [query_of(h).get("priority") for h in priority.hrefs] == [["P0"], ["P1"], ["P2"], ["P3"], None]
    assert priority.hrefs[-1] == ""
    kinds = {c.key: c.kind for c in report.charts()}
    assert {"type", "channel", "segment", "industry", "value_tier", "tags", "nps_mix"} <= set(kinds)
    segment = chart(report, "segment")
    assert dict(zip(segment.categories, segment.series[0].values, strict=True)) == {"潜力": 3, "高价值": 2, "普通": 2}


def test_empty_period_dashboard(november: dict[str, Any], users: dict[str, User]) -> None:
    report = metrics.dashboard(user=users["admin"], filters=ReportFilters.for_month(2025, 2), now=NOW)
    fulfilment = report.figure("fulfilment_rate")
    assert fulfilment is not None and fulfilment.value is None
    trend = chart(report, "trend")
    assert sum(trend.series[0].values) == 0
    assert trend.categories == ["02-01", "02-03", "02-10", "02-17", "02-24"]  # 2025-02-01 is a Saturday
    assert table_rows(report, "by_owner") == {str(users["sales"]): [0, 0, None, None, None, 2]}  # overdue only


def test_dashboard_query_count_is_fixed(
    november: dict[str, Any], users: dict[str, User], make_requirements: Any, django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(32):
        metrics.dashboard(user=users["sales"], filters=NOVEMBER, now=NOW)
    make_requirements(15, submitted_at=at(11, 12))
    with django_assert_max_num_queries(32):
        report = metrics.dashboard(user=users["admin"], filters=NOVEMBER, now=NOW)
    figure = report.figure("total")
    assert figure is not None and figure.value == 21


# ----------------------------------------------------------------- click-through counts what the number says


def _list_count(client: Any, href: str) -> int:
    """The API list with the link's parameters: the same FilterSet as the list page."""
    response = client.get("/api/v1/requirements/", dict((k, v[0]) for k, v in query_of(href).items()))
    assert response.status_code == 200, response.content
    return int(response.json()["count"])


@pytest.mark.parametrize("reader", ["admin", "sales"])
def test_every_count_links_to_a_list_of_that_many(
    november: dict[str, Any], users: dict[str, User], api: Any, reader: str
) -> None:
    user = users[reader]
    client = api(user)
    now = timezone.now()  # the list counts "today" by the clock
    report = metrics.dashboard(user=user, filters=NOVEMBER, now=now)
    checked = 0
    for key in ("total", "resolved", "overdue_requirements", "sla_breaches"):
        figure = report.figure(key)
        assert isinstance(figure, Figure)
        assert _list_count(client, figure.href) == figure.value, key
        checked += 1
    for table in ("by_owner", "by_team", "by_segment", "by_industry", "status_table"):
        block = report.block(table)
        assert isinstance(block, Table)
        count_columns = (1,) if table == "status_table" else (1, 2, 6)  # the counts (not rates, not history)
        for row, hrefs in zip(block.rows, block.hrefs, strict=True):
            for col in count_columns:
                if hrefs[col]:
                    assert _list_count(client, hrefs[col]) == row[col], (table, row, col)
                    checked += 1
    for block in report.charts():
        if block.key in ("nps_mix", "status_stay", "trend_rate"):
            continue
        for value, href in zip(block.series[0].values, block.hrefs, strict=True):
            if href:
                assert _list_count(client, href) == value, (block.key, value, href)
                checked += 1
    assert checked > 40


def test_requirement_list_page_follows_a_dashboard_link(
    november: dict[str, Any], users: dict[str, User], client: Any
) -> None:
    client.force_login(users["admin"])
    report = metrics.dashboard(user=users["admin"], filters=NOVEMBER, now=timezone.now())
    segment = chart(report, "segment")
    href = segment.hrefs[segment.categories.index("潜力")]
    response = client.get(href)
    assert response.status_code == 200
    page = response.content.decode()
    assert november["r3"].code in page and november["r2"].code in page and november["r1"].code not in page
    assert reverse("requirements:list") == urlsplit(href).path
