"""Feasibility (difficulty, effort, cost, resources) and the compliance sign-off."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from needpool.accounts.models import User
from needpool.analysis import permissions
from needpool.analysis.choices import ComplianceStatus
from needpool.analysis.models import RequirementAnalysis
from needpool.analysis.services.common import locked_analysis, whole_number
from needpool.core.audit import audit_record, diff, snapshot
from needpool.core.models import AuditEntry
from needpool.requirements.models import Requirement

FEASIBILITY_FIELDS = ("tech_difficulty", "effort_days", "cost_estimate", "resources")
MAX_EFFORT_DAYS = Decimal("9999999.9")
MAX_RESOURCES_LENGTH = 2000


@transaction.atomic
def feasibility_update(*, actor: User, requirement: Requirement, **data: Any) -> RequirementAnalysis:
    if not permissions.can_estimate(actor, requirement):
        raise permissions.deny(_("只有技术人员和产品经理可以评估可行性。"))
    unknown = set(data) - set(FEASIBILITY_FIELDS)
    if unknown:
        raise ValidationError({name: _("未知字段。") for name in sorted(unknown)})
    errors: dict[str, str] = {}
    cleaned: dict[str, Any] = {}
    for name, value in data.items():
        if value in ("", None):
            cleaned[name] = "" if name == "resources" else None
            continue
        try:
            if name == "tech_difficulty":
                cleaned[name] = whole_number(value)
                if not 1 <= cleaned[name] <= 5:
                    raise ValueError
            elif name in ("effort_days", "cost_estimate"):
                cleaned[name] = Decimal(str(value))
                limit = MAX_EFFORT_DAYS if name == "effort_days" else Decimal("999999999")
                if cleaned[name] < 0 or cleaned[name] > limit:
                    raise ValueError
            else:
                cleaned[name] = str(value).strip()
                if len(cleaned[name]) > MAX_RESOURCES_LENGTH:
                    errors[name] = _("所需资源有 %(length)s 个字，最多 %(limit)s 个字：请缩短后再保存。") % {
                        "length": len(cleaned[name]),
                        "limit": MAX_RESOURCES_LENGTH,
                    }
        except (TypeError, ValueError, InvalidOperation):
            errors[name] = {
                "tech_difficulty": _("技术难度必须是 1 到 5 的整数。"),
            }.get(name, _("必须是不小于 0 的数字。"))
    if errors:
        raise ValidationError(errors)
    analysis = locked_analysis(requirement)
    before = snapshot(analysis, FEASIBILITY_FIELDS)
    for name, value in cleaned.items():
        setattr(analysis, name, value)
    analysis.save()
    changes = diff(before, snapshot(analysis, FEASIBILITY_FIELDS))
    if changes:
        audit_record(
            actor=actor,
            obj=requirement,
            action=AuditEntry.Action.UPDATE,
            changes={f"analysis.{k}": v for k, v in changes.items()},
        )
    return analysis


@transaction.atomic
def compliance_sign_off(*, actor: User, requirement: Requirement, status: str, note: str = "") -> RequirementAnalysis:
    """A compliance officer approves or rejects; only the compliance role may sign."""
    if not permissions.can_sign_compliance(actor, requirement):
        raise permissions.deny(_("只有合规人员可以签署合规检查。"))
    if status not in (ComplianceStatus.APPROVED, ComplianceStatus.REJECTED):
        raise ValidationError({"status": _("合规结论必须是“合规通过”或“不合规”。")})
    note = (note or "").strip()
    if status == ComplianceStatus.REJECTED and not note:
        raise ValidationError({"note": _("判定不合规时必须说明原因。")})
    if len(note) > 500:
        raise ValidationError({"note": _("意见不能超过 500 个字符。")})
    analysis = locked_analysis(requirement)
    before = analysis.compliance_status
    analysis.compliance_status = status
    analysis.compliance_note = note
    analysis.compliance_by = actor
    analysis.compliance_at = timezone.now()
    analysis.save()
    audit_record(
        actor=actor,
        obj=requirement,
        action=AuditEntry.Action.UPDATE,
        changes={
            "analysis.compliance_status": (before, status),
            **({"analysis.compliance_note": note} if note else {}),
        },
    )
    return analysis
