"""Follow-up cadence by customer segment 客户分层跟进节奏: the table, the next follow-up date, due reminders and
the segment a customer's signals suggest.

- The cadence table: one row per segment (``FollowUpCadence``), defaults from the CRM template: high-value
  monthly with a quarterly senior visit, potential every two weeks, churn-risk weekly (with a win-back
  plan), normal quarterly. Admins edit it (``Cap.CONFIGURE``).
- ``Customer.next_follow_up`` = the last interaction's day + the segment's interval. Recording an interaction
  with a planned date (下次跟进日期) takes that date (``interaction_create`` calls
  ``follow_up_after_interaction`` in its transaction); the daily job (``follow_ups_refresh``) then holds every
  customer to its cadence: a missing date, or one a later contact has left behind, becomes the cadence's
  date, and a planned date beyond it is brought forward to it (the cadence is the longest gap, so a
  segment's new interval applies the next morning). A planned date sooner than the cadence's is kept.
- Due and overdue follow-ups remind the account owner once per customer and day (``follow_up_reminders_send``).
- the home page lists the user's due customers with ``customers.selectors.follow_ups_due``.
- ``segment_suggestion(customer)``: the segment its signals suggest (value tier / purchase size, complaints
  in interactions, days without contact); ``customer_apply_suggested_segment`` applies it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Max, OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from needpool.accounts.models import User, Viewer
from needpool.accounts.roles import Cap
from needpool.core.audit import audit_record
from needpool.core.concurrency import check_version
from needpool.core.models import AuditEntry
from needpool.core.permissions import user_can
from needpool.customers.choices import InteractionChannel, Mood, Segment, ValueTier
from needpool.customers.models import Customer, FollowUpCadence, FollowUpReminder, Interaction
from needpool.customers.permissions import can_write_customer
from needpool.notify.kinds import EventKind
from needpool.notify.services import emit

MAX_INTERVAL_DAYS = 365
MAX_SENIOR_VISIT_DAYS = 730
NOTE_MAX_LENGTH = 300


@dataclass(frozen=True)
class CadenceDefault:
    interval_days: int
    senior_visit_days: int | None
    note: Any


DEFAULT_CADENCE: dict[str, CadenceDefault] = {
    Segment.HIGH_VALUE: CadenceDefault(
        30, 90, gettext_lazy("每月 1 次主动沟通（业务进展同步、行业资讯分享），季度高层拜访")
    ),
    Segment.POTENTIAL: CadenceDefault(14, None, gettext_lazy("每两周 1 次跟进，重点知晓需求变化")),
    Segment.CHURN_RISK: CadenceDefault(7, None, gettext_lazy("每周 1 次沟通，分析流失原因并制定挽回方案")),
    Segment.NORMAL: CadenceDefault(90, None, gettext_lazy("每季度 1 次回访")),
}


# ---------------------------------------------------------------- the table


def can_configure_cadence(user: Viewer) -> bool:
    return user_can(user, Cap.CONFIGURE)


def cadence_table() -> list[FollowUpCadence]:
    """One row per segment, in the segments' order: the saved row, or an unsaved one with the defaults."""
    saved = {row.segment: row for row in FollowUpCadence.objects.all()}
    rows = []
    for segment in Segment.values:
        if segment in saved:
            rows.append(saved[segment])
            continue
        default = DEFAULT_CADENCE[segment]
        rows.append(
            FollowUpCadence(
                segment=segment,
                interval_days=default.interval_days,
                senior_visit_days=default.senior_visit_days,
                note=str(default.note),
            )
        )
    return rows


def cadence_intervals() -> dict[str, int]:
    """Segment → follow-up interval in days (saved rows over the defaults)."""
    intervals = {segment: d.interval_days for segment, d in DEFAULT_CADENCE.items()}
    intervals.update(dict(FollowUpCadence.objects.values_list("segment", "interval_days")))
    return intervals


def cadence_for(segment: str) -> FollowUpCadence:
    return next((row for row in cadence_table() if row.segment == segment), cadence_table()[-1])


def _bounded_int(value: Any, low: int, high: int) -> int | None:
    try:
        number = int(value)
        if isinstance(value, (bool, float)) or str(number) != str(value) or not low <= number <= high:
            return None
        return number
    except (TypeError, ValueError):
        return None


@transaction.atomic
def cadence_update(
    *,
    actor: User,
    segment: str,
    interval_days: Any,
    senior_visit_days: Any = None,
    note: str = "",
    expected_version: int | None = None,
) -> FollowUpCadence:
    """Change one segment's cadence (admins); the customers' dates follow on the next daily run."""
    if not can_configure_cadence(actor):
        raise PermissionDenied(_("只有管理员可以修改跟进节奏。"))
    errors: dict[str, str] = {}
    if segment not in Segment.values:
        errors["segment"] = _("未知的客户分层。")
    interval = _bounded_int(interval_days, 1, MAX_INTERVAL_DAYS)
    if interval is None:
        errors["interval_days"] = _("跟进间隔必须是 1 到 %(max)s 之间的整数（天）。") % {"max": MAX_INTERVAL_DAYS}
    senior: int | None = None
    if senior_visit_days not in (None, ""):
        senior = _bounded_int(senior_visit_days, 1, MAX_SENIOR_VISIT_DAYS)
        if senior is None:
            errors["senior_visit_days"] = _("高层拜访间隔必须是 1 到 %(max)s 之间的整数（天），或留空。") % {
                "max": MAX_SENIOR_VISIT_DAYS
            }
    note = (note or "").strip()
    if len(note) > NOTE_MAX_LENGTH:
        errors["note"] = _("跟进要点不能超过 %(n)s 个字符。") % {"n": NOTE_MAX_LENGTH}
    if errors or interval is None:
        raise ValidationError(errors)
    row = FollowUpCadence.objects.select_for_update().filter(segment=segment).first()
    if row is None:
        try:
            with transaction.atomic():
                row = FollowUpCadence.objects.create(
                    segment=segment, interval_days=interval, senior_visit_days=senior, note=note, updated_by=actor
                )
        except IntegrityError:  # someone saved this segment's first row at the same moment
            row = FollowUpCadence.objects.select_for_update().get(segment=segment)
        else:
            audit_record(actor=actor, obj=row, action=AuditEntry.Action.CREATE, changes={"interval_days": interval})
            return row
    check_version(row.version, expected_version)
    changes = {
        name: [getattr(row, name), value]
        for name, value in (("interval_days", interval), ("senior_visit_days", senior), ("note", note))
        if getattr(row, name) != value
    }
    FollowUpCadence.objects.filter(pk=row.pk).update(
        interval_days=interval, senior_visit_days=senior, note=note, updated_by=actor, version=F("version") + 1
    )
    row.refresh_from_db()
    if changes:
        audit_record(actor=actor, obj=row, action=AuditEntry.Action.UPDATE, changes=changes)
    return row


# ---------------------------------------------------------------- the next follow-up


def next_follow_up_date(*, last_contact: dt.date, interval_days: int) -> dt.date:
    """The cadence's date: the last contact's day + the segment's interval."""
    return last_contact + dt.timedelta(days=interval_days)


def _interval(segment: str, intervals: dict[str, int] | None = None) -> int:
    found = (intervals if intervals is not None else cadence_intervals()).get(segment)
    return found if found is not None else DEFAULT_CADENCE[Segment.NORMAL].interval_days


def _set_next(customer_id: int, value: dt.date) -> bool:
    """Store the date when it changed (the customer's version moves on, as for any edit)."""
    return bool(
        Customer.objects.filter(pk=customer_id)
        .exclude(next_follow_up=value)
        .update(next_follow_up=value, version=F("version") + 1)
    )


def follow_up_after_interaction(*, customer: Customer, interaction: Interaction) -> dt.date | None:
    """Called by ``interaction_create`` inside its transaction: the date planned on this interaction, else the
    customer's latest contact + its segment's interval (a late entry of an older contact moves nothing back)."""
    if interaction.next_follow_up_date:
        _set_next(customer.pk, interaction.next_follow_up_date)
        return interaction.next_follow_up_date
    latest = Interaction.objects.filter(customer_id=customer.pk).aggregate(at=Max("occurred_at"))["at"]
    if latest is None:
        return None
    segment = Customer.objects.filter(pk=customer.pk).values_list("segment", flat=True).first() or customer.segment
    value = next_follow_up_date(last_contact=timezone.localdate(latest), interval_days=_interval(segment))
    _set_next(customer.pk, value)
    return value


def follow_ups_refresh(*, now: dt.datetime | None = None) -> int:
    """The daily job, for every customer: the latest contact + the segment's interval, or the date planned after
    that contact when it is sooner (a customer never contacted: a date set by hand, else its creation + the
    interval). Returns how many dates changed."""
    intervals = cadence_intervals()
    latest = Interaction.objects.filter(customer=OuterRef("pk")).order_by("-occurred_at", "-id")
    rows = Customer.objects.annotate(last_contact=Subquery(latest.values("occurred_at")[:1])).values_list(
        "pk", "segment", "created_at", "next_follow_up", "last_contact"
    )
    changed = 0
    for pk, segment, created_at, current, last_contact in rows.iterator(chunk_size=2000):
        interval = _interval(segment, intervals)
        if last_contact is None:
            if current is not None:
                continue
            value = timezone.localdate(created_at) + dt.timedelta(days=interval)
        else:
            contact_day = timezone.localdate(last_contact)
            value = next_follow_up_date(last_contact=contact_day, interval_days=interval)
            if current is not None and contact_day < current < value:
                continue  # planned after the last contact and sooner than the cadence: kept
        changed += int(_set_next(pk, value))
    return changed


# ---------------------------------------------------------------- due, overdue, reminded


def follow_up_reminders_send(*, now: dt.datetime | None = None) -> int:
    """Remind each account owner of every customer due or overdue for a follow-up, once per customer and day.
    Returns how many reminders went out (a second run on the same day sends none)."""
    today = timezone.localdate(now or timezone.now())
    reminded_today = FollowUpReminder.objects.filter(customer=OuterRef("pk"), on=today)
    due = (
        Customer.objects.filter(next_follow_up__lte=today, owner__isnull=False, owner__is_active=True)
        .exclude(Q(follow_status="paused"))
        .exclude(pk__in=Subquery(reminded_today.values("customer")))
        .select_related("owner")
        .order_by("next_follow_up", "pk")
    )
    sent = 0
    for customer in due[:5000]:
        assert customer.next_follow_up is not None
        try:
            with transaction.atomic():
                FollowUpReminder.objects.create(customer=customer, on=today, due=customer.next_follow_up)
                overdue = (today - customer.next_follow_up).days
                owner = customer.owner
                emit(
                    kind=EventKind.FOLLOW_UP,
                    key=f"follow-up:{customer.pk}:{today.isoformat()}",
                    message=(
                        gettext_noop("客户 %(name)s 的跟进已逾期 %(days)s 天（应于 %(due)s 跟进）。")
                        if overdue
                        else gettext_noop("今天需要跟进客户 %(name)s。")
                    ),
                    params={"name": customer.name, "days": overdue, "due": customer.next_follow_up.isoformat()},
                    url=reverse("customers:detail", args=[customer.pk]),
                    recipients=[owner],
                    teams=[owner.team_id] if owner is not None and owner.team_id else [],
                    subject={"type": "customer", "id": customer.pk, "code": "", "title": customer.name},
                    data={
                        "due": customer.next_follow_up.isoformat(),
                        "overdue_days": overdue,
                        "segment": customer.segment,
                    },
                )
        except IntegrityError:
            continue  # another run reminded this customer today
        sent += 1
    return sent


def senior_visit_due(customer: Customer) -> dt.date | None:
    """When the next senior visit (高层拜访) is due for a segment that has one: the last visit + its interval."""
    days = cadence_for(customer.segment).senior_visit_days
    if not days:
        return None
    last_visit = (
        Interaction.objects.filter(customer=customer, channel=InteractionChannel.VISIT).aggregate(at=Max("occurred_at"))
    )["at"]
    base = timezone.localdate(last_visit) if last_visit else timezone.localdate(customer.created_at)
    return base + dt.timedelta(days=days)


# ---------------------------------------------------------------- the suggested segment

#: Signals' thresholds: complaints counted over this many days; this many complaints, or this many days
#: without contact, suggest churn risk.
COMPLAINT_WINDOW_DAYS = 90
COMPLAINTS_FOR_CHURN_RISK = 2
INACTIVE_DAYS_FOR_CHURN_RISK = 90


@dataclass
class SegmentSuggestion:
    segment: str
    reasons: list[str] = field(default_factory=list)
    complaints: int = 0
    inactive_days: int | None = None

    @property
    def label(self) -> str:
        return str(Segment(self.segment).label)


def suggest_segment(
    *, value_tier: str, complaints: int, inactive_days: int | None, has_history: bool
) -> SegmentSuggestion:
    """Pure: the segment the signals suggest, with the reasons in words."""
    if complaints >= COMPLAINTS_FOR_CHURN_RISK:
        return SegmentSuggestion(
            Segment.CHURN_RISK,
            [_("近 %(days)s 天有 %(n)s 次不满的互动") % {"days": COMPLAINT_WINDOW_DAYS, "n": complaints}],
            complaints,
            inactive_days,
        )
    if has_history and inactive_days is not None and inactive_days >= INACTIVE_DAYS_FOR_CHURN_RISK:
        return SegmentSuggestion(
            Segment.CHURN_RISK, [_("已 %(days)s 天没有接触") % {"days": inactive_days}], complaints, inactive_days
        )
    if value_tier == ValueTier.HIGH:
        return SegmentSuggestion(Segment.HIGH_VALUE, [_("客户价值为高（年采购额大）")], complaints, inactive_days)
    if value_tier == ValueTier.MEDIUM:
        return SegmentSuggestion(Segment.POTENTIAL, [_("客户价值为中，有增长空间")], complaints, inactive_days)
    return SegmentSuggestion(Segment.NORMAL, [_("客户价值为低，近期没有投诉")], complaints, inactive_days)


def segment_suggestion(customer: Customer, *, today: dt.date | None = None) -> SegmentSuggestion:
    """The segment this customer's signals suggest: value tier, complaints in interactions, days without contact."""
    today = today or timezone.localdate()
    since = timezone.make_aware(dt.datetime.combine(today - dt.timedelta(days=COMPLAINT_WINDOW_DAYS), dt.time.min))
    interactions = Interaction.objects.filter(customer_id=customer.pk)
    complaints = interactions.filter(mood=Mood.DISSATISFIED, occurred_at__gte=since).count()
    last = interactions.aggregate(at=Max("occurred_at"))["at"]
    has_history = last is not None or customer.first_cooperation is not None
    start = timezone.localdate(last) if last else customer.first_cooperation
    inactive = (today - start).days if start else None
    return suggest_segment(
        value_tier=customer.value_tier, complaints=complaints, inactive_days=inactive, has_history=has_history
    )


@transaction.atomic
def customer_apply_suggested_segment(
    *, actor: User, customer: Customer, expected_segment: str | None = None, today: dt.date | None = None
) -> Customer:
    """Set the customer's segment to the suggested one and reschedule its follow-up. ``expected_segment`` is the
    suggestion the user saw: when the signals changed since, nothing is written."""
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    if not can_write_customer(actor, locked):
        raise PermissionDenied(_("您没有修改该客户的权限。"))
    suggestion = segment_suggestion(locked, today=today)
    if expected_segment is not None and expected_segment != suggestion.segment:
        raise ValidationError(_("建议的客户分层已变化，请刷新页面后再确认。"))
    if suggestion.segment == locked.segment:
        return locked
    before = locked.segment
    Customer.objects.filter(pk=locked.pk).update(segment=suggestion.segment, version=F("version") + 1)
    audit_record(
        actor=actor,
        obj=locked,
        action=AuditEntry.Action.UPDATE,
        changes={"segment": [before, suggestion.segment], "segment_reason": "；".join(suggestion.reasons)},
    )
    latest = Interaction.objects.filter(customer_id=locked.pk).aggregate(at=Max("occurred_at"))["at"]
    if latest is not None:  # the new segment's interval from the last contact
        _set_next(
            locked.pk,
            next_follow_up_date(last_contact=timezone.localdate(latest), interval_days=_interval(suggestion.segment)),
        )
    locked.refresh_from_db()
    return locked
