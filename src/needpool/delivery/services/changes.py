"""Change requests 需求变更: asked → impact evaluated → decided (approved / rejected) → implemented → told.

Each step is its own service with its own permission; a step is taken only from the state before it (no
skipping, no going back), and each is audited on the change and on the requirement, so the requirement's
history shows it.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from needpool.accounts.models import User
from needpool.core.audit import audit_record
from needpool.core.concurrency import check_version
from needpool.core.models import AuditEntry
from needpool.delivery.choices import ChangeStatus
from needpool.delivery.models import ChangeRequest
from needpool.delivery.permissions import (
    can_decide_change,
    can_evaluate_change,
    can_implement_change,
    can_request_change,
    can_tell_change,
    deny,
)
from needpool.delivery.services.common import one_line
from needpool.requirements.models import Requirement

#: the state each step starts from
STEP_FROM: dict[str, tuple[str, ...]] = {
    "evaluate": (ChangeStatus.REQUESTED,),
    "decide": (ChangeStatus.EVALUATED,),
    "implement": (ChangeStatus.APPROVED,),
    "tell": (ChangeStatus.IMPLEMENTED, ChangeStatus.REJECTED),
}


def next_steps(status: str) -> list[str]:
    return [step for step, sources in STEP_FROM.items() if status in sources]


def _text(errors: dict[str, str], name: str, value: Any, *, required: str = "", limit: int = 4000) -> str:
    text = str(value or "").strip()
    if required and not text:
        errors[name] = required
    elif len(text) > limit:
        errors[name] = _("最多 %(n)s 个字符。") % {"n": limit}
    return text


def _lock(change: ChangeRequest, step: str, expected_version: int | None) -> ChangeRequest:
    change = ChangeRequest.objects.select_for_update().get(pk=change.pk)
    check_version(change.version, expected_version)
    if change.status not in STEP_FROM[step]:
        allowed = "、".join(str(ChangeStatus(s).label) for s in STEP_FROM[step])
        raise ValidationError(
            {
                "status": _("变更当前为“%(status)s”，此步骤只能在“%(allowed)s”时进行（不能跳过或回退）。")
                % {"status": change.get_status_display(), "allowed": allowed}
            }
        )
    return change


def _record(actor: User, change: ChangeRequest, previous: str, extra: dict[str, Any]) -> None:
    change.version += 1
    change.save()
    status = (str(ChangeStatus(previous).label), change.get_status_display())
    audit_record(actor=actor, obj=change, action=AuditEntry.Action.TRANSITION, changes={"status": status, **extra})
    audit_record(
        actor=actor,
        obj=change.requirement,
        action=AuditEntry.Action.UPDATE,
        changes={"change_request": (f"#{change.pk} {status[0]}", f"#{change.pk} {status[1]}")},
    )


@transaction.atomic
def change_request_create(
    *, actor: User, requirement: Requirement, what: str, why: str, requested_by: str = ""
) -> ChangeRequest:
    if not can_request_change(actor, requirement):
        raise deny(_("您没有提出需求变更的权限。"))
    errors: dict[str, str] = {}
    what = _text(errors, "what", what, required=_("请说明变更内容。"))
    why = _text(errors, "why", why, required=_("请说明变更原因。"))
    who = one_line(requested_by) or str(actor)
    if len(who) > 100:
        errors["requested_by"] = _("最多 %(n)s 个字符。") % {"n": 100}
    if requirement.merged_into_id:
        errors["requirement"] = _("需求已合并，不能提出变更。")
    if errors:
        raise ValidationError(errors)
    change = ChangeRequest.objects.create(
        requirement=requirement, what=what, why=why, requested_by=who, created_by=actor
    )
    audit_record(actor=actor, obj=change, action=AuditEntry.Action.CREATE)
    audit_record(
        actor=actor,
        obj=requirement,
        action=AuditEntry.Action.UPDATE,
        changes={"change_request": ("", f"#{change.pk} {change.get_status_display()}：{what[:80]}")},
    )
    return change


@transaction.atomic
def change_evaluate(
    *,
    actor: User,
    change: ChangeRequest,
    impact_scope: str,
    impact_schedule: str,
    impact_cost: str,
    impact_risk: str,
    expected_version: int | None = None,
) -> ChangeRequest:
    """Record the impact on scope, schedule, cost and risk (each required: "无" is an answer)."""
    if not can_evaluate_change(actor, change):
        raise deny(_("您没有评估变更影响的权限。"))
    errors: dict[str, str] = {}
    texts = {
        "impact_scope": _text(errors, "impact_scope", impact_scope, required=_("请评估对范围的影响。")),
        "impact_schedule": _text(errors, "impact_schedule", impact_schedule, required=_("请评估对进度的影响。")),
        "impact_cost": _text(errors, "impact_cost", impact_cost, required=_("请评估对成本的影响。")),
        "impact_risk": _text(errors, "impact_risk", impact_risk, required=_("请评估风险。")),
    }
    if errors:
        raise ValidationError(errors)
    change = _lock(change, "evaluate", expected_version)
    previous = change.status
    for name, value in texts.items():
        setattr(change, name, value)
    change.status, change.evaluated_by, change.evaluated_at = ChangeStatus.EVALUATED, actor, timezone.now()
    _record(actor, change, previous, {})
    return change


@transaction.atomic
def change_decide(
    *, actor: User, change: ChangeRequest, approved: bool, reason: str, expected_version: int | None = None
) -> ChangeRequest:
    if not can_decide_change(actor, change):
        raise deny(_("您没有决定需求变更的权限。"))
    errors: dict[str, str] = {}
    if not isinstance(approved, bool):
        errors["approved"] = _("请选择批准或驳回。")
    reason = _text(errors, "reason", reason, required=_("请填写决策理由。"))
    if errors:
        raise ValidationError(errors)
    change = _lock(change, "decide", expected_version)
    previous = change.status
    change.status = ChangeStatus.APPROVED if approved else ChangeStatus.REJECTED
    change.decision_reason, change.decided_by, change.decided_at = reason, actor, timezone.now()
    _record(actor, change, previous, {"decision_reason": ("", reason)})
    return change


@transaction.atomic
def change_implement(
    *, actor: User, change: ChangeRequest, note: str = "", expected_version: int | None = None
) -> ChangeRequest:
    if not can_implement_change(actor, change):
        raise deny(_("您没有记录变更实施的权限。"))
    errors: dict[str, str] = {}
    note = _text(errors, "note", note)
    if errors:
        raise ValidationError(errors)
    change = _lock(change, "implement", expected_version)
    previous = change.status
    change.status, change.implemented_note = ChangeStatus.IMPLEMENTED, note
    change.implemented_by, change.implemented_at = actor, timezone.now()
    _record(actor, change, previous, {})
    return change


@transaction.atomic
def change_tell(*, actor: User, change: ChangeRequest, note: str, expected_version: int | None = None) -> ChangeRequest:
    """Record that the requester was told the outcome (after implementation, or after a rejection)."""
    if not can_tell_change(actor, change):
        raise deny(_("您没有记录告知的权限。"))
    errors: dict[str, str] = {}
    note = _text(errors, "note", note, required=_("请说明如何告知了提出人。"))
    if errors:
        raise ValidationError(errors)
    change = _lock(change, "tell", expected_version)
    previous = change.status
    change.status, change.told_note, change.told_by, change.told_at = ChangeStatus.TOLD, note, actor, timezone.now()
    _record(actor, change, previous, {})
    return change
