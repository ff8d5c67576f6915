"""A hand-built report document (every kind of block) for the renderer and API tests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from needpool.reports.document import Chart, Figure, Report, Section, Series, Table, Text

COMPUTED_AT = dt.datetime(2026, 11, 30, 8, 15, tzinfo=dt.UTC)  # 16:15 in Asia/Shanghai


def sample_report(*, scope: list[str] | None = None) -> Report:
    return Report(
        kind="dashboard",
        title="需求仪表盘",
        subtitle="2026 年 11 月",
        scope=scope if scope is not None else ["期间 2026-11-01 至 2026-11-30", "团队 华东销售部"],
        computed_at=COMPUTED_AT,
        stale_note="汇总表 2 小时前更新",
        sections=[
            Section(
                key="overview",
                title="概览",
                blocks=[
                    Figure(
                        key="fulfilment_rate",
                        label="需求满足率",
                        value=62.5,
                        unit="%",
                        note="125 / 200",
                        href="/requirements/?status=closed&submitted_after=2026-11-01",
                    ),
                    Figure(key="first_response", label="平均首次响应", value=Decimal("18.25"), unit="h"),
                    Figure(key="csat", label="满意度", value=None, unit="score", note="无答卷"),
                    Figure(key="total", label="需求总数", value=12000, unit="count"),
                ],
            ),
            Section(
                key="distribution",
                title="分布",
                blocks=[
                    Chart(
                        key="by_type",
                        title="需求类型",
                        kind="bar",
                        categories=["功能优化", "服务", "体验"],
                        series=[Series(name="需求数", values=[30, 12, 0])],
                        hrefs=[
                            "/requirements/?type=function_improvement&submitted_after=2026-11-01",
                            "/requirements/?type=service&submitted_after=2026-11-01",
                            "",
                        ],
                        unit="count",
                    ),
                    Chart(
                        key="by_channel",
                        title="来源渠道",
                        kind="pie",
                        categories=["门户", "电话"],
                        series=[Series(name="需求数", values=[5, 7])],
                    ),
                    Chart(key="empty", title="标签", kind="hbar", categories=[], series=[Series("需求数", [])]),
                    Table(
                        key="per_owner",
                        title="按负责人",
                        columns=["负责人", "需求数", "满足率"],
                        rows=[["张三 <b>", 10, 50.0], ["李四", 4, None]],
                        hrefs=[["", "/requirements/?owner=7", ""], ["", "", ""]],
                        note="按当前负责人统计",
                    ),
                    Chart(
                        key="trend",
                        title="趋势",
                        kind="line",
                        categories=["2026-11-02", "2026-11-09"],
                        series=[Series("提交", [3, 5]), Series("解决", [1, Decimal("2.5")])],
                        hrefs=["/requirements/?w=1", "/requirements/?w=2"],
                    ),
                    Text(key="conclusion", title="结论", body="30% 的需求为功能优化。\n第二段", items=["跟进 A 客户"]),
                ],
            ),
        ],
    )
