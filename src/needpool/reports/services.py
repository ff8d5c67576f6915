"""Writes of the reports app: a month's review (its conclusions) and the schedule that mails it.

Each function is atomic, checks who may act, refuses bad input in words with nothing written, and writes its
audit row in the same transaction. The conclusions carry a version: a save based on an older version is refused
(``StaleVersion``), so two people editing the same month never overwrite each other silently.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from needpool.accounts.models import User
from needpool.accounts.roles import ROLE_CAPS, Cap
from needpool.core.audit import audit_record
from needpool.core.concurrency import check_version, retry_on_conflict
from needpool.core.links import absolute
from needpool.core.mail import mail_queue
from needpool.core.models import AuditEntry, OutboundMail
from needpool.reports import monthly
from needpool.reports.document import Report
from needpool.reports.models import CONCLUSIONS_MAX, MonthlyReview, MonthlyReviewSchedule

RECIPIENTS_MAX = 200


def _deny_write() -> PermissionDenied:
    return PermissionDenied(_("只有可分析需求的用户（经理、产品经理、管理员）可以修改月度复盘。"))


def monthly_review_find(month: dt.date) -> MonthlyReview | None:
    return MonthlyReview.objects.filter(month=monthly.month_start(month)).select_related("updated_by").first()


@retry_on_conflict()
@transaction.atomic
def monthly_review_get_or_create(*, actor: User, month: dt.date, now: dt.datetime | None = None) -> MonthlyReview:
    """The review row of ``month`` (any day of it), made once; a month that has not started is refused."""
    monthly.require_read(actor)
    now = now or timezone.now()
    start = monthly.month_start(month)
    if start > monthly.month_start(timezone.localdate(now)):
        raise ValidationError({"month": _("%(month)s 尚未开始，不能生成复盘。") % {"month": monthly.month_key(start)}})
    if start < monthly.FIRST_MONTH:
        raise ValidationError({"month": _("月份不能早于 2000-01。")})
    review, created = MonthlyReview.objects.get_or_create(
        month=start, defaults={"created_by": actor, "generated_at": now}
    )
    if created:
        audit_record(actor=actor, obj=review, action=AuditEntry.Action.CREATE, changes={"month": str(review)})
    return review


def clean_conclusions(value: Any) -> str:
    text = "" if value is None else str(value)
    text = text.replace("\r\n", "\n").strip()
    if "\x00" in text:
        raise ValidationError({"conclusions": _("团队结论含有无法保存的字符，请删除后再保存。")})
    if len(text) > CONCLUSIONS_MAX:
        raise ValidationError(
            {
                "conclusions": _("团队结论最多 %(max)s 字，当前 %(n)s 字，请删减后再保存。")
                % {"max": CONCLUSIONS_MAX, "n": len(text)}
            }
        )
    return text


@transaction.atomic
def monthly_review_update(
    *, actor: User, review: MonthlyReview, conclusions: Any, version: int | None
) -> MonthlyReview:
    """Save the team's conclusions; ``version`` is the version the writer opened (None: no check)."""
    if not monthly.can_write(actor):
        raise _deny_write()
    text = clean_conclusions(conclusions)
    locked = MonthlyReview.objects.select_for_update().get(pk=review.pk)
    check_version(locked.version, version)
    if locked.conclusions == text:
        return locked
    old = locked.conclusions
    locked.conclusions = text
    locked.updated_by = actor
    locked.version = F("version") + 1
    locked.save(update_fields=["conclusions", "updated_by", "version", "updated_at"])
    locked.refresh_from_db()
    audit_record(actor=actor, obj=locked, action=AuditEntry.Action.UPDATE, changes={"conclusions": (old, text)})
    return locked


def monthly_schedule() -> MonthlyReviewSchedule:
    """The schedule row (unsaved and switched off until someone saves it)."""
    return MonthlyReviewSchedule.objects.filter(key=1).first() or MonthlyReviewSchedule(key=1)


def schedule_candidates() -> QuerySet[User]:
    """Who may receive the review: active users who see every requirement (the review counts the whole team)."""
    roles = [role for role, caps in ROLE_CAPS.items() if Cap.SEE_ALL in caps]
    return User.objects.filter(Q(role__in=roles) | Q(is_superuser=True), is_active=True).order_by("username")


@retry_on_conflict()
@transaction.atomic
def monthly_schedule_update(*, actor: User, enabled: bool, recipients: Iterable[User]) -> MonthlyReviewSchedule:
    """Switch the monthly mail on or off and choose who receives it (each must be able to read the review)."""
    if not monthly.can_write(actor):
        raise _deny_write()
    people = {u.pk: u for u in recipients}
    if len(people) > RECIPIENTS_MAX:
        raise ValidationError({"recipients": _("收件人最多 %(max)s 人。") % {"max": RECIPIENTS_MAX}})
    unfit = sorted(str(u) for u in people.values() if not (u.is_active and monthly.can_read(u)))
    if unfit:
        raise ValidationError(
            {"recipients": _("以下用户不能查看全团队的复盘，不能作为收件人：%(names)s") % {"names": "、".join(unfit)}}
        )
    if enabled and not people:
        raise ValidationError({"recipients": _("启用定时发送时请至少选择一位收件人。")})
    MonthlyReviewSchedule.objects.get_or_create(key=1)
    row = MonthlyReviewSchedule.objects.select_for_update().get(key=1)
    before = {"enabled": row.enabled, "recipients": sorted(row.recipients.values_list("pk", flat=True))}
    row.enabled = bool(enabled)
    row.updated_by = actor
    row.save(update_fields=["enabled", "updated_by", "updated_at"])
    row.recipients.set(list(people.values()))
    after = {"enabled": row.enabled, "recipients": sorted(people)}
    changes = {k: (before[k], after[k]) for k in after if before[k] != after[k]}
    audit_record(actor=actor, obj=row, action=AuditEntry.Action.UPDATE, changes=changes)
    return row


# ---------------------------------------------------------------- the monthly mail


def _language_of(user: User) -> str:
    return str(getattr(user, "language", "") or settings.LANGUAGE_CODE or "zh-hans")


def mail_key(month: dt.date, user: User) -> str:
    return f"monthly-review:{monthly.month_key(month)}:{user.pk}"


def review_mail_render(report: Report, month: dt.date) -> tuple[str, str, str]:
    """Subject, plain body and HTML body of the review mail, in the active language."""
    overview = next((s for s in report.sections if s.key == "overview"), None)
    structure = report.block("structure")
    context = {
        "report": report,
        "month": month,
        "figures": [(f, monthly.figure_text(f)) for f in (overview.figures() if overview else [])],
        "sentences": list(getattr(structure, "items", []) or []),
        "url": absolute(monthly.review_path(month)),
        "computed_at": timezone.localtime(report.computed_at),
    }
    subject = _("%(month)s需求复盘") % {"month": monthly.month_label(month)}
    return (
        subject,
        render_to_string("reports/monthly_mail.txt", context),
        render_to_string("reports/monthly_mail.html", context),
    )


def monthly_review_mail_send(*, now: dt.datetime | None = None) -> dict[str, int]:
    """On the first day of a month, queue last month's review to each recipient of an enabled schedule.

    Each recipient's review is built as that recipient counts it and written in their language; one mail per
    recipient and month (key ``monthly-review:<YYYY-MM>:<user id>``), so a second run sends nothing more.
    A recipient who can no longer read the whole team's review (role changed, deactivated) or has no address is
    skipped: the review is the team's, and its link would not open for them.
    """
    now = now or timezone.now()
    counts = {"queued": 0, "already": 0, "skipped": 0}
    today = timezone.localdate(now)
    if today.day != MonthlyReviewSchedule.SEND_DAY:
        return counts
    schedule = MonthlyReviewSchedule.objects.filter(key=1, enabled=True).first()
    if schedule is None:
        return counts
    month = monthly.previous_month(monthly.month_start(today))
    for user in schedule.recipients.order_by("pk"):
        if not (user.is_active and user.email and monthly.can_read(user)):
            counts["skipped"] += 1
            continue
        key = mail_key(month, user)
        if OutboundMail.objects.filter(key=key).exists():
            counts["already"] += 1
            continue
        with translation.override(_language_of(user)):
            subject, body, html = review_mail_render(monthly.build(month, user, now), month)
        with transaction.atomic():
            mail = mail_queue(key=key, to=[user.email], subject=subject, body=body, html=html)
        counts["queued" if mail is not None else "already"] += 1
    MonthlyReviewSchedule.objects.filter(pk=schedule.pk).update(last_sent_month=month)
    return counts
