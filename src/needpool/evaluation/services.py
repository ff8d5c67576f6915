"""Every write of effect evaluations: open one per launch, fill it in, remind its owner, the settings.

Opening is idempotent by launch (the status change that launched the requirement): the status listener
and the daily catch-up job may both see the same launch and make one evaluation. Reminders go out at most
once per evaluation and day, from the due date until it is done. Time comes in as ``now`` for the jobs.
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from needpool.accounts.models import User
from needpool.core.audit import audit_record
from needpool.core.concurrency import check_version
from needpool.core.models import AuditEntry
from needpool.evaluation import permissions
from needpool.evaluation.models import MAX_DELAY_DAYS, Evaluation, EvaluationSettings
from needpool.evaluation.plans import plan_criterion
from needpool.notify.kinds import EventKind
from needpool.notify.services import emit
from needpool.requirements.choices import StatusCategory
from needpool.requirements.models import StatusChange

log = logging.getLogger("needpool.evaluation")

LAUNCHED_KEY = "launched"
#: How far back the daily job looks for launches without an evaluation.
CATCH_UP_DAYS = 60
NOTES_MAX_LENGTH = 5000
BUSINESS_EFFECT_FIELDS = ("repurchased", "renewed", "referred")
EDITABLE_FIELDS = (
    "metric",
    "target",
    "actual",
    "met",
    "ease_of_use",
    "complaint_drop_pct",
    *BUSINESS_EFFECT_FIELDS,
    "notes",
)


def evaluation_settings() -> EvaluationSettings:
    found = EvaluationSettings.objects.order_by("pk").first()
    return found if found is not None else EvaluationSettings()


def is_launch(*, target_key: str, target_category: str, source_category: str | None) -> bool:
    """A move that launches: into 已上线, or into any done status from one that was not done."""
    if target_key == LAUNCHED_KEY:
        return True
    return target_category == StatusCategory.DONE and source_category != StatusCategory.DONE


def launch_changes_q() -> Q:
    """The status changes that are launches (``is_launch`` as a query)."""
    into_done = Q(target__category=StatusCategory.DONE) & (
        Q(source__isnull=True) | ~Q(source__category=StatusCategory.DONE)
    )
    return Q(target__key=LAUNCHED_KEY) | into_done


# ---------------------------------------------------------------- opening


def evaluation_open_for_launch(*, change: StatusChange) -> Evaluation | None:
    """The evaluation of this launch, made once: None when the change is no launch or the requirement is merged."""
    return _open(change)[0]


def _open(change: StatusChange) -> tuple[Evaluation | None, bool]:
    change = StatusChange.objects.select_related("requirement", "source", "target").get(pk=change.pk)
    if not is_launch(
        target_key=change.target.key,
        target_category=change.target.category,
        source_category=change.source.category if change.source is not None else None,
    ):
        return None, False
    requirement = change.requirement
    if requirement.merged_into_id:
        return None, False
    existing = Evaluation.objects.filter(launch=change).first()
    if existing is not None:
        return existing, False
    delay = evaluation_settings().delay_days
    criterion = plan_criterion(requirement.pk)
    evaluation = Evaluation(
        requirement=requirement,
        launch=change,
        launched_at=change.at,
        owner_id=requirement.owner_id or change.actor_id,  # nobody owns it: whoever launched it evaluates
        due_date=timezone.localdate(change.at) + dt.timedelta(days=delay),
        metric=criterion.metric[:200] if criterion else "",
        target=criterion.target[:100] if criterion else "",
    )
    try:
        with transaction.atomic():
            evaluation.save()
            audit_record(
                actor=None,
                obj=evaluation,
                action=AuditEntry.Action.CREATE,
                changes={"requirement": requirement.code, "due_date": evaluation.due_date.isoformat()},
            )
    except IntegrityError:
        # The other path (listener or job) made it at the same moment: one evaluation per launch.
        return Evaluation.objects.get(launch=change), False
    return evaluation, True


def evaluations_catch_up(*, now: dt.datetime | None = None) -> int:
    """The daily job: open evaluations for recent launches that have none (a listener that failed). Returns
    how many it opened."""
    now = now or timezone.now()
    missing = (
        StatusChange.objects.filter(launch_changes_q(), at__gte=now - dt.timedelta(days=CATCH_UP_DAYS), at__lte=now)
        .filter(evaluation__isnull=True, requirement__merged_into__isnull=True, requirement__deleted_at__isnull=True)
        .order_by("at", "pk")
    )
    opened = 0
    for change in missing[:1000]:
        opened += int(_open(change)[1])
    return opened


# ---------------------------------------------------------------- filling it in


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    unknown = sorted(set(data) - set(EDITABLE_FIELDS))
    if unknown:
        raise ValidationError({name: _("未知字段。") for name in unknown})
    for name in ("metric", "target", "actual", "notes"):
        if name in data:
            value = "" if data[name] is None else str(data[name]).strip()
            limit = {"metric": 200, "target": 100, "actual": 100, "notes": NOTES_MAX_LENGTH}[name]
            if len(value) > limit:
                errors[name] = _("不能超过 %(n)s 个字符。") % {"n": limit}
            clean[name] = value
    if "met" in data:
        met = data["met"] or ""
        if met not in Evaluation.Met.values:
            errors["met"] = _("请选择是否满足需求：是、部分或否。")
        clean["met"] = met
    if "ease_of_use" in data:
        ease = data["ease_of_use"]
        if ease in (None, ""):
            clean["ease_of_use"] = None
        else:
            try:
                ease_int = int(ease)
                if isinstance(ease, bool) or str(ease_int) != str(ease) or not 1 <= ease_int <= 5:
                    raise ValueError
                clean["ease_of_use"] = ease_int
            except (TypeError, ValueError):
                errors["ease_of_use"] = _("易用性必须是 1 到 5 的整数。")
    if "complaint_drop_pct" in data:
        drop = data["complaint_drop_pct"]
        if drop in (None, ""):
            clean["complaint_drop_pct"] = None
        else:
            try:
                number = Decimal(str(drop)).quantize(Decimal("0.1"))
                if not number.is_finite() or not -100 <= number <= 100:
                    raise InvalidOperation
                clean["complaint_drop_pct"] = number
            except (InvalidOperation, ValueError, TypeError):
                errors["complaint_drop_pct"] = _("投诉下降必须是 -100 到 100 之间的百分比。")
    for name in BUSINESS_EFFECT_FIELDS:
        if name in data:
            # None is "not known": an evaluation records the business effect only where someone knows it.
            value = data[name]
            if value is None or isinstance(value, bool):
                clean[name] = value
            else:
                errors[name] = _("请选择是、否或未知。")
    if errors:
        raise ValidationError(errors)
    return clean


@transaction.atomic
def evaluation_complete(
    *,
    actor: User,
    evaluation: Evaluation,
    expected_version: int | None = None,
    now: dt.datetime | None = None,
    **data: Any,
) -> Evaluation:
    """Fill in the evaluation (whether it met the need is required); the first completion stops reminders."""
    locked = Evaluation.objects.select_for_update().get(pk=evaluation.pk)
    if not permissions.visible_evaluations(actor).filter(pk=locked.pk).exists():
        raise permissions.deny()
    if not permissions.can_complete(actor, locked):
        raise permissions.deny(_("只有需求负责人或闭环负责人可以填写效果评估。"))
    check_version(locked.version, expected_version)
    clean = _clean(data)
    if not (clean.get("met", locked.met)):
        raise ValidationError({"met": _("请选择是否满足需求：是、部分或否。")})
    changes = {
        name: [
            str(getattr(locked, name) if getattr(locked, name) is not None else ""),
            str(value if value is not None else ""),
        ]
        for name, value in clean.items()
        if getattr(locked, name) != value
    }
    for name, value in clean.items():
        setattr(locked, name, value)
    if locked.completed_at is None:
        locked.completed_at = now or timezone.now()
        locked.completed_by = actor
        changes["completed_at"] = ["", locked.completed_at.isoformat(timespec="minutes")]
    locked.version = F("version") + 1
    locked.save()
    locked.refresh_from_db()
    audit_record(actor=actor, obj=locked, action=AuditEntry.Action.UPDATE, changes=changes)
    return locked


@transaction.atomic
def evaluation_settings_update(*, actor: User, delay_days: Any) -> EvaluationSettings:
    if not permissions.can_configure(actor):
        raise permissions.deny(_("只有管理员可以修改效果评估设置。"))
    try:
        days = int(delay_days)
        if isinstance(delay_days, bool) or str(days) != str(delay_days) or not 1 <= days <= MAX_DELAY_DAYS:
            raise ValueError
    except (TypeError, ValueError):
        raise ValidationError(
            {"delay_days": _("评估天数必须是 1 到 %(max)s 之间的整数。") % {"max": MAX_DELAY_DAYS}}
        ) from None
    row = EvaluationSettings.objects.select_for_update().order_by("pk").first() or EvaluationSettings()
    old = row.delay_days if row.pk else None
    row.delay_days = days
    row.save()
    audit_record(actor=actor, obj=row, action=AuditEntry.Action.UPDATE, changes={"delay_days": [old, days]})
    return row


# ---------------------------------------------------------------- reminders


def evaluation_reminders_send(*, now: dt.datetime | None = None) -> int:
    """Remind each owner of an open evaluation due today or earlier, once per evaluation and day. Returns how
    many reminders went out (a second run on the same day sends none)."""
    today = timezone.localdate(now or timezone.now())
    due = (
        Evaluation.objects.filter(
            completed_at__isnull=True,
            due_date__lte=today,
            owner__isnull=False,
            owner__is_active=True,
            requirement__merged_into__isnull=True,
        )
        .filter(Q(last_reminded_on__isnull=True) | Q(last_reminded_on__lt=today))
        .select_related("requirement", "owner")
        .order_by("due_date", "pk")
    )
    sent = 0
    for evaluation in due[:5000]:
        with transaction.atomic():
            # Only the run that moves the date on reminds: a second run (or worker) finds it moved.
            claimed = (
                Evaluation.objects.filter(pk=evaluation.pk, completed_at__isnull=True)
                .filter(Q(last_reminded_on__isnull=True) | Q(last_reminded_on__lt=today))
                .update(last_reminded_on=today)
            )
            if not claimed:
                continue
            requirement = evaluation.requirement
            overdue = (today - evaluation.due_date).days
            message = (
                gettext_noop("请完成需求 %(code)s「%(title)s」的效果评估（已逾期 %(days)s 天）。")
                if overdue
                else gettext_noop("请完成需求 %(code)s「%(title)s」的效果评估（今天到期）。")
            )
            owner = evaluation.owner
            emit(
                kind=EventKind.EVALUATION,
                key=f"evaluation-reminder:{evaluation.pk}:{today.isoformat()}",
                message=message,
                params={"code": requirement.code, "title": requirement.title, "days": overdue},
                url=reverse("evaluation:edit", args=[evaluation.pk]),
                recipients=[owner],
                teams=[owner.team_id] if owner is not None and owner.team_id else [],
                subject={
                    "type": "evaluation",
                    "id": evaluation.pk,
                    "code": requirement.code,
                    "title": requirement.title,
                    "requirement": requirement.pk,
                },
                data={"due_date": evaluation.due_date.isoformat(), "overdue_days": overdue},
            )
            sent += 1
    return sent
