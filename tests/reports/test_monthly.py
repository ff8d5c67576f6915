"""The monthly review document, from hand-made summaries: figures with their change, the structure sentences,
the biggest movers, breaches, launches, risks and conclusions; the month a query names."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from needpool.reports import monthly
from needpool.reports.document import Table, Text
from needpool.reports.filters import ReportFilters
from needpool.reports.models import MonthlyReview
from tests.reports.monthly_helpers import NOVEMBER, OCTOBER, empty_summary, mocked_summary, november, october

NOW = timezone.make_aware(dt.datetime(2026, 12, 6, 10, 0))


def test_shares_read_as_percentages_with_at_most_one_decimal() -> None:
    assert monthly.percent_text(6, 20) == "30%"
    assert monthly.percent_text(1, 3) == "33.3%"
    assert monthly.percent_text(2, 3) == "66.7%"
    assert monthly.percent_text(1, 8) == "12.5%"
    assert monthly.percent_text(20, 20) == "100%"


def test_structure_sentences_name_every_type_channel_and_segment_of_ten_percent_or_more() -> None:
    assert monthly.structure_sentences(november()) == [
        "本月 30% 的需求为功能优化（6/20）",
        "本月 25% 的需求为新功能（5/20）",
        "本月 20% 的需求为缺陷（4/20）",
        "本月 15% 的需求为体验（3/20）",
        "本月 50% 的需求来自工单系统（10/20）",
        "本月 35% 的需求来自销售沟通（7/20）",
        "本月 10% 的需求来自问卷（2/20）",  # exactly 10 % counts
        "本月 15% 的需求来自高价值客户（3/20）",
    ]


def test_an_empty_month_has_no_sentences() -> None:
    assert monthly.structure_sentences(empty_summary()) == []


def test_biggest_movers_are_the_five_largest_count_changes() -> None:
    table = monthly.biggest_movers(november(), october(), ReportFilters.for_month(2026, 11))
    assert table.columns == ["维度", "项目", "本月", "上月", "变化"]
    assert table.rows == [
        ["标签", "批量操作", 8, 3, "+5"],
        ["渠道", "工单系统", 10, 6, "+4"],  # ties: the larger count now first
        ["类型", "功能优化", 6, 2, "+4"],
        ["标签", "性能", 0, 4, "-4"],  # gone this month
        ["类型", "缺陷", 4, 7, "-3"],
    ]
    # Each links to the requirement list of the month with that type / channel / tag / segment.
    assert "type=function_improvement" in table.hrefs[2][1] and "submitted_after=2026-11-01" in table.hrefs[2][1]
    assert "tag=bulk_operation" in table.hrefs[0][1]
    assert "channel=ticket" in table.hrefs[1][1] and table.hrefs[1][2] == table.hrefs[1][1]


def test_unchanged_counts_are_no_movers() -> None:
    same = november()
    table = monthly.biggest_movers(same, same, ReportFilters.for_month(2026, 11))
    assert table.rows == []


@pytest.mark.parametrize(
    ("current", "previous", "unit", "expected"),
    [
        (20, 16, "count", "较上月 +4（+25.0%）"),
        (3, 5, "count", "较上月 -2（-40.0%）"),
        (4, 0, "count", "较上月 +4"),
        (7, 7, "count", "与上月持平"),
        (60.0, 50.0, "%", "较上月 +10.0 个百分点"),
        (5.5, 7.0, "h", "较上月 -1.5 小时"),
        (12.25, 10.0, "d", "较上月 +2.3 天"),
        (4.2, 4.0, "score", "较上月 +0.2"),
        (20.0, None, "score", "上月无数据"),
        (None, 9.0, "d", "本月无数据（上月 9.0 天）"),
        (None, None, "%", "本月与上月均无数据"),
        (80.04, 80.0, "%", "与上月持平"),
    ],
)
def test_change_against_the_previous_month_in_words(current: Any, previous: Any, unit: Any, expected: str) -> None:
    assert monthly.change_note(current, previous, unit) == expected


def test_the_review_document(users: dict[str, Any], pool: dict[str, Any]) -> None:
    MonthlyReview.objects.create(month=NOVEMBER, conclusions="功能优化占比上升，下月重点跟进批量操作。")
    with mocked_summary() as summary:
        report = monthly.build(dt.date(2026, 11, 17), users["manager"], NOW)
    called = [c.kwargs["filters"] for c in summary.call_args_list]
    assert [(f.start, f.end) for f in called] == [
        (NOVEMBER, dt.date(2026, 11, 30)),
        (OCTOBER, dt.date(2026, 10, 31)),
    ]
    assert report.kind == "monthly" and report.title == "2026 年 11 月需求复盘"
    assert report.computed_at == NOW
    assert report.scope == ["期间 2026-11-01 至 2026-11-30", "对比上月 2026-10-01 至 2026-10-31"]
    assert "月份结束后对需求的修改也会反映在其中" in report.subtitle
    assert [s.key for s in report.sections] == [
        "overview",
        "structure",
        "movers",
        "sla",
        "launched",
        "risks",
        "conclusions",
    ]
    notes = {f.key: (f.value, f.note) for f in report.sections[0].figures()}
    assert notes == {
        "total": (20, "较上月 +4（+25.0%）"),
        "fulfilment_rate": (60.0, "已解决 12 / 20 · 较上月 +10.0 个百分点"),
        "sla_compliance": (80.0, "按时 8 / 10 · 较上月 +5.0 个百分点"),
        "first_response_avg_hours": (5.5, "较上月 -1.5 小时"),
        "lead_launch_avg_days": (12.25, "较上月 +2.3 天"),
        "lead_close_avg_days": (None, "本月无数据（上月 9.0 天）"),
        "overdue_requirements": (3, "截至今日，不限提交月份（不与上月比较）"),  # a state of today
        "csat_avg": (4.2, "5 份答卷 · 较上月 +0.2"),
        "nps": (20.0, "推荐 3 · 中立 1 · 贬损 1 · 上月无数据"),
    }
    total = report.figure("total")
    assert total is not None and "submitted_after=2026-11-01" in total.href
    overdue = report.figure("overdue_requirements")
    assert overdue is not None and "overdue=true" in overdue.href and "submitted_after" not in overdue.href
    structure = report.block("structure")
    assert isinstance(structure, Text) and structure.items[0] == "本月 30% 的需求为功能优化（6/20）"

    breaches = report.block("sla_breaches")
    assert isinstance(breaches, Table)
    assert breaches.rows == [["DEM20261110001", "登录超时"]]
    assert breaches.hrefs == [["/requirements/103/", "/requirements/103/"]]
    launched = report.block("launched")
    assert isinstance(launched, Table) and [r[0] for r in launched.rows] == ["DEM20261103001", "DEM20261105002"]

    # Risks: the month's overdue counts, and the open P0 / P1 of today in the reader's scope (pool's r2 is P0).
    risk = {f.key: f.value for f in report.sections[5].figures()}
    assert risk == {"risk_overdue_requirements": 3, "risk_overdue_tasks": 2, "open_p0": 1, "open_p1": 0}
    open_table = report.block("open_priority")
    assert isinstance(open_table, Table) and open_table.rows == [[pool["r2"].code, pool["r2"].title, "P0"]]
    assert open_table.hrefs[0][0] == f"/requirements/{pool['r2'].pk}/"

    conclusions = report.block("conclusions")
    assert isinstance(conclusions, Text) and conclusions.body == "功能优化占比上升，下月重点跟进批量操作。"


def test_an_empty_month_says_so(users: dict[str, Any]) -> None:
    with mocked_summary({}):
        report = monthly.build(NOVEMBER, users["manager"], NOW)
    structure = report.block("structure")
    assert isinstance(structure, Text) and structure.body == "本月没有新需求。" and structure.items == []
    assert report.block("movers").rows == []  # type: ignore[union-attr]
    assert report.block("sla_breaches").note == "本月提交的需求没有 SLA 超时。"  # type: ignore[union-attr]
    assert report.block("conclusions").body == "尚未填写团队结论。"  # type: ignore[union-attr]
    assert report.figure("fulfilment_rate").note == "已解决 0 / 0 · 本月与上月均无数据"  # type: ignore[union-attr]


def test_long_lists_are_cut_with_a_note(users: dict[str, Any]) -> None:
    many = november()
    many["launched"] = [(i, f"DEM{i:05d}", f"需求{i}") for i in range(1, 131)]
    with mocked_summary({NOVEMBER: many}):
        report = monthly.build(NOVEMBER, users["manager"], NOW)
    launched = report.block("launched")
    assert isinstance(launched, Table) and len(launched.rows) == 100
    assert launched.note == "共 130 条，此处列出前 100 条。"
    # The summary lists the first 100 and says how many there are.
    many["launched"], many["launched_count"] = many["launched"][:100], 250
    with mocked_summary({NOVEMBER: many}):
        report = monthly.build(NOVEMBER, users["manager"], NOW)
    assert report.block("launched").note == "共 250 条，此处列出前 100 条。"  # type: ignore[union-attr]


def test_only_readers_of_every_requirement_get_the_review(users: dict[str, Any]) -> None:
    with mocked_summary(), pytest.raises(PermissionDenied):
        monthly.build(NOVEMBER, users["sales"], NOW)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "请选择月份"),
        ("2026/11", "格式应为 YYYY-MM"),
        ("2026-13", "格式应为 YYYY-MM"),
        ("November", "格式应为 YYYY-MM"),
        ("1999-12", "不能早于 2000-01"),
        ("2027-01", "2027-01 尚未开始"),
    ],
)
def test_a_bad_or_future_month_is_refused_in_words(users: dict[str, Any], value: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        monthly.build_from_query(users["manager"], {"month": value}, now=NOW)
    assert message in " ".join(caught.value.message_dict["month"])


def test_build_from_query_builds_the_named_month(users: dict[str, Any]) -> None:
    with mocked_summary():
        report = monthly.build_from_query(users["manager"], {"month": "2026-11"}, now=NOW)
        current = monthly.build_from_query(users["manager"], {"month": "2026-12"}, now=NOW)
    assert report.title == "2026 年 11 月需求复盘" and report.figure("total").value == 20  # type: ignore[union-attr]
    assert current.title == "2026 年 12 月需求复盘"  # the month in progress may be reviewed so far
