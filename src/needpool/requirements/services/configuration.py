"""Configuration: the active workflow and the requirement code pattern."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from needpool.accounts.models import User
from needpool.core.audit import audit_record
from needpool.core.codes import validate_pattern
from needpool.core.config import site_config
from needpool.core.models import AuditEntry
from needpool.core.txcache import forget
from needpool.requirements.models import (
    Workflow,
)
from needpool.requirements.services.common import INITIAL_STATUS_KEY, initial_status

# ---------------------------------------------------------------- configuration


@transaction.atomic
def workflow_activate(*, actor: User, workflow: Workflow) -> Workflow:
    """Make ``workflow`` the one new requirements enter; requirements already in the pool keep their statuses."""
    from needpool.accounts.roles import Cap
    from needpool.core.permissions import require

    require(actor, Cap.CONFIGURE)
    initial_status(workflow)
    flows = list(Workflow.objects.select_for_update().order_by("pk"))
    before = next((str(w) for w in flows if w.is_active), "")
    Workflow.objects.filter(is_active=True).exclude(pk=workflow.pk).update(is_active=False)
    Workflow.objects.filter(pk=workflow.pk).update(is_active=True)
    forget(INITIAL_STATUS_KEY)  # QuerySet.update sends no model signal
    workflow.is_active = True
    audit_record(
        actor=actor,
        obj=workflow,
        action=AuditEntry.Action.UPDATE,
        changes={"active_workflow": (before, str(workflow))},
    )
    return workflow


@transaction.atomic
def code_pattern_set(*, actor: User, pattern: str) -> str:
    from needpool.accounts.roles import Cap
    from needpool.core.permissions import require

    require(actor, Cap.CONFIGURE)
    try:
        validate_pattern(pattern)
    except ValueError as exc:
        raise ValidationError({"requirement_code_pattern": str(exc)}) from exc
    config = site_config()
    before = config.requirement_code_pattern
    config.requirement_code_pattern = pattern
    config.save(update_fields=["requirement_code_pattern"])
    audit_record(
        actor=actor,
        obj=config,
        action=AuditEntry.Action.UPDATE,
        changes={"requirement_code_pattern": (before, pattern)},
    )
    return pattern
