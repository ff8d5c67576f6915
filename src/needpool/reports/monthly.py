"""The monthly review 复盘: one month's figures against the month before, in words, with the team's conclusions.

``build`` turns ``metrics.summary`` of the month and of the month before into a ``document.Report``: the headline
figures (each with its change against the previous month), generated sentences about the month's structure
("本月 30% 的需求为功能优化（6/20）" for every type, channel and customer segment with a share of 10 % or
more), the biggest movers, the SLA breaches, what was launched, the open risks and the conclusions.

Nothing of it is stored: the numbers are computed when the review is opened, exported or mailed, and the
document says when (``computed_at``, 数据截至), so a requirement changed after the month shows in them.

A review covers the whole team, so reading it needs ``Cap.SEE_ALL``; writing the conclusions and the mail
schedule needs ``Cap.ANALYSE``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from needpool.accounts.models import User
from needpool.accounts.roles import Cap
from needpool.core.permissions import user_can
from needpool.reports import metrics
from needpool.reports.document import Figure, Report, Section, Table, Text, Unit
from needpool.reports.filters import ReportFilters, requirement_list_url
from needpool.reports.models import MonthlyReview
from needpool.reports.selectors import sliced_requirements
from needpool.requirements.choices import Priority, StatusCategory

SHARE_THRESHOLD = Decimal("0.10")  # a type / channel / segment at or above this share gets its sentence
MOVERS_TOP = 5
LIST_ROWS = 100  # SLA breaches and launches listed in the review (the rest is one click away)
RISK_ROWS = 20
FIRST_MONTH = dt.date(2000, 1, 1)
_MONTH = re.compile(r"(\d{4})-(\d{1,2})")


# ---------------------------------------------------------------- who


def can_read(user: Any) -> bool:
    """The review counts the whole team: only readers who see every requirement open it."""
    return user_can(user, Cap.SEE_ALL)


def can_write(user: Any) -> bool:
    """Conclusions and the mail schedule: the people who analyse the pool (and still see all of it)."""
    return user_can(user, Cap.ANALYSE) and user_can(user, Cap.SEE_ALL)


def require_read(user: Any) -> None:
    if not can_read(user):
        raise PermissionDenied(_("月度复盘统计全团队的数据，只有可查看全部需求的用户可以查看。"))


# ---------------------------------------------------------------- months


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def month_label(month: dt.date) -> str:
    return _("%(year)s 年 %(month)s 月") % {"year": month.year, "month": month.month}


def month_key(month: dt.date) -> str:
    return f"{month:%Y-%m}"


def previous_month(month: dt.date) -> dt.date:
    return month_start(month - dt.timedelta(days=1))


def parse_month(text: Any, *, today: dt.date | None = None) -> dt.date:
    """``YYYY-MM`` → the month's first day; a malformed, impossible or future month is refused in words."""
    today = today or timezone.localdate()
    raw = str(text or "").strip()
    match = _MONTH.fullmatch(raw)
    if not raw:
        raise ValidationError({"month": _("请选择月份（格式 YYYY-MM，例如 2026-11）。")}, code="required")
    if match is None or not 1 <= int(match.group(2)) <= 12:
        raise ValidationError(
            {"month": _("月份“%(value)s”无效，格式应为 YYYY-MM，例如 2026-11。") % {"value": raw[:20]}},
            code="invalid",
        )
    month = dt.date(int(match.group(1)), int(match.group(2)), 1)
    if month < FIRST_MONTH:
        raise ValidationError({"month": _("月份不能早于 2000-01。")}, code="too_early")
    if month > month_start(today):
        raise ValidationError(
            {"month": _("%(month)s 尚未开始，不能生成复盘。") % {"month": month_key(month)}}, code="future"
        )
    return month


# ---------------------------------------------------------------- words


def _number(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    return Decimal(str(value))


def _one_decimal(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def percent_text(part: int, whole: int) -> str:
    """A share as a percentage with at most one decimal: 6/20 → "30%", 1/3 → "33.3%"."""
    share = (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return f"{share.normalize():f}%" if share != share.to_integral() else f"{int(share)}%"


def change_note(current: Any, previous: Any, unit: Unit) -> str:
    """The change against the previous month in words ("较上月 +5.0 个百分点", "与上月持平", "上月无数据")."""
    now, before = _number(current), _number(previous)
    if now is None and before is None:
        return _("本月与上月均无数据")
    if before is None:
        return _("上月无数据")
    if now is None:
        return _("本月无数据（上月 %(value)s）") % {"value": _shown(before, unit)}
    delta = now - before
    if unit in ("count", ""):
        if delta == 0:
            return _("与上月持平")
        text = f"{int(delta):+d}"
        if before > 0:
            text += "（" + f"{(delta * 100 / before).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP):+}" + "%）"
        return _("较上月 %(change)s") % {"change": text}
    rounded = delta.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    if rounded == 0:
        return _("与上月持平")
    signed = f"{rounded:+}"
    if unit == "%":
        return _("较上月 %(change)s 个百分点") % {"change": signed}
    if unit == "h":
        return _("较上月 %(change)s 小时") % {"change": signed}
    if unit == "d":
        return _("较上月 %(change)s 天") % {"change": signed}
    return _("较上月 %(change)s") % {"change": signed}


def _shown(value: Decimal, unit: Unit) -> str:
    if unit in ("count", ""):
        return str(int(value))
    if unit == "h":
        return _("%(value)s 小时") % {"value": _one_decimal(value)}
    if unit == "d":
        return _("%(value)s 天") % {"value": _one_decimal(value)}
    return _one_decimal(value) + ("%" if unit == "%" else "")


def structure_sentences(summary: Mapping[str, Any]) -> list[str]:
    """One sentence per type, channel and customer segment holding at least 10 % of the month's requirements."""
    total = int(summary.get("total") or 0)
    if total <= 0:
        return []
    patterns = [
        ("by_type", _("本月 %(share)s 的需求为%(label)s（%(count)s/%(total)s）")),
        ("by_channel", _("本月 %(share)s 的需求来自%(label)s（%(count)s/%(total)s）")),
        ("by_segment", _("本月 %(share)s 的需求来自%(label)s客户（%(count)s/%(total)s）")),
    ]
    sentences = []
    for key, pattern in patterns:
        for _key, label, count in summary.get(key) or []:
            if count and Decimal(int(count)) / Decimal(total) >= SHARE_THRESHOLD:
                sentences.append(
                    pattern % {"share": percent_text(int(count), total), "label": label, "count": count, "total": total}
                )
    return sentences


def biggest_movers(
    current: Mapping[str, Any], previous: Mapping[str, Any], filters: ReportFilters, *, top: int = MOVERS_TOP
) -> Table:
    """Types, channels, tags and segments whose count changed most against the previous month (top ``top``;
    unchanged ones are left out; ties by the larger count now, then by dimension and label)."""
    dimensions = [
        ("by_type", _("类型"), "type"),
        ("by_channel", _("渠道"), "channel"),
        ("by_tag", _("标签"), "tag"),
        ("by_segment", _("客户分层"), "segment"),
    ]
    candidates: list[tuple[int, int, int, str, list[Any], str]] = []
    for order, (key, dimension, param) in enumerate(dimensions):
        now = {k: (label, int(count)) for k, label, count in current.get(key) or []}
        before = {k: (label, int(count)) for k, label, count in previous.get(key) or []}
        for item in now.keys() | before.keys():
            label = (now.get(item) or before[item])[0]
            count_now = now.get(item, (label, 0))[1]
            count_before = before.get(item, (label, 0))[1]
            delta = count_now - count_before
            if delta == 0:
                continue
            href = requirement_list_url(filters, **{param: item}) if item not in (None, "") else ""
            row = [str(dimension), str(label), count_now, count_before, f"{delta:+d}"]
            candidates.append((-abs(delta), -count_now, order, str(label), row, href))
    candidates.sort(key=lambda c: (c[0], c[1], c[2], c[3]))
    chosen = candidates[:top]
    return Table(
        key="movers",
        title=_("与上月相比变化最大的 %(n)s 项") % {"n": top},
        columns=[_("维度"), _("项目"), _("本月"), _("上月"), _("变化")],
        rows=[c[4] for c in chosen],
        hrefs=[["", c[5], c[5], "", ""] for c in chosen],
        note=_("按需求数量的增减排列，包括类型、渠道、标签与客户分层；数量不变的不列出。"),
    )


def _detail(pk: int) -> str:
    return reverse("requirements:detail", args=[pk])


def _requirement_table(key: str, title: str, items: list[Any], count: Any, empty: str) -> Table:
    """Requirements as (id, code, title) rows linking to each; ``count`` is how many there are in all (the
    summary lists the first ones only)."""
    shown = items[:LIST_ROWS]
    total = max(int(count or 0), len(items))
    note = empty if not items else ""
    if total > len(shown):
        note = _("共 %(n)s 条，此处列出前 %(shown)s 条。") % {"n": total, "shown": len(shown)}
    return Table(
        key=key,
        title=title,
        columns=[_("需求编号"), _("标题")],
        rows=[[code, name] for _pk, code, name in shown],
        hrefs=[[_detail(pk), _detail(pk)] for pk, _code, _name in shown],
        note=note,
    )


# ---------------------------------------------------------------- the document


FIGURES: list[tuple[str, Unit]] = [
    ("total", "count"),
    ("fulfilment_rate", "%"),
    ("sla_compliance", "%"),
    ("first_response_avg_hours", "h"),
    ("lead_launch_avg_days", "d"),
    ("lead_close_avg_days", "d"),
    ("overdue_requirements", "count"),
    ("csat_avg", "score"),
    ("nps", "score"),
]


def _label(key: str) -> str:
    labels = {
        "total": _("需求总数"),
        "fulfilment_rate": _("需求满足率"),
        "sla_compliance": _("SLA 达成率"),
        "first_response_avg_hours": _("平均首次响应"),
        "lead_launch_avg_days": _("平均上线周期"),
        "lead_close_avg_days": _("平均关闭周期"),
        "overdue_requirements": _("逾期需求"),
        "csat_avg": _("CSAT 平均分"),
        "nps": _("NPS"),
    }
    return labels[key]


def _detail_note(key: str, s: Mapping[str, Any]) -> str:
    if key == "fulfilment_rate":
        return _("已解决 %(resolved)s / %(total)s") % {"resolved": s.get("resolved", 0), "total": s.get("total", 0)}
    if key == "sla_compliance":
        return _("按时 %(met)s / %(due)s") % {"met": s.get("sla_met", 0), "due": s.get("sla_due", 0)}
    if key == "csat_avg":
        return _("%(n)s 份答卷") % {"n": s.get("csat_count", 0)}
    if key == "nps":
        return _("推荐 %(p)s · 中立 %(m)s · 贬损 %(d)s") % {
            "p": s.get("promoters", 0),
            "m": s.get("passives", 0),
            "d": s.get("detractors", 0),
        }
    return ""


#: a figure that is a state of today links to the list without the period
NOT_IN_PERIOD: dict[str, Any] = {"submitted_after": None, "submitted_before": None}
#: figures that are a state of today: the previous month's summary gives the same number, so no change is shown
TODAY_STATE = {"overdue_requirements"}


def overdue_href(filters: ReportFilters) -> str:
    """The open requirements of the slice past their expected date (a state of today, not of the period)."""
    return requirement_list_url(filters, overdue="true", sort="expected_date", **NOT_IN_PERIOD)


def _figure_href(key: str, filters: ReportFilters) -> str:
    if key == "total":
        return requirement_list_url(filters)
    if key == "sla_compliance":
        return requirement_list_url(filters, sla_breached="true")
    if key == "overdue_requirements":
        return overdue_href(filters)
    return ""


def overview_figures(current: Mapping[str, Any], previous: Mapping[str, Any], filters: ReportFilters) -> list[Figure]:
    figures = []
    for key, unit in FIGURES:
        if key in TODAY_STATE:
            note = _("截至今日，不限提交月份（不与上月比较）")
        else:
            note = change_note(current.get(key), previous.get(key), unit)
        detail = _detail_note(key, current)
        figures.append(
            Figure(
                key=key,
                label=_label(key),
                value=current.get(key),
                unit=unit,
                note=f"{detail} · {note}" if detail else note,
                href=_figure_href(key, filters),
            )
        )
    return figures


def _open_priority(user: User, filters: ReportFilters) -> tuple[dict[str, int], list[Any]]:
    """Open P0 / P1 requirements in the reader's scope (today's state, whatever their submission month)."""
    open_q = Q(status__category__in=[StatusCategory.NEW, StatusCategory.ACTIVE])
    urgent = sliced_requirements(user, filters).filter(open_q, priority__in=[Priority.P0, Priority.P1])
    counts = urgent.aggregate(
        p0=Count("pk", filter=Q(priority=Priority.P0)), p1=Count("pk", filter=Q(priority=Priority.P1))
    )
    rows = list(
        urgent.order_by("priority", "submitted_at", "pk").values_list("pk", "code", "title", "priority")[:RISK_ROWS]
    )
    return {"p0": int(counts["p0"] or 0), "p1": int(counts["p1"] or 0)}, rows


def _risk_section(user: User, current: Mapping[str, Any], filters: ReportFilters) -> Section:
    counts, rows = _open_priority(user, filters)
    blocks: list[Any] = [
        Figure(
            key="risk_overdue_requirements",
            label=_("逾期需求"),
            value=current.get("overdue_requirements"),
            unit="count",
            note=_("超过期望时间仍未完成"),
            href=overdue_href(filters),
        ),
        Figure(
            key="risk_overdue_tasks",
            label=_("逾期任务"),
            value=current.get("overdue_tasks"),
            unit="count",
            note=_("超过截止日期仍未完成的交付任务"),
        ),
        Figure(
            key="open_p0",
            label=_("未完成 P0"),
            value=counts["p0"],
            unit="count",
            note=_("截至今日，不限提交月份"),
            href=requirement_list_url(filters, priority="P0", **NOT_IN_PERIOD),
        ),
        Figure(
            key="open_p1",
            label=_("未完成 P1"),
            value=counts["p1"],
            unit="count",
            note=_("截至今日，不限提交月份"),
            href=requirement_list_url(filters, priority="P1", **NOT_IN_PERIOD),
        ),
        Table(
            key="open_priority",
            title=_("未完成的 P0 / P1 需求"),
            columns=[_("需求编号"), _("标题"), _("优先级")],
            rows=[[code, title, priority] for _pk, code, title, priority in rows],
            hrefs=[[_detail(pk), _detail(pk), ""] for pk, _code, _title, _priority in rows],
            note=(
                _("没有未完成的 P0 / P1 需求。")
                if not rows
                else _("按优先级、提交时间排列，最多列出 %(n)s 条。") % {"n": RISK_ROWS}
            ),
        ),
    ]
    return Section(key="risks", title=_("风险"), blocks=blocks)


def build(review_month: dt.date, user: User, now: dt.datetime | None = None) -> Report:
    """The review of ``review_month`` (any day of it) as the reader ``user`` counts it, computed at ``now``."""
    require_read(user)
    now = now or timezone.now()
    month = month_start(review_month)
    filters = ReportFilters.for_month(month.year, month.month)
    before = filters.previous()
    current = metrics.summary(user=user, filters=filters, now=now)
    previous = metrics.summary(user=user, filters=before, now=now)
    review = MonthlyReview.objects.filter(month=month).only("conclusions").first()

    sentences = structure_sentences(current)
    structure = Text(
        key="structure",
        title=_("需求结构"),
        body=(
            ""
            if sentences
            else (_("本月没有新需求。") if not current.get("total") else _("没有占比达到 10% 的类型、渠道或客户分层。"))
        ),
        items=sentences,
    )
    breaches = list(current.get("sla_breaches") or [])
    launched = list(current.get("launched") or [])
    conclusions = (review.conclusions if review is not None else "").strip()
    sections = [
        Section(key="overview", title=_("概览"), blocks=list(overview_figures(current, previous, filters))),
        Section(key="structure", title=_("结构"), blocks=[structure]),
        Section(key="movers", title=_("变化最大"), blocks=[biggest_movers(current, previous, filters)]),
        Section(
            key="sla",
            title=_("SLA 超时"),
            blocks=[
                _requirement_table(
                    "sla_breaches",
                    _("首次响应超时的需求"),
                    breaches,
                    current.get("sla_breach_count"),
                    _("本月提交的需求没有 SLA 超时。"),
                )
            ],
        ),
        Section(
            key="launched",
            title=_("已上线"),
            blocks=[
                _requirement_table(
                    "launched", _("本月上线的需求"), launched, current.get("launched_count"), _("本月没有上线的需求。")
                )
            ],
        ),
        _risk_section(user, current, filters),
        Section(
            key="conclusions",
            title=_("团队结论"),
            blocks=[Text(key="conclusions", title=_("团队结论"), body=conclusions or _("尚未填写团队结论。"))],
        ),
    ]
    return Report(
        kind="monthly",
        title=_("%(month)s需求复盘") % {"month": month_label(month)},
        scope=[
            _("期间 %(start)s 至 %(end)s") % {"start": filters.start.isoformat(), "end": filters.end.isoformat()},
            _("对比上月 %(start)s 至 %(end)s") % {"start": before.start.isoformat(), "end": before.end.isoformat()},
        ],
        computed_at=now,
        sections=sections,
        subtitle=_(
            "数字在打开、导出或发送时按当时的数据重新计算（见“数据截至”），月份结束后对需求的修改也会反映在其中。"
        ),
    )


def build_from_query(user: User, query: Mapping[str, Any], now: dt.datetime | None = None) -> Report:
    """The review named by ``query`` (``month=YYYY-MM``), for exports; bad or future months are refused."""
    now = now or timezone.now()
    month = parse_month(query.get("month"), today=timezone.localdate(now))
    return build(month, user, now)


def figure_text(figure: Figure) -> str:
    """A figure's value as read in a mail or a plain page: "62.5%", "3.5 小时", "12", "—" for no data."""
    value = _number(figure.value)
    if value is None:
        return "—"
    if figure.unit == "score":
        return _one_decimal(value)
    return _shown(value, figure.unit)


def review_path(month: dt.date) -> str:
    return reverse("reports:monthly_detail", args=[month_key(month)])
