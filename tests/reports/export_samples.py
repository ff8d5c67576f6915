"""A hand-built report with every kind of block, Chinese labels and awkward cells, for the export tests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from needpool.reports.document import Chart, Figure, Report, Section, Series, Table, Text

COMPUTED_AT = dt.datetime(2026, 11, 30, 8, 15, tzinfo=dt.UTC)  # 16:15 in Asia/Shanghai


def export_report() -> Report:
    return Report(
        kind="dashboard",
        title="需求仪表盘 <月度>",
        subtitle="2026 年 11 月",
        scope=["期间 2026-11-01 至 2026-11-30", "团队 华东销售部"],
        computed_at=COMPUTED_AT,
        stale_note="汇总表 2 小时前更新",
        sections=[
            Section(
                key="overview",
                title="概览",
                blocks=[
                    Figure(key="rate", label="需求满足率", value=62.5, unit="%", note="125 / 200"),
                    Figure(key="first_response", label="平均首次响应", value=Decimal("18.25"), unit="h"),
                    Figure(key="csat", label="满意度", value=None, unit="score", note="无答卷"),
                    Figure(key="total", label="需求总数", value=12000, unit="count"),
                ],
            ),
            Section(
                key="distribution",
                title="分布",
                blocks=[
                    Table(
                        key="by_owner",
                        title="按负责人",
                        columns=["负责人", "需求数", "满足率 %", "最近提交"],
                        rows=[
                            ["王芳", 120, 62.5, dt.date(2026, 11, 28)],
                            ["李雷", 7, Decimal("33.3"), None],
                            ['=HYPERLINK("http://x","点我")', 0, 0.0, dt.date(2026, 11, 1)],
                            ["+86 138", -3, None, None],
                            ["@SUM(A1)", 1, None, None],
                        ],
                        note="只统计有负责人的需求",
                    ),
                    Table(
                        key="by_owner_again",
                        title="按负责人",
                        columns=["负责人", "逾期"],
                        rows=[["王芳", 2]],
                    ),
                    Table(
                        key="odd",
                        title="渠道/来源:[全部]*?这是一个超过三十一个字符长度的表格标题用来测试截断",
                        columns=["渠道", "数量"],
                        rows=[["门户", 30], ["电话", 12]],
                    ),
                    Chart(
                        key="by_type",
                        title="需求类型",
                        kind="bar",
                        categories=["功能优化", "缺陷修复", "体验"],
                        series=[Series(name="本月", values=[30, 12, 0]), Series(name="上月", values=[25, 15, 4.5])],
                        unit="count",
                    ),
                    Chart(
                        key="by_channel",
                        title="来源渠道",
                        kind="pie",
                        categories=["门户", "电话"],
                        series=[Series(name="需求数", values=[30, 12])],
                    ),
                    Text(
                        key="conclusion",
                        title="结论",
                        body="30% 的需求为功能优化",
                        items=["加快首次响应", "跟进 B制造企业"],
                    ),
                ],
            ),
        ],
    )
