"""The per-customer needs report 客户需求报告: who the customer is, what they asked for (explicit) and what they
did not say but showed (implicit), by priority, how far each need has come, how satisfied they are, and the
next follow-up.

The requirements counted are the customer's (a live feedback item from the customer is their evidence) that the
reader may open, never merged into another: a sales rep reading the report of a customer they may see still
counts only the requirements they may open. A customer the reader may not see is "not found" (Http404), as on
the customer's own page. Every list is bounded (``LIST_LIMIT`` rows, the count says how many there are in all).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Avg, Case, Count, Exists, IntegerField, OuterRef, Q, QuerySet, Value, When
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from needpool.accounts.models import User
from needpool.core.validation import parse_id
from needpool.customers.choices import DecisionRole
from needpool.customers.models import Contact, Customer, FollowUpReminder, Interaction
from needpool.customers.permissions import visible_customers
from needpool.customers.selectors import customer_get
from needpool.loop.models import SurveyInvitation
from needpool.loop.selectors import DETRACTOR_MAX, PROMOTER_MIN
from needpool.reports.document import Chart, Figure, Report, Section, Series, Table, Text
from needpool.reports.filters import requirement_list_url
from needpool.requirements.choices import Priority, StatusCategory
from needpool.requirements.models import Feedback, Requirement
from needpool.requirements.permissions import visible_requirements

#: the most requirements listed per table (explicit, implicit, not marked); the counts cover all of them
LIST_LIMIT = 50
#: the recent interactions whose follow-up plans are shown
PLANS_SHOWN = 5

#: the status categories as this report names them: resolved / in progress / pending, then set aside
PROGRESS_ORDER = [
    StatusCategory.DONE,
    StatusCategory.ACTIVE,
    StatusCategory.NEW,
    StatusCategory.DEFERRED,
    StatusCategory.REJECTED,
]


def progress_label(category: str) -> str:
    return {
        StatusCategory.DONE: _("已解决"),
        StatusCategory.ACTIVE: _("处理中"),
        StatusCategory.NEW: _("待处理"),
        StatusCategory.DEFERRED: _("暂缓"),
        StatusCategory.REJECTED: _("已拒绝"),
    }[StatusCategory(category)]


EXPLICIT = "explicit"
IMPLICIT = "implicit"
PRIORITIES = [p.value for p in Priority]

_PRIORITY_RANK = Case(
    *[When(priority=p, then=Value(i)) for i, p in enumerate(PRIORITIES)],
    default=Value(len(PRIORITIES)),
    output_field=IntegerField(),
)


def customer_requirements(user: User, customer: Customer) -> QuerySet[Requirement]:
    """The requirements of ``customer`` that ``user`` may open: a live feedback item from the customer links
    them; merged requirements have left the pool (their survivor carries the feedback) and deleted ones too."""
    linked = Feedback.objects.filter(requirement=OuterRef("pk"), customer=customer)
    return visible_requirements(user).filter(Exists(linked), merged_into__isnull=True)


@dataclass(frozen=True)
class _Counts:
    total: int
    by_source: Counter[str]
    by_priority: Counter[str]
    by_category: Counter[str]
    by_priority_category: Counter[tuple[str, str]]


def _counts(qs: QuerySet[Requirement]) -> _Counts:
    """Every count of the report in one grouped query."""
    rows = qs.order_by().values_list("source__key", "priority", "status__category").annotate(n=Count("id"))
    by_source: Counter[str] = Counter()
    by_priority: Counter[str] = Counter()
    by_category: Counter[str] = Counter()
    by_priority_category: Counter[tuple[str, str]] = Counter()
    total = 0
    for source, priority, category, n in rows:
        total += n
        by_source[source or ""] += n
        by_priority[priority or ""] += n
        by_category[category] += n
        by_priority_category[(priority or "", category)] += n
    return _Counts(total, by_source, by_priority, by_category, by_priority_category)


def _requirement_table(key: str, title: str, qs: QuerySet[Requirement], total: int, *, empty_note: str = "") -> Table:
    rows: list[list[Any]] = []
    hrefs: list[list[str]] = []
    listed = (
        qs.select_related("status")
        .only("id", "code", "title", "priority", "submitted_at", "status__label", "status__label_en")
        .order_by(_PRIORITY_RANK, "-submitted_at", "-id")[:LIST_LIMIT]
    )
    for requirement in listed:
        link = reverse("requirements:detail", args=[requirement.pk])
        rows.append([requirement.code, requirement.title, requirement.priority or _("未定"), str(requirement.status)])
        hrefs.append([link, link, "", ""])
    if total > LIST_LIMIT:
        note = _("共 %(total)s 条，列出优先级最高的 %(shown)s 条。") % {"total": total, "shown": LIST_LIMIT}
    else:
        note = "" if rows else empty_note
    return Table(
        key=key,
        title=title,
        columns=[_("需求编号"), _("标题"), _("优先级"), _("状态")],
        rows=rows,
        hrefs=hrefs,
        note=note,
    )


def _profile_section(customer: Customer, counts: _Counts, list_href: str) -> Section:
    contact = (
        Contact.objects.filter(customer=customer)
        .annotate(
            maker=Case(
                When(decision_role=DecisionRole.DECISION_MAKER, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("maker", "id")
        .first()
    )
    contact_note = ""
    if contact is not None:
        contact_note = " · ".join(p for p in (contact.title, contact.get_decision_role_display()) if p)
    return Section(
        key="profile",
        title=_("客户概况"),
        blocks=[
            Figure(key="industry", label=_("所属行业"), value=customer.industry or None),
            Figure(key="segment", label=_("客户分层"), value=customer.get_segment_display()),
            Figure(key="value_tier", label=_("客户价值"), value=customer.get_value_tier_display()),
            Figure(key="owner", label=_("客户负责人"), value=str(customer.owner) if customer.owner_id else None),
            Figure(
                key="contact",
                label=_("主要联系人"),
                value=contact.name if contact is not None else None,
                note=contact_note,
            ),
            Figure(key="requirements", label=_("需求总数"), value=counts.total, unit="count", href=list_href),
        ],
    )


def _needs_section(customer: Customer, base: QuerySet[Requirement], counts: _Counts) -> Section:
    explicit = counts.by_source.get(EXPLICIT, 0)
    implicit = counts.by_source.get(IMPLICIT, 0)
    unmarked = counts.total - explicit - implicit
    blocks: list[Any] = [
        Figure(
            key="explicit",
            label=_("显性需求"),
            value=explicit,
            unit="count",
            note=_("客户明确提出的"),
            href=requirement_list_url(None, customer=customer.pk, source=EXPLICIT),
        ),
        Figure(
            key="implicit",
            label=_("隐性需求"),
            value=implicit,
            unit="count",
            note=_("客户未明说、从沟通中识别的"),
            href=requirement_list_url(None, customer=customer.pk, source=IMPLICIT),
        ),
        _requirement_table(
            "explicit_needs",
            _("显性需求"),
            base.filter(source__key=EXPLICIT),
            explicit,
            empty_note=_("没有显性需求"),
        ),
        _requirement_table(
            "implicit_needs",
            _("隐性需求"),
            base.filter(source__key=IMPLICIT),
            implicit,
            empty_note=_("没有隐性需求"),
        ),
    ]
    if unmarked:
        blocks.append(
            _requirement_table(
                "unmarked_needs",
                _("未标注显性/隐性"),
                base.exclude(source__key__in=[EXPLICIT, IMPLICIT]),
                unmarked,
            )
        )
    return Section(key="needs", title=_("显性与隐性需求"), blocks=blocks)


def _priority_section(customer: Customer, counts: _Counts) -> Section:
    keys = [*PRIORITIES, ""]
    labels = [*PRIORITIES, _("未定")]
    values = [counts.by_priority.get(k, 0) for k in keys]
    hrefs = [requirement_list_url(None, customer=customer.pk, priority=k or None) for k in keys]
    total_href = requirement_list_url(None, customer=customer.pk)
    return Section(
        key="priority",
        title=_("按优先级"),
        blocks=[
            Chart(
                key="by_priority",
                title=_("各优先级需求数"),
                kind="bar",
                categories=labels,
                series=[Series(name=_("需求数"), values=values)],
                hrefs=hrefs,
                unit="count",
            ),
            Table(
                key="priority_table",
                title=_("各优先级的处理进展"),
                columns=[_("优先级"), _("需求数"), *[progress_label(c) for c in PROGRESS_ORDER]],
                rows=[
                    *[
                        [label, counts.by_priority.get(k, 0)]
                        + [counts.by_priority_category.get((k, c.value), 0) for c in PROGRESS_ORDER]
                        for label, k in zip(labels, keys, strict=True)
                    ],
                    [_("合计"), counts.total] + [counts.by_category.get(c.value, 0) for c in PROGRESS_ORDER],
                ],
                hrefs=[["", h] + [""] * len(PROGRESS_ORDER) for h in [*hrefs, total_href]],
            ),
        ],
    )


def _progress_section(customer: Customer, counts: _Counts) -> Section:
    def href(category: StatusCategory) -> str:
        return requirement_list_url(None, customer=customer.pk, status_category=category.value)

    done = counts.by_category.get(StatusCategory.DONE, 0)
    rate = round(100 * done / counts.total, 1) if counts.total else None
    keys = {
        StatusCategory.DONE: "resolved",
        StatusCategory.ACTIVE: "in_progress",
        StatusCategory.NEW: "pending",
        StatusCategory.DEFERRED: "deferred",
        StatusCategory.REJECTED: "rejected",
    }
    blocks: list[Any] = [
        Figure(
            key=keys[c],
            label=progress_label(c),
            value=counts.by_category.get(c.value, 0),
            unit="count",
            href=href(c),
        )
        for c in PROGRESS_ORDER
    ]
    blocks += [
        Figure(
            key="fulfilment_rate",
            label=_("需求满足率"),
            value=rate,
            unit="%",
            note=f"{done} / {counts.total}" if counts.total else "",
        ),
        Chart(
            key="by_progress",
            title=_("需求处理进展"),
            kind="pie",
            categories=[progress_label(c) for c in PROGRESS_ORDER],
            series=[Series(name=_("需求数"), values=[counts.by_category.get(c.value, 0) for c in PROGRESS_ORDER])],
            hrefs=[href(c) for c in PROGRESS_ORDER],
            unit="count",
        ),
    ]
    return Section(key="progress", title=_("处理进展"), blocks=blocks)


def _nps_group(score: int) -> str:
    if score >= PROMOTER_MIN:
        return _("推荐者")
    if score <= DETRACTOR_MAX:
        return _("贬损者")
    return _("被动者")


def _satisfaction_section(customer: Customer, base: QuerySet[Requirement]) -> Section:
    answered = SurveyInvitation.objects.filter(customer=customer, score__isnull=False)
    # CSAT answers count only for requirements the reader may open (the same rule as every other count).
    csat = answered.filter(kind=SurveyInvitation.Kind.CSAT, requirement__in=base.values("pk")).aggregate(
        average=Avg("score"), count=Count("pk")
    )
    average = None if csat["average"] is None else round(float(csat["average"]), 2)
    nps = (
        answered.filter(kind=SurveyInvitation.Kind.NPS)
        .order_by("-answered_at", "-id")
        .only("score", "answered_at")
        .first()
    )
    nps_note = ""
    if nps is not None and nps.score is not None:
        answered_on = timezone.localdate(nps.answered_at) if nps.answered_at else None
        nps_note = f"{_nps_group(nps.score)}{' · ' + answered_on.isoformat() if answered_on else ''}"
    return Section(
        key="satisfaction",
        title=_("满意度"),
        blocks=[
            Figure(
                key="csat_avg",
                label=_("满意度平均分（CSAT 1–5）"),
                value=average,
                unit="score",
                note=_("%(n)s 份回答") % {"n": csat["count"]} if csat["count"] else _("暂无回答"),
            ),
            Figure(
                key="nps_latest",
                label=_("最近一次推荐意愿（NPS 0–10）"),
                value=nps.score if nps is not None else None,
                unit="score",
                note=nps_note or _("暂无回答"),
            ),
        ],
    )


def _follow_up_section(customer: Customer, today: dt.date) -> Section:
    planned = list(
        Interaction.objects.filter(customer=customer)
        .filter(~Q(next_follow_up_plan="") | Q(next_follow_up_date__isnull=False))
        .only("occurred_at", "channel", "next_follow_up_plan", "next_follow_up_date")
        .order_by("-occurred_at", "-id")[:PLANS_SHOWN]
    )
    reminder = FollowUpReminder.objects.filter(customer=customer).order_by("-on", "-id").first()
    next_date = customer.next_follow_up
    date_note = ""
    if next_date is not None:
        days = (next_date - today).days
        if days < 0:
            date_note = _("已逾期 %(n)s 天") % {"n": -days}
        elif days == 0:
            date_note = _("今天")
        else:
            date_note = _("还有 %(n)s 天") % {"n": days}
    items: list[str] = []
    latest_plan = next((i for i in planned if i.next_follow_up_plan), None)
    if latest_plan is not None:
        when = latest_plan.next_follow_up_date or next_date
        items.append(
            _("%(date)s：%(plan)s")
            % {"date": when.isoformat() if when else _("日期待定"), "plan": latest_plan.next_follow_up_plan}
        )
    elif next_date is not None:
        items.append(_("%(date)s：按跟进节奏联系客户") % {"date": next_date.isoformat()})
    # A reminder is still open while the follow-up date it reminded of has not moved (no contact since).
    if reminder is not None and next_date is not None and reminder.due == next_date:
        items.append(
            _("已于 %(on)s 提醒客户负责人跟进（应跟进日期 %(due)s）")
            % {"on": reminder.on.isoformat(), "due": reminder.due.isoformat()}
        )
    return Section(
        key="follow_up",
        title=_("下一步跟进"),
        blocks=[
            Figure(key="next_follow_up", label=_("下次跟进日期"), value=next_date, note=date_note),
            Figure(key="follow_status", label=_("跟进状态"), value=customer.get_follow_status_display()),
            Text(key="next_actions", title=_("下一步行动"), body="" if items else _("还没有跟进计划。"), items=items),
            Table(
                key="follow_up_plans",
                title=_("近期互动的跟进计划"),
                columns=[_("接触时间"), _("接触方式"), _("下次跟进计划"), _("下次跟进日期")],
                rows=[
                    [
                        timezone.localtime(i.occurred_at).strftime("%Y-%m-%d %H:%M"),
                        i.get_channel_display(),
                        i.next_follow_up_plan,
                        i.next_follow_up_date,
                    ]
                    for i in planned
                ],
                note="" if planned else _("近期互动没有记录跟进计划"),
            ),
        ],
    )


def build(user: User, customer: Customer, now: dt.datetime | None = None) -> Report:
    """The needs report of ``customer`` as ``user`` may see it (Http404 when they may not see the customer)."""
    now = now or timezone.now()
    if not visible_customers(user).filter(pk=customer.pk).exists():
        raise Http404
    base = customer_requirements(user, customer)
    counts = _counts(base)
    list_href = requirement_list_url(None, customer=customer.pk)
    scope = [_("客户 %(code)s %(name)s") % {"code": customer.code, "name": customer.name}]
    if customer.owner_id:
        scope.append(_("负责人 %(owner)s") % {"owner": customer.owner})
    return Report(
        kind="customer",
        title=_("客户需求报告 · %(name)s") % {"name": customer.name},
        scope=scope,
        computed_at=now,
        sections=[
            _profile_section(customer, counts, list_href),
            _needs_section(customer, base, counts),
            _priority_section(customer, counts),
            _progress_section(customer, counts),
            _satisfaction_section(customer, base),
            _follow_up_section(customer, timezone.localdate(now)),
        ],
    )


def customer_for_query(user: User, value: Any) -> Customer:
    """The customer named by id or code (C2024001) that ``user`` may see; ValidationError when none is named,
    Http404 when it is unknown or out of the reader's scope."""
    token = str(value or "").strip()
    if not token:
        raise ValidationError({"customer": _("请指定客户（编号或 ID）。")}, code="required")
    if len(token) > 60:
        raise ValidationError({"customer": _("客户编号过长。")}, code="invalid")
    pk = parse_id(token)
    if pk is None and token.isdigit():
        raise ValidationError({"customer": _("客户 ID 无效。")}, code="invalid")
    if pk is not None:
        return customer_get(user=user, pk=pk)
    found = visible_customers(user).select_related("owner").filter(code=token.upper()).first()
    if found is None:
        raise Http404
    return found


def build_from_query(user: User, query: dict[str, Any]) -> Report:
    """The report for ``{"customer": "<id or code>"}`` (the exporter's entry)."""
    return build(user, customer_for_query(user, query.get("customer")), timezone.now())
