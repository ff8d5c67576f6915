"""Writes of the reports app: a month's review (its conclusions) and the schedule that mails it.

Each function is atomic, checks who may act, refuses bad input in words with nothing written, and writes its
audit row in the same transaction. The conclusions carry a version: a save based on an older version is refused
(``StaleVersion``), so two people editing the same month never overwrite each other silently.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable
from dataclasses import dataclass
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
from needpool.reports import metrics, monthly, snapshots
from needpool.reports.dashboard_forms import DashboardFilterForm
from needpool.reports.document import Report, as_dict
from needpool.reports.filters import ReportFilters
from needpool.reports.models import CONCLUSIONS_MAX, DashboardSnapshot, MonthlyReview, MonthlyReviewSchedule

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


# ---------------------------------------------------------------- dashboard snapshots


@dataclass
class DashboardResult:
    """What the dashboard shows: ``state`` "live" (computed now), "fresh" / "stale" (a kept snapshot, its age
    in ``report.stale_note``) or "building" (no snapshot yet: ``report`` is None and a build is under way)."""

    state: str
    report: Report | None
    snapshot: DashboardSnapshot | None = None


def _snapshot_claim(snapshot_id: int, now: dt.datetime) -> dt.datetime | None:
    """Mark a build of the snapshot as under way unless one is (one conditional UPDATE: of two callers at once,
    one wins); a mark older than the build timeout is taken over. The mark, or None when another build runs."""
    expired = now - snapshots.build_timeout()
    claimed = (
        DashboardSnapshot.objects.filter(pk=snapshot_id)
        .filter(Q(building_since__isnull=True) | Q(building_since__lt=expired))
        .update(building_since=now)
    )
    return now if claimed else None


def _snapshot_enqueue(snapshot: DashboardSnapshot, user: User, now: dt.datetime) -> bool:
    """Start a background build of ``snapshot`` as ``user`` unless one is under way."""
    token = _snapshot_claim(snapshot.pk, now)
    if token is None:
        return False
    snapshot.building_since = token
    from needpool.reports.snapshot_tasks import dashboard_snapshot_build_job

    pk, user_pk, mark = snapshot.pk, user.pk, token.isoformat()
    transaction.on_commit(lambda: dashboard_snapshot_build_job(pk, user_pk, mark))
    return True


def _snapshot_row(*, user: User, filters: ReportFilters, relative: bool, now: dt.datetime) -> DashboardSnapshot:
    """The snapshot row of the reader's scope and filters, made on first request; its ``requested_at`` moves on
    (at most once a minute, so reading is not a write per view)."""
    key = snapshots.filters_key(filters, translation.get_language() or settings.LANGUAGE_CODE)
    snapshot, created = DashboardSnapshot.objects.get_or_create(
        scope_key=snapshots.scope_key(user),
        filters_key=key,
        defaults={"requested_at": now, "relative": relative, "reader": user},
    )
    if not created and (snapshot.requested_at < now - snapshots.REQUESTED_AT_STEP or snapshot.reader_id != user.pk):
        changes: dict[str, Any] = {"requested_at": max(now, snapshot.requested_at), "reader": user}
        if relative and not snapshot.relative:
            changes["relative"] = True
        DashboardSnapshot.objects.filter(pk=snapshot.pk).update(**changes)
        for name, value in changes.items():
            setattr(snapshot, name, value)
    return snapshot


def _served(snapshot: DashboardSnapshot, now: dt.datetime, age_limit: dt.timedelta) -> Report:
    report = Report.from_dict(snapshot.document or {})
    building = snapshot.building_since is not None and snapshot.building_since >= now - snapshots.build_timeout()
    report.stale_note = snapshots.stale_note(
        computed_at=report.computed_at, now=now, max_age=age_limit, building=building
    )
    return report


def dashboard_snapshot_get_or_build(
    *,
    user: User,
    filters: ReportFilters,
    now: dt.datetime | None = None,
    max_age: dt.timedelta | None = None,
    relative: bool = False,
) -> DashboardResult:
    """The dashboard for ``user`` and ``filters`` (already validated for that reader by the filter form).

    A pool of at most ``NEEDPOOL_REPORTS_LIVE_MAX`` live requirements is computed now, as always. A larger one is
    served from its snapshot: as it is when younger than ``max_age`` (``NEEDPOOL_REPORTS_SNAPSHOT_MAX_AGE``),
    older with a note saying how old and a rebuild started, and with none yet a build is started and the page
    waits for it (state "building"). Only a snapshot of the reader's own scope key is ever served.
    ``relative``: the period was not given (the last 90 days), so the periodic refresh moves it with the date."""
    now = now or timezone.now()
    age_limit = snapshots.max_age() if max_age is None else max_age
    if snapshots.use_live():
        return DashboardResult("live", metrics.dashboard(user=user, filters=filters, now=now))
    with transaction.atomic():
        snapshot = _snapshot_row(user=user, filters=filters, relative=relative, now=now)
        if snapshot.document is None or snapshot.computed_at is None:
            _snapshot_enqueue(snapshot, user, now)
            return DashboardResult("building", None, snapshot)
        stale = now - snapshot.computed_at > age_limit
        if stale:
            _snapshot_enqueue(snapshot, user, now)
        return DashboardResult("stale" if stale else "fresh", _served(snapshot, now, age_limit), snapshot)


def dashboard_snapshot_refresh(
    *, user: User, filters: ReportFilters, now: dt.datetime | None = None, relative: bool = False
) -> bool:
    """刷新: rebuild the reader's snapshot of ``filters`` now (in the background); False when a build already
    runs or the pool is small enough to be computed live anyway."""
    now = now or timezone.now()
    if snapshots.use_live():
        return False
    with transaction.atomic():
        snapshot = _snapshot_row(user=user, filters=filters, relative=relative, now=now)
        return _snapshot_enqueue(snapshot, user, now)


def _snapshot_compute(snapshot: DashboardSnapshot, user: User, now: dt.datetime) -> dict[str, Any] | None:
    """The document of ``snapshot`` computed now as ``user`` — None when ``user`` is no longer of the snapshot's
    scope or its filters are no longer valid for them (permissions are checked again, as for an export)."""
    if not user.is_active or snapshots.scope_key(user) != snapshot.scope_key:
        return None
    query, language = snapshots.key_query(snapshot.filters_key)
    with translation.override(language):
        form = DashboardFilterForm(query, user=user)
        if not form.is_valid():
            return None
        report = metrics.dashboard(user=user, filters=form.filters(today=timezone.localdate(now)), now=now)
        return as_dict(report)


def _snapshot_finish(snapshot_id: int, token: dt.datetime, document: dict[str, Any] | None, **fields: Any) -> None:
    with transaction.atomic():
        if document is not None:
            DashboardSnapshot.objects.filter(pk=snapshot_id).update(document=document, **fields)
        DashboardSnapshot.objects.filter(pk=snapshot_id, building_since=token).update(building_since=None)


def dashboard_snapshot_build_run(*, snapshot_id: int, user_id: int, token: dt.datetime) -> bool:
    """The background build a request started (``token`` is its mark); nothing when another build took over,
    the row is gone or the reader may no longer read it. True when a document was stored."""
    snapshot = DashboardSnapshot.objects.filter(pk=snapshot_id, building_since=token).first()
    user = User.objects.filter(pk=user_id).first()
    if snapshot is None:
        return False
    if user is None:
        _snapshot_finish(snapshot_id, token, None)
        return False
    return _snapshot_build(snapshot, user, token, timezone.now())


def _snapshot_build(snapshot: DashboardSnapshot, user: User, token: dt.datetime, now: dt.datetime) -> bool:
    started = time.monotonic()
    try:
        document = _snapshot_compute(snapshot, user, now)
    except BaseException:
        _snapshot_finish(snapshot.pk, token, None)
        raise
    elapsed = round((time.monotonic() - started) * 1000)
    _snapshot_finish(snapshot.pk, token, document, computed_at=now, compute_ms=elapsed)
    return document is not None


def dashboard_snapshot_build(*, snapshot: DashboardSnapshot, user: User, now: dt.datetime | None = None) -> bool:
    """Build ``snapshot`` now, in this process, as ``user`` (the periodic refresh and the command); False when
    another build of it runs or ``user`` may not build it."""
    now = now or timezone.now()
    token = _snapshot_claim(snapshot.pk, now)
    if token is None:
        return False
    return _snapshot_build(snapshot, user, token, now)


def _pool_reader(hint: User | None) -> User | None:
    """Someone who sees the whole pool, to build the ``"all"`` snapshots as: ``hint`` when still such a reader,
    else the first active superuser or holder of 查看全部."""
    if hint is not None and hint.is_active and snapshots.scope_key(hint) == snapshots.ALL:
        return hint
    roles = [role for role, caps in ROLE_CAPS.items() if Cap.SEE_ALL in caps]
    for candidate in User.objects.filter(Q(is_superuser=True) | Q(role__in=roles), is_active=True).order_by(
        "-is_superuser", "pk"
    )[:20]:
        if snapshots.scope_key(candidate) == snapshots.ALL:
            return candidate
    return None


def dashboard_snapshot_builder(snapshot: DashboardSnapshot, hint: User | None) -> User | None:
    """Whom a snapshot is built as: the rep of a ``"user:<id>"`` key (while active), else a pool-wide reader."""
    user_id = snapshots.user_id_of(snapshot.scope_key)
    if user_id is None:
        return _pool_reader(hint)
    return User.objects.filter(pk=user_id, is_active=True).first()


def dashboard_snapshots_refresh(
    *, now: dt.datetime | None = None, limit: int | None = None, budget: dt.timedelta | None = None
) -> dict[str, int]:
    """The periodic refresh: drop snapshots nobody opened for 30 days; rebuild, oldest first, those opened in the
    last 7 days that would be stale before the next run (a relative period moved to today's dates), and the
    whole pool's default view always; at most ``limit`` builds, none started after ``budget``."""
    now = now or timezone.now()
    limit = snapshots.refresh_limit() if limit is None else limit
    budget = snapshots.REFRESH_EVERY - dt.timedelta(minutes=2) if budget is None else budget
    dropped, _by_model = DashboardSnapshot.objects.filter(requested_at__lt=now - snapshots.DROP_AFTER).delete()
    counts = {"dropped": dropped, "built": 0, "skipped": 0, "due": 0}
    if snapshots.use_live():
        return counts
    today = timezone.localdate(now)
    due_before = now - max(snapshots.max_age() - snapshots.REFRESH_EVERY, dt.timedelta(0))
    recent = list(
        DashboardSnapshot.objects.filter(requested_at__gte=now - snapshots.REQUESTED_WITHIN)
        .select_related("reader")
        .order_by("requested_at")
    )
    wanted: dict[tuple[str, str], DashboardSnapshot] = {}
    default_key = snapshots.filters_key(ReportFilters.default(today=today), settings.LANGUAGE_CODE)
    pool_reader = _pool_reader(next((s.reader for s in reversed(recent) if s.scope_key == snapshots.ALL), None))
    if pool_reader is not None:
        wanted[(snapshots.ALL, default_key)] = DashboardSnapshot(
            scope_key=snapshots.ALL, filters_key=default_key, relative=True, reader=pool_reader, requested_at=now
        )
    for source in recent:
        key = snapshots.key_for_today(source.filters_key, today) if source.relative else source.filters_key
        wanted.setdefault((source.scope_key, key), source)
    targets: list[tuple[DashboardSnapshot, User]] = []
    for (scope, key), source in wanted.items():
        target, _created = DashboardSnapshot.objects.get_or_create(
            scope_key=scope,
            filters_key=key,
            defaults={"requested_at": source.requested_at, "relative": source.relative, "reader": source.reader},
        )
        if target.computed_at is not None and target.computed_at >= due_before:
            continue
        user = dashboard_snapshot_builder(target, target.reader or source.reader)
        if user is None:
            counts["skipped"] += 1
            continue
        targets.append((target, user))
    targets.sort(key=lambda pair: (pair[0].computed_at is not None, pair[0].computed_at or now))
    counts["due"] = len(targets)
    started = time.monotonic()
    for target, user in targets[:limit]:
        if time.monotonic() - started > budget.total_seconds():
            break
        if dashboard_snapshot_build(snapshot=target, user=user, now=now):
            counts["built"] += 1
        else:
            counts["skipped"] += 1
    return counts


@dataclass
class SnapshotCheck:
    snapshot: DashboardSnapshot
    outcome: str  # "same", "changed" (data written since: its age explains it), "differs", "unreadable"


def dashboard_snapshots_check(*, rebuild: bool = False) -> list[SnapshotCheck]:
    """Recompute each kept snapshot as its reader, at its own ``computed_at``, and compare with what is kept: a
    difference with no write since is a wrong snapshot ("differs"); with writes since, it is its age
    ("changed"). ``rebuild``: every snapshot that is not "same" is built again now."""
    out: list[SnapshotCheck] = []
    for snapshot in DashboardSnapshot.objects.exclude(document=None).select_related("reader").order_by("pk"):
        user = dashboard_snapshot_builder(snapshot, snapshot.reader)
        assert snapshot.computed_at is not None
        fresh = _snapshot_compute(snapshot, user, snapshot.computed_at) if user is not None else None
        if fresh is None:
            outcome = "unreadable"
        elif snapshots.comparable(fresh) == snapshots.comparable(snapshot.document or {}):
            outcome = "same"
        else:
            outcome = "changed" if snapshots.data_changed_since(snapshot.computed_at) else "differs"
        out.append(SnapshotCheck(snapshot, outcome))
        if rebuild and outcome != "same" and user is not None:
            dashboard_snapshot_build(snapshot=snapshot, user=user)
    return out


def dashboard_snapshots_rebuild(*, now: dt.datetime | None = None) -> list[tuple[DashboardSnapshot, bool]]:
    """Build every kept snapshot again now (``needpool reports_snapshots --rebuild``); each with whether it was."""
    out: list[tuple[DashboardSnapshot, bool]] = []
    for snapshot in DashboardSnapshot.objects.select_related("reader").order_by("pk"):
        user = dashboard_snapshot_builder(snapshot, snapshot.reader)
        built = user is not None and dashboard_snapshot_build(snapshot=snapshot, user=user, now=now)
        snapshot.refresh_from_db()
        out.append((snapshot, built))
    return out
