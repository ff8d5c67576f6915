"""SLA breaches (each audited and told to the owner and team lead) and the audited write of a priority."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from needpool.accounts.models import User
from needpool.core.audit import audit_record_many
from needpool.core.bulk import bulk_set
from needpool.core.models import AuditEntry
from needpool.requirements import sla as sla_rules
from needpool.requirements.choices import Priority
from needpool.requirements.events import PriorityChange, owner_of, tell_priorities_changed, tell_sla_breached
from needpool.requirements.models import (
    Requirement,
)
from needpool.requirements.permissions import (
    can_prioritise,
)
from needpool.requirements.services.common import _deny

# ---------------------------------------------------------------- SLA


def _record_breaches(requirements: Sequence[Requirement]) -> None:
    """Every breach leaves an audit row and tells the owner and the owner's team lead (in the same transaction)."""
    audit_record_many(
        actor=None,
        objs=requirements,
        action=AuditEntry.Action.SLA_BREACH,
        changes={"sla_breached": (False, True)},
    )
    tell_sla_breached(requirements)


def sla_mark_breaches(*, now: dt.datetime | None = None) -> int:
    """Flag requirements whose first-response deadline passed unanswered, and tell their owners."""
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            Requirement.objects.filter(sla_rules.due_unflagged_q(now), merged_into__isnull=True)
            .select_for_update(of=("self",), skip_locked=True)
            .only("pk", "code", "title", "owner_id", "first_response_due", "version")
            .order_by("pk")[:5000]
        )
        if not due:
            return 0
        Requirement.objects.filter(pk__in=[r.pk for r in due]).update(sla_breached=True, version=F("version") + 1)
        _record_breaches(due)
    return len(due)


# ---------------------------------------------------------------- priority


@transaction.atomic
def requirements_priority_set(*, actor: User | None, priorities: Sequence[tuple[int, str]], reason: str = "") -> int:
    """Set requirements' priority (P0–P3 or blank) as an analysis decided it; one audit row per change.

    The analysis desk calls it for a single score edit, a manual override and the bulk recompute; ``actor``
    None is the system (a recompute job). Returns how many requirements changed.
    """
    if actor is not None and not can_prioritise(actor):
        raise _deny(_("只有产品经理及以上角色可以调整优先级。"))
    wanted = dict(priorities)
    bad = sorted({p for p in wanted.values() if p and p not in Priority.values})
    if bad:
        raise ValidationError({"priority": _("优先级必须是 P0、P1、P2 或 P3。")})
    if not wanted:
        return 0
    current = list(
        Requirement.objects.filter(pk__in=list(wanted))
        .only("pk", "code", "title", "priority", "owner", "version")
        .select_related("owner")
        .order_by("pk")
    )
    changed = [r for r in current if r.priority != wanted[r.pk]]
    if not changed:
        return 0
    bulk_set(Requirement, ("priority",), [(r.pk, wanted[r.pk]) for r in changed])
    Requirement.objects.filter(pk__in=[r.pk for r in changed]).update(version=F("version") + 1)
    extra = {"reason": reason} if reason else {}
    audit_record_many(
        actor=actor,
        objs=changed,
        action=AuditEntry.Action.UPDATE,
        changes_for=lambda r: {"priority": (r.priority, wanted[r.pk]), **extra},
    )
    watchers: dict[int, list[User]] = {}
    through = Requirement.watchers.through
    for row in through.objects.filter(requirement_id__in=[r.pk for r in changed], user__is_active=True).select_related(
        "user"
    ):
        watchers.setdefault(row.requirement_id, []).append(row.user)
    tell_priorities_changed(
        actor=actor,
        changes=[
            PriorityChange(
                requirement=requirement,
                before=requirement.priority,
                after=wanted[requirement.pk],
                occurrence=str(requirement.version + 1),
                owner=owner_of(requirement),
                watchers=watchers.get(requirement.pk, []),
            )
            for requirement in changed
        ],
    )
    return len(changed)
