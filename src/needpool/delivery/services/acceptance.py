"""Acceptance records 验收单, and what a failed acceptance does to the requirement."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from needpool.accounts.models import User
from needpool.core.audit import audit_record
from needpool.core.models import AuditEntry
from needpool.core.validation import check_date as check_bounded
from needpool.customers.models import Contact
from needpool.delivery.models import Acceptance, Plan
from needpool.delivery.permissions import can_plan, deny
from needpool.delivery.services.common import check_decimal
from needpool.requirements.models import Requirement, WorkflowStatus

#: where a failed acceptance sends the requirement back to: the development status of either default flow
REOPEN_TO = ("developing", "in_progress")
#: statuses a failed acceptance reopens from
REOPEN_FROM = ("testing", "launched")


def latest_acceptance(requirement: Requirement) -> Acceptance | None:
    return Acceptance.objects.filter(requirement=requirement).order_by("-accepted_at", "-id").first()


def acceptance_passed(requirement: Requirement) -> bool:
    """The fact behind the gate: the latest acceptance of the requirement passed."""
    latest = latest_acceptance(requirement)
    return bool(latest and latest.passed)


def _move_note(remarks: str) -> str:
    """The remarks as the move's note; a note has a limit, so a longer text is shortened visibly (…), and the
    acceptance record keeps it whole."""
    from needpool.requirements.models import NOTE_MAX_LENGTH

    return remarks if len(remarks) <= NOTE_MAX_LENGTH else remarks[: NOTE_MAX_LENGTH - 1] + "…"


def _reopen(actor: User, requirement: Requirement, remarks: str) -> str:
    """Move the requirement back to development with the remarks, when its flow allows that move and the
    actor may make it; returns the key it moved to, or "" when it stayed."""
    from needpool.requirements.services import requirement_transition

    status = WorkflowStatus.objects.filter(pk=requirement.status_id).only("key").first()
    if status is None or status.key not in REOPEN_FROM:
        return ""
    for key in REOPEN_TO:
        try:
            with transaction.atomic():
                requirement_transition(actor=actor, requirement=requirement, to=key, note=_move_note(remarks))
        except (ValidationError, PermissionDenied):
            continue
        return key
    return ""


@transaction.atomic
def acceptance_record(
    *,
    actor: User,
    requirement: Requirement,
    passed: bool,
    plan: Plan | None = None,
    accepted_by_contact: Contact | None = None,
    accepted_by_user: User | None = None,
    accepted_at: dt.datetime | None = None,
    actual_value: Any = None,
    remarks: str = "",
) -> Acceptance:
    """Record who accepted the requirement (a contact of a customer behind it, or an internal user), when,
    pass or fail and the actual value against the plan's criterion. A failure needs remarks and sends the
    requirement back from 测试中 / 已上线 to development with them as the note."""
    if not can_plan(actor):
        raise deny(_("您没有记录验收的权限。"))
    errors: dict[str, str] = {}
    if not isinstance(passed, bool):
        errors["passed"] = _("请选择验收结果。")
    if (accepted_by_contact is None) == (accepted_by_user is None):
        errors["accepted_by_contact"] = _("请选择一位验收人：客户联系人或内部人员，二选一。")
    if accepted_by_contact is not None:
        behind = requirement.feedback_items.filter(customer_id=accepted_by_contact.customer_id).exists()
        if not behind:
            errors["accepted_by_contact"] = _("验收联系人须来自提出该需求的客户。")
    if accepted_by_user is not None and not accepted_by_user.is_active:
        errors["accepted_by_user"] = _("请选择在职的内部人员。")
    if plan is not None and not plan.requirements.filter(pk=requirement.pk).exists():
        errors["plan"] = _("该计划不包含此需求。")
    moment = accepted_at or timezone.now()
    try:
        check_bounded(moment)
    except ValidationError:
        errors["accepted_at"] = _("日期必须在 1900-01-01 到 2200-12-31 之间。")
    if moment > timezone.now() + dt.timedelta(minutes=5):
        errors["accepted_at"] = _("验收时间不能晚于现在。")
    value: Decimal | None = check_decimal(errors, "actual_value", actual_value)
    remarks = str(remarks or "").strip()
    if len(remarks) > 2000:
        errors["remarks"] = _("备注最多 2000 个字符。")
    if passed is False and not remarks:
        errors["remarks"] = _("验收不通过时请填写备注，说明问题。")
    if requirement.merged_into_id:
        errors["requirement"] = _("需求已合并，不能验收。")
    if errors:
        raise ValidationError(errors)
    record = Acceptance.objects.create(
        requirement=requirement,
        plan=plan,
        accepted_by_contact=accepted_by_contact,
        accepted_by_user=accepted_by_user,
        accepted_at=moment,
        passed=passed,
        actual_value=value,
        remarks=remarks,
        created_by=actor,
    )
    outcome = _("通过") if passed else _("不通过")
    audit_record(actor=actor, obj=record, action=AuditEntry.Action.CREATE)
    audit_record(
        actor=actor,
        obj=requirement,
        action=AuditEntry.Action.UPDATE,
        # The history is read by everyone who sees the requirement: a contact of another customer is not named.
        changes={"acceptance": ("", f"{outcome}（{accepted_by_user if accepted_by_user else _('客户')}）")},
    )
    if not passed:
        _reopen(actor, requirement, remarks)
    return record
