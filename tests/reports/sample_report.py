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


def full_report(list_url: str = "/requirements/") -> Report:
    """A dashboard-sized document: every chart kind, a wide table, eight figures (for layout checks)."""
    period = "submitted_after=2026-11-01&submitted_before=2026-11-30"
    types = [("function_improvement", "功能优化"), ("new_feature", "新功能"), ("bug", "缺陷"), ("service", "服务")]
    owners = ["张三", "李四", "王五（华东大区客户成功经理）", "赵六", "钱七", "孙八"]
    weeks = [f"2026-W{w}" for w in range(36, 49)]
    return Report(
        kind="dashboard",
        title="需求仪表盘",
        scope=["期间 2026-11-01 至 2026-11-30", "粒度 按周", "团队 华东销售部", "客户分层 高价值"],
        computed_at=COMPUTED_AT,
        sections=[
            Section(
                key="overview",
                title="概览",
                blocks=[
                    Figure("total", "需求总数", 1280, "count", href=f"{list_url}?{period}"),
                    Figure("fulfilment_rate", "需求满足率", 62.5, "%", "800 / 1280", f"{list_url}?{period}"),
                    Figure("sla_compliance", "SLA 达标率", 91.2, "%", "目标 24 小时"),
                    Figure("first_response", "平均首次响应", 5.4, "h"),
                    Figure("lead_launch", "平均上线周期", 23.5, "d"),
                    Figure("lead_close", "平均关闭周期", 31.0, "d"),
                    Figure("overdue_requirements", "逾期需求", 17, "count", href=f"{list_url}?overdue=true"),
                    Figure("csat", "满意度", 4.3, "score", "共 85 份答卷"),
                    Figure("nps", "NPS", 32, "", "推荐 50 · 中立 32 · 贬损 18"),
                ],
            ),
            Section(
                key="distribution",
                title="分布",
                blocks=[
                    Chart(
                        "by_type",
                        "需求类型",
                        "bar",
                        [label for _, label in types],
                        [Series("需求数", [520, 310, 280, 170])],
                        [f"{list_url}?{period}&type={key}" for key, _ in types],
                        "count",
                    ),
                    Chart(
                        "by_channel",
                        "来源渠道",
                        "pie",
                        ["门户", "电话", "销售沟通", "工单系统", "问卷"],
                        [Series("需求数", [300, 200, 400, 330, 50])],
                        unit="count",
                    ),
                    Chart(
                        "by_status",
                        "状态漏斗",
                        "funnel",
                        ["待受理", "评审中", "开发中", "已上线", "已关闭"],
                        [Series("需求数", [1280, 900, 700, 500, 420])],
                    ),
                    Chart(
                        "by_owner",
                        "按负责人",
                        "hbar",
                        owners,
                        [Series("需求数", [120, 98, 75, 60, 33, 12])],
                        unit="count",
                    ),
                    Chart(
                        "by_priority",
                        "按优先级与状态",
                        "stacked",
                        ["P0", "P1", "P2", "P3"],
                        [Series("未解决", [10, 40, 80, 120]), Series("已解决", [30, 100, 200, 300])],
                    ),
                ],
            ),
            Section(
                key="trend",
                title="趋势",
                blocks=[
                    Chart(
                        "trend",
                        "每周提交与解决",
                        "line",
                        weeks,
                        [
                            Series("提交", [80 + i * 3 for i in range(13)]),
                            Series("解决", [60 + i * 4 for i in range(13)]),
                        ],
                    ),
                    Table(
                        "per_owner",
                        "按负责人",
                        ["负责人", "需求数", "已解决", "满足率", "平均首次响应（小时）", "SLA 达标率", "逾期"],
                        [[o, 100 - i * 10, 60 - i * 5, 60.0 - i, 5.5 + i, 90.5 - i, i] for i, o in enumerate(owners)],
                        [["", f"{list_url}?owner={i}", "", "", "", "", ""] for i, _ in enumerate(owners)],
                    ),
                ],
            ),
        ],
    )
