"""Hand-made summaries of two months (the contract of reports.metrics.summary) for the monthly review tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

NOVEMBER = dt.date(2026, 11, 1)
OCTOBER = dt.date(2026, 10, 1)


def empty_summary() -> dict[str, Any]:
    return {
        "total": 0,
        "resolved": 0,
        "fulfilment_rate": None,
        "sla_due": 0,
        "sla_met": 0,
        "sla_compliance": None,
        "first_response_avg_hours": None,
        "lead_launch_avg_days": None,
        "lead_close_avg_days": None,
        "overdue_requirements": 0,
        "overdue_tasks": 0,
        "csat_avg": None,
        "csat_count": 0,
        "nps": None,
        "promoters": 0,
        "passives": 0,
        "detractors": 0,
        "nps_count": 0,
        "by_type": [],
        "by_channel": [],
        "by_priority": [],
        "by_status": [],
        "by_segment": [],
        "by_industry": [],
        "by_value_tier": [],
        "by_tag": [],
        "launched": [],
        "sla_breaches": [],
    }


def november() -> dict[str, Any]:
    s = empty_summary()
    s.update(
        total=20,
        resolved=12,
        fulfilment_rate=60.0,
        sla_due=10,
        sla_met=8,
        sla_compliance=80.0,
        first_response_avg_hours=5.5,
        lead_launch_avg_days=12.25,
        lead_close_avg_days=None,
        overdue_requirements=3,
        overdue_tasks=2,
        csat_avg=4.2,
        csat_count=5,
        nps=20.0,
        promoters=3,
        passives=1,
        detractors=1,
        nps_count=5,
        by_type=[
            ("function_improvement", "功能优化", 6),
            ("new_feature", "新功能", 5),
            ("bug", "缺陷", 4),
            ("experience", "体验", 3),
            ("other", "其他", 1),
            ("performance", "性能", 1),
        ],
        by_channel=[
            ("ticket", "工单系统", 10),
            ("sales", "销售沟通", 7),
            ("survey", "问卷", 2),
            ("interview", "访谈", 1),
        ],
        by_segment=[("high_value", "高价值", 3), ("normal", "普通", 1)],
        by_tag=[("bulk_operation", "批量操作", 8), ("export", "导出", 2)],
        launched=[(101, "DEM20261103001", "批量导出"), (102, "DEM20261105002", "报表订阅")],
        sla_breaches=[(103, "DEM20261110001", "登录超时")],
    )
    return s


def october() -> dict[str, Any]:
    s = empty_summary()
    s.update(
        total=16,
        resolved=8,
        fulfilment_rate=50.0,
        sla_due=8,
        sla_met=6,
        sla_compliance=75.0,
        first_response_avg_hours=7.0,
        lead_launch_avg_days=10.0,
        lead_close_avg_days=9.0,
        overdue_requirements=5,
        overdue_tasks=1,
        csat_avg=4.0,
        csat_count=4,
        nps=None,
        by_type=[
            ("function_improvement", "功能优化", 2),
            ("new_feature", "新功能", 5),
            ("bug", "缺陷", 7),
            ("experience", "体验", 2),
        ],
        by_channel=[("ticket", "工单系统", 6), ("sales", "销售沟通", 7), ("survey", "问卷", 3)],
        by_segment=[("high_value", "高价值", 3), ("normal", "普通", 4)],
        by_tag=[("bulk_operation", "批量操作", 3), ("export", "导出", 2), ("perf_tag", "性能", 4)],
    )
    return s


def by_month(months: dict[dt.date, dict[str, Any]]) -> Any:
    def summary(*, user: Any, filters: Any, now: Any = None) -> dict[str, Any]:
        return months.get(filters.start, empty_summary())

    return summary


@contextmanager
def mocked_summary(months: dict[dt.date, dict[str, Any]] | None = None) -> Iterator[mock.MagicMock]:
    """``metrics.summary`` answering ``months`` (November and October 2026 by default), empty otherwise."""
    chosen = months if months is not None else {NOVEMBER: november(), OCTOBER: october()}
    with mock.patch("needpool.reports.metrics.summary", side_effect=by_month(chosen)) as patched:
        yield patched
