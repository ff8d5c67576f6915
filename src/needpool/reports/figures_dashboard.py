"""The dashboard document: the summary numbers as figures, tables and charts, each linked to the list it counts.

Every block's ``href`` is the requirement list (``filters.requirement_list_url``) with the dashboard's slice plus
the one parameter that narrows it to what the number counts (``type=…``, ``owner=…``, ``resolved=true``,
``overdue=true`` …). A figure that is a state of today (overdue) drops the period from its link. A group with no
value to filter on (no owner, no team, no industry recorded, no type) has no link.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from needpool.accounts.models import Team, User
from needpool.analysis.models import AnalysisProject
from needpool.customers.choices import Segment
from needpool.reports import figures_queries as q
from needpool.reports.document import Chart, Figure, Report, Section, Series, Table
from needpool.reports.filters import ReportFilters, requirement_list_url
from needpool.requirements.choices import StatusCategory
from needpool.requirements.models import Requirement

# Statuses a requirement leaves only by being reopened: a stay there is not waiting.
TERMINAL = (StatusCategory.DONE, StatusCategory.REJECTED)
NOT_IN_PERIOD: dict[str, Any] = {"submitted_after": None, "submitted_before": None}


def _link(filters: ReportFilters, **extra: Any) -> str:
    return requirement_list_url(filters, **extra)


def scope_words(filters: ReportFilters) -> list[str]:
    """The filters in words (期间 2026-11-01 至 2026-11-30, 团队 销售一部 …); a few primary-key look-ups."""
    words = [_("期间 %(start)s 至 %(end)s") % {"start": filters.start.isoformat(), "end": filters.end.isoformat()}]
    if filters.team is not None:
        team = Team.objects.filter(pk=filters.team).values_list("name", flat=True).first()
        words.append(_("团队 %(name)s") % {"name": team or f"#{filters.team}"})
    if filters.owner is not None:
        owner = User.objects.filter(pk=filters.owner).first()
        words.append(_("负责人 %(name)s") % {"name": str(owner) if owner else f"#{filters.owner}"})
    if filters.segment:
        words.append(_("客户分层 %(name)s") % {"name": dict(Segment.choices).get(filters.segment, filters.segment)})
    if filters.industry:
        words.append(_("行业 %(name)s") % {"name": filters.industry})
    if filters.project is not None:
        project = AnalysisProject.objects.filter(pk=filters.project).values_list("name", flat=True).first()
        words.append(_("分析项目 %(name)s") % {"name": project or f"#{filters.project}"})
    return words


# ----------------------------------------------------------------- headline figures


def overview(filters: ReportFilters, s: dict[str, Any]) -> Section:
    link = _link(filters)
    resolved = _link(filters, resolved="true")
    breached = _link(filters, sla_breached="true")
    return Section(
        key="overview",
        title=_("概览"),
        blocks=[
            Figure("total", _("需求总数"), s["total"], "count", note=_("期间内提交"), href=link),
            Figure("resolved", _("已解决"), s["resolved"], "count", href=resolved),
            Figure(
                "fulfilment_rate",
                _("需求满足率"),
                s["fulfilment_rate"],
                "%",
                note=f"{s['resolved']} / {s['total']}",
                href=resolved,
            ),
            Figure(
                "sla_compliance",
                _("SLA 达标率"),
                s["sla_compliance"],
                "%",
                note=_("%(met)s / %(due)s 按时首次响应") % {"met": s["sla_met"], "due": s["sla_due"]},
                href=breached,
            ),
            Figure("sla_breaches", _("SLA 超时"), s["sla_breach_count"], "count", href=breached),
            Figure(
                "first_response_avg_hours",
                _("平均首次响应"),
                s["first_response_avg_hours"],
                "h",
                note=_("%(n)s 条已响应") % {"n": s["first_response_count"]},
                href=link,
            ),
            Figure("lead_launch_avg_days", _("平均上线周期"), s["lead_launch_avg_days"], "d", href=resolved),
            Figure("lead_close_avg_days", _("平均关闭周期"), s["lead_close_avg_days"], "d", href=resolved),
            Figure(
                "overdue_requirements",
                _("逾期需求"),
                s["overdue_requirements"],
                "count",
                note=_("截至今日，未完成且已过期望时间"),
                href=_link(filters, overdue="true", **NOT_IN_PERIOD),
            ),
            Figure(
                "overdue_tasks",
                _("逾期任务"),
                s["overdue_tasks"],
                "count",
                note=_("截至今日，未完成且已过截止日期"),
                href=reverse("delivery:plans"),
            ),
        ],
    )


# ----------------------------------------------------------------- breakdowns


def columns() -> list[str]:
    return [
        _("名称"),
        _("需求数"),
        _("已解决"),
        _("满足率（%）"),
        _("SLA 达标率（%）"),
        _("平均首次响应（小时）"),
        _("逾期"),
    ]


def _breakdown_table(
    key: str,
    title: str,
    filters: ReportFilters,
    groups: list[tuple[Any, str, dict[str, Any], int]],
    param: str | None,
) -> Table:
    """Rows of (group value, name, figures, overdue); ``param`` is the list parameter naming a group."""
    rows: list[list[Any]] = []
    hrefs: list[list[str]] = []
    for value, name, figures, overdue in groups:
        rows.append(
            [
                name,
                figures["total"],
                figures["resolved"],
                figures["fulfilment_rate"],
                figures["sla_compliance"],
                figures["first_response_avg_hours"],
                overdue,
            ]
        )
        if param is None or value in (None, ""):
            hrefs.append([""] * 7)
            continue
        group = {param: value}
        every = _link(filters, **group)
        resolved = _link(filters, **group, resolved="true")
        hrefs.append(
            [
                every,
                every,
                resolved,
                resolved,
                _link(filters, **group, sla_breached="true"),
                every,
                _link(filters, **group, overdue="true", **NOT_IN_PERIOD),
            ]
        )
    return Table(key=key, title=title, columns=columns(), rows=rows, hrefs=hrefs)


EMPTY_GROUP = {
    "total": 0,
    "resolved": 0,
    "sla_due": 0,
    "sla_met": 0,
    "first_response": None,
}


def _groups(
    rows: list[dict[str, Any]],
    overdue: dict[Any, int],
    key: str,
    name: Callable[[dict[str, Any]], str],
    names_for_overdue_only: Callable[[Any], str],
) -> list[tuple[Any, str, dict[str, Any], int]]:
    """Cohort groups and the groups that only have overdue requirements, largest first."""
    out = []
    seen = set()
    for row in rows:
        seen.add(row[key])
        out.append((row[key], name(row), q.breakdown_row(row), overdue.get(row[key], 0)))
    for value, n in overdue.items():
        if value not in seen:
            out.append((value, names_for_overdue_only(value), q.breakdown_row(EMPTY_GROUP), n))
    out.sort(key=lambda g: (-g[2]["total"], -g[3], g[1]))
    return out


def _person(row: dict[str, Any]) -> str:
    """A user's name as ``str(user)`` gives it, from the grouped values."""
    if row.get("owner_id") is None:
        return _("未指派")
    full = " ".join(p for p in (row["owner__first_name"], row["owner__last_name"]) if p).strip()
    return str(row["owner__display_name"] or full or row["owner__username"])


def breakdowns(
    filters: ReportFilters, cohort: QuerySet[Requirement], sliced: QuerySet[Requirement], now: dt.datetime
) -> Section:
    owner_fields = ["owner_id", "owner__username", "owner__display_name", "owner__first_name", "owner__last_name"]
    owner_rows, owner_overdue = q.by_requirement_field(cohort, sliced, owner_fields, now=now)
    team_rows, team_overdue = q.by_requirement_field(cohort, sliced, ["owner__team_id", "owner__team__name"], now=now)
    segment_rows, segment_overdue = q.by_customer_field(cohort, sliced, "segment", now=now)
    industry_rows, industry_overdue = q.by_customer_field(cohort, sliced, "industry", now=now)
    # Names of people and teams that appear only through overdue requirements outside the period (few rows).
    extra_people = {
        u.pk: str(u) for u in User.objects.filter(pk__in=[k for k in owner_overdue if k is not None]).order_by()
    }
    extra_teams = dict(Team.objects.filter(pk__in=[k for k in team_overdue if k is not None]).values_list("pk", "name"))
    segments = dict(Segment.choices)
    return Section(
        key="breakdowns",
        title=_("按负责人、团队、客户分层、行业"),
        blocks=[
            _breakdown_table(
                "by_owner",
                _("按负责人"),
                filters,
                _groups(owner_rows, owner_overdue, "owner_id", _person, lambda pk: extra_people.get(pk, _("未指派"))),
                "owner",
            ),
            _breakdown_table(
                "by_team",
                _("按团队"),
                filters,
                _groups(
                    team_rows,
                    team_overdue,
                    "owner__team_id",
                    lambda r: r["owner__team__name"] or _("无团队"),
                    lambda pk: extra_teams.get(pk) or _("无团队"),
                ),
                "team",
            ),
            _breakdown_table(
                "by_segment",
                _("按客户分层"),
                filters,
                _groups(
                    segment_rows,
                    segment_overdue,
                    "customer__segment",
                    lambda r: str(segments.get(r["customer__segment"], r["customer__segment"])),
                    lambda key: str(segments.get(key, key)),
                ),
                "segment",
            ),
            _breakdown_table(
                "by_industry",
                _("按行业"),
                filters,
                _groups(
                    industry_rows,
                    industry_overdue,
                    "customer__industry",
                    lambda r: r["customer__industry"] or _("未填写行业"),
                    lambda key: key or _("未填写行业"),
                ),
                "industry",
            ),
        ],
    )


# ----------------------------------------------------------------- distributions


def _distribution(
    key: str, title: str, kind: Any, rows: q.Counted, filters: ReportFilters, param: str, note: str = ""
) -> Chart:
    return Chart(
        key=key,
        title=title,
        kind=kind,
        categories=[label for _k, label, _n in rows],
        series=[Series(_("需求数"), [n for _k, _l, n in rows])],
        hrefs=[_link(filters, **{param: k}) if k else "" for k, _l, _n in rows],
        unit="count",
        note=note,
    )


def distributions(filters: ReportFilters, s: dict[str, Any]) -> Section:
    per_customer = _("一条需求有多个客户时，在每个客户的分类下各计一次")
    return Section(
        key="distributions",
        title=_("需求分布"),
        blocks=[
            _distribution("type", _("需求类型"), "pie", s["by_type"], filters, "type"),
            _distribution(
                "channel", _("反馈渠道"), "bar", s["by_channel"], filters, "channel", _("一条需求可来自多个渠道")
            ),
            _distribution("priority", _("优先级"), "bar", _priority_order(s["by_priority"]), filters, "priority"),
            _distribution("segment", _("客户分层"), "pie", s["by_segment"], filters, "segment", per_customer),
            _distribution("industry", _("所属行业"), "hbar", s["by_industry"], filters, "industry", per_customer),
            _distribution("value_tier", _("客户价值"), "pie", s["by_value_tier"], filters, "value_tier"),
            _distribution("tags", _("热门标签"), "hbar", s["by_tag"], filters, "tag"),
        ],
    )


def _priority_order(rows: q.Counted) -> q.Counted:
    """P0 … P3, then no priority: a priority chart reads in its own order."""
    return sorted(rows, key=lambda r: (r[0] == "", r[0]))


# ----------------------------------------------------------------- status funnel


def funnel(
    filters: ReportFilters, s: dict[str, Any], status_info: q.Statuses, stays: dict[str, tuple[int, float | None]]
) -> Section:
    current = {key: n for key, _label, n in s["by_status"]}
    active_flow = status_info.all[0].workflow_key if status_info.all else ""
    ordered = [
        info
        for info in status_info.by_key().values()
        if info.workflow_key == active_flow or current.get(info.key) or info.key in stays
    ]
    rows: list[list[Any]] = []
    hrefs: list[list[str]] = []
    for info in ordered:
        reached, stay = stays.get(info.key, (0, None))
        href = _link(filters, status=info.key)
        rows.append([info.label, current.get(info.key, 0), reached, None if info.category in TERMINAL else stay])
        hrefs.append([href, href, "", ""])
    longest = max(
        (row for row in rows if row[3] is not None), key=lambda row: row[3], default=None
    )  # where requirements wait longest
    return Section(
        key="funnel",
        title=_("状态漏斗"),
        blocks=[
            Chart(
                key="status_funnel",
                title=_("当前状态（按流程顺序）"),
                kind="funnel",
                categories=[row[0] for row in rows],
                series=[Series(_("需求数"), [row[1] for row in rows])],
                hrefs=[h[0] for h in hrefs],
                unit="count",
            ),
            Chart(
                key="status_stay",
                title=_("各状态平均停留天数"),
                kind="hbar",
                categories=[row[0] for row in rows if row[3] is not None],
                series=[Series(_("平均停留（天）"), [row[3] for row in rows if row[3] is not None])],
                hrefs=[h[0] for row, h in zip(rows, hrefs, strict=True) if row[3] is not None],
                unit="d",
                note=(_("停留最久：%(status)s") % {"status": longest[0]}) if longest else "",
            ),
            Table(
                key="status_table",
                title=_("状态明细"),
                columns=[_("状态"), _("当前数量"), _("曾进入数量"), _("平均停留（天）")],
                rows=rows,
                hrefs=hrefs,
                note=_("停留时间从进入该状态起，到下一次流转（仍在该状态的算到现在）；已完成、已拒绝不计停留。"),
            ),
        ],
    )


# ----------------------------------------------------------------- trends


def buckets(filters: ReportFilters) -> list[tuple[dt.date, dt.date, str]]:
    """The weeks (Monday first) or months of the period, clipped to it, with their labels."""
    out: list[tuple[dt.date, dt.date, str]] = []
    cursor = filters.start
    while cursor <= filters.end:
        if filters.grain == "month":
            nxt = (cursor.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
            label = f"{cursor.year}-{cursor.month:02d}"
        else:
            nxt = cursor - dt.timedelta(days=cursor.weekday()) + dt.timedelta(days=7)
            label = cursor.strftime("%m-%d")
        last = min(nxt - dt.timedelta(days=1), filters.end)
        out.append((cursor, last, label))
        cursor = nxt
    return out


def trends(filters: ReportFilters, per_day: dict[dt.date, tuple[int, int]]) -> Section:
    spans = buckets(filters)
    submitted = [0] * len(spans)
    resolved = [0] * len(spans)
    starts = [first for first, _last, _label in spans]
    for day, (total, done) in per_day.items():
        i = bisect.bisect_right(starts, day) - 1
        if 0 <= i < len(spans):
            submitted[i] += total
            resolved[i] += done
    rates = [q.rate(r, t) for r, t in zip(resolved, submitted, strict=True)]
    hrefs = [
        _link(filters, submitted_after=first.isoformat(), submitted_before=last.isoformat())
        for first, last, _label in spans
    ]
    grain = _("按月") if filters.grain == "month" else _("按周")
    return Section(
        key="trends",
        title=_("趋势（%(grain)s）") % {"grain": grain},
        blocks=[
            Chart(
                key="trend",
                title=_("提交与解决"),
                kind="line",
                categories=[label for _f, _l, label in spans],
                series=[Series(_("提交数"), submitted), Series(_("已解决"), resolved)],
                hrefs=hrefs,
                unit="count",
                note=_("按提交时间分组；已解决为其中目前已完成的需求"),
            ),
            Chart(
                key="trend_rate",
                title=_("需求满足率"),
                kind="line",
                categories=[label for _f, _l, label in spans],
                series=[Series(_("满足率"), rates)],
                hrefs=[
                    _link(filters, submitted_after=f.isoformat(), submitted_before=la.isoformat(), resolved="true")
                    for f, la, _label in spans
                ],
                unit="%",
            ),
        ],
    )


# ----------------------------------------------------------------- satisfaction and business effect


def satisfaction(s: dict[str, Any]) -> Section:
    csat = reverse("loop:csat")
    nps = reverse("loop:campaigns")
    return Section(
        key="satisfaction",
        title=_("满意度"),
        blocks=[
            Figure(
                "csat_avg",
                _("CSAT 平均分"),
                s["csat_avg"],
                "score",
                note=_("%(n)s 份回答（1–5 分）") % {"n": s["csat_count"]},
                href=csat,
            ),
            Figure(
                "nps",
                _("NPS"),
                s["nps"],
                "score",
                note=_("%(n)s 份回答：推荐者 %(p)s · 被动者 %(m)s · 贬损者 %(d)s")
                % {"n": s["nps_count"], "p": s["promoters"], "m": s["passives"], "d": s["detractors"]},
                href=nps,
            ),
            Chart(
                key="nps_mix",
                title=_("NPS 构成"),
                kind="pie",
                categories=[_("推荐者（9–10）"), _("被动者（7–8）"), _("贬损者（0–6）")],
                series=[Series(_("人数"), [s["promoters"], s["passives"], s["detractors"]])],
                hrefs=[nps, nps, nps],
                unit="count",
            ),
        ],
    )


def effect(s: dict[str, Any]) -> Section:
    evaluations = reverse("evaluation:list")

    def answered(n: int) -> str:
        return _("%(n)s 份评估作答") % {"n": n}

    return Section(
        key="effect",
        title=_("业务效果"),
        blocks=[
            Figure(
                "repurchase_rate", _("复购率"), s["repurchase_rate"], "%", answered(s["repurchase_count"]), evaluations
            ),
            Figure("renewal_rate", _("续约率"), s["renewal_rate"], "%", answered(s["renewal_count"]), evaluations),
            Figure("referral_rate", _("转介绍率"), s["referral_rate"], "%", answered(s["referral_count"]), evaluations),
            Figure(
                "complaint_drop_avg_pct",
                _("投诉平均下降"),
                s["complaint_drop_avg_pct"],
                "%",
                answered(s["complaint_drop_count"]),
                evaluations,
            ),
            Figure(
                "met_rate",
                _("需求满足（评估）"),
                s["met_rate"],
                "%",
                _("%(n)s 份评估作答，部分满足 %(p)s") % {"n": s["met_count"], "p": s["met_partly"]},
                evaluations,
            ),
        ],
    )


def _current(s: dict[str, Any]) -> dict[str, int]:
    return {key: n for key, _label, n in s["by_status"]}


def build(
    *,
    filters: ReportFilters,
    s: dict[str, Any],
    cohort: QuerySet[Requirement],
    sliced: QuerySet[Requirement],
    status_info: q.Statuses,
    now: dt.datetime,
) -> Report:
    return Report(
        kind="dashboard",
        title=_("需求仪表盘"),
        scope=scope_words(filters),
        computed_at=now,
        subtitle=_("统计时间 %(at)s") % {"at": timezone.localtime(now).strftime("%Y-%m-%d %H:%M")},
        sections=[
            overview(filters, s),
            breakdowns(filters, cohort, sliced, now),
            distributions(filters, s),
            funnel(filters, s, status_info, q.time_in_status(cohort, now=now, current=_current(s))),
            trends(filters, q.per_day(cohort)),
            satisfaction(s),
            effect(s),
        ],
    )
