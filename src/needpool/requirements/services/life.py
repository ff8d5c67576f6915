"""Status moves: allowed targets, the first response, the note, and the transition through the gates."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from needpool.accounts.models import User
from needpool.core.audit import audit_record
from needpool.core.concurrency import check_version, retry_on_conflict
from needpool.core.models import AuditEntry
from needpool.core.text import human_join
from needpool.core.validation import parse_id
from needpool.requirements import lifecycle
from needpool.requirements import sla as sla_rules
from needpool.requirements.events import owner_of, tell_status_changed, watchers_of
from needpool.requirements.models import (
    NOTE_MAX_LENGTH,
    Requirement,
    StatusChange,
    WorkflowStatus,
    WorkflowTransition,
)
from needpool.requirements.permissions import (
    can_transition_requirement,
)
from needpool.requirements.services.common import _deny, _lock_requirement, _refuse_merged
from needpool.requirements.services.sla_priority import _record_breaches


def allowed_targets(requirement: Requirement) -> list[WorkflowStatus]:
    return [
        t.target
        for t in WorkflowTransition.objects.filter(source_id=requirement.status_id)
        .select_related("target")
        .order_by("target__order")
    ]


def _mark_responded(requirement: Requirement, at: dt.datetime) -> list[str]:
    fields, newly_breached = sla_rules.mark_responded(requirement, at)
    if newly_breached:
        _record_breaches([requirement])
    return fields


def check_note(note: str) -> str:
    """A transition note (the reason of a rejection, a deferral …): at most NOTE_MAX_LENGTH characters."""
    note = (note or "").strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise ValidationError({"note": _("备注不能超过 %(n)s 个字符。") % {"n": NOTE_MAX_LENGTH}})
    return note


class StaleMove(ValidationError):
    """The move no longer applies: the requirement is now in ``current`` (another move won, or the caller's
    expected status is not the current one). The API answers 409 with the current status."""

    def __init__(self, current: WorkflowStatus, target: WorkflowStatus | str) -> None:
        if isinstance(target, WorkflowStatus) and target.pk == current.pk:
            message = _("需求已处于“%(status)s”状态（已被他人流转），无需再次流转。") % {"status": current}
        else:
            message = _(
                "需求当前状态已是“%(status)s”（可能已被他人流转），无法流转到“%(target)s”。请刷新后再操作。"
            ) % {"status": current, "target": target}
        super().__init__({"to": message}, code="stale_move")
        self.current = current


def _expected_status(source: WorkflowStatus, expected: str | int | None) -> bool:
    """Whether ``expected`` (a status key or id, or None for no precondition) names the current status."""
    if expected is None or expected == "":
        return True
    text = str(expected).strip()
    return text == source.key or parse_id(text) == source.pk


@retry_on_conflict()
@transaction.atomic
def requirement_transition(
    *,
    actor: User,
    requirement: Requirement,
    to: str,
    note: str = "",
    expected_status: str | int | None = None,
    expected_version: int | None = None,
) -> Requirement:
    """Move a requirement to status ``to`` (a key of its flow) if the flow allows it; record the move.

    ``expected_status`` (a key or id) and ``expected_version`` are the caller's preconditions: a requirement
    that is no longer there raises ``StaleMove`` / ``StaleVersion``. Without ``expected_status``, a move that
    stopped applying because the status changed after the caller read it raises ``StaleMove`` too.
    """
    if not can_transition_requirement(actor, requirement):
        raise _deny(_("您没有流转该需求状态的权限。"))
    note = check_note(note)
    read_status_id = requirement.status_id
    read = requirement
    # Lock the requirement row alone, then read its status: a join in the locking query would drop the row
    # when a concurrent move changed its status (PostgreSQL re-checks the join against the old status).
    requirement = _lock_requirement(requirement.pk)
    _refuse_merged(requirement)
    source = WorkflowStatus.objects.get(pk=requirement.status_id)
    requirement.status = source
    check_version(requirement.version, expected_version)
    target = WorkflowStatus.objects.filter(workflow_id=source.workflow_id, key=to).first()
    if not _expected_status(source, expected_status):
        raise StaleMove(source, target or to)
    if target is None:
        raise ValidationError({"to": _("状态“%(to)s”不在当前流程中。") % {"to": to}})
    allowed = WorkflowTransition.objects.filter(source=source, target=target).exists()
    if not allowed and read_status_id is not None and read_status_id != source.pk:
        raise StaleMove(source, target)
    if target.pk == source.pk:
        raise ValidationError({"to": _("需求已处于“%(status)s”状态。") % {"status": source}})
    if not allowed:
        allowed_names = human_join([str(s) for s in allowed_targets(requirement)]) or _("无")
        raise ValidationError(
            {
                "to": _("不允许从“%(source)s”流转到“%(target)s”。可流转到：%(allowed)s。")
                % {"source": source, "target": target, "allowed": allowed_names}
            }
        )
    refusals = lifecycle.refusals(requirement, source, target, note)
    if refusals:
        raise ValidationError({"to": refusals})
    now = timezone.now()
    requirement.status = target
    requirement.version += 1  # the row is locked: no other write read this version
    update = ["status", "version", "updated_at", *_mark_responded(requirement, now)]
    requirement.save(update_fields=update)
    change = StatusChange.objects.create(requirement=requirement, source=source, target=target, actor=actor, note=note)
    tell_status_changed(
        actor=actor,
        requirement=requirement,
        source=source,
        target=target,
        change_id=change.pk,
        owner=owner_of(requirement, prefetched=read),
        watchers=watchers_of(requirement, prefetched=read),
        note=note,
    )
    audit_record(
        actor=actor,
        obj=requirement,
        action=AuditEntry.Action.TRANSITION,
        changes={"status": (str(source), str(target)), **({"note": note} if note else {})},
    )
    lifecycle.status_moved(
        lifecycle.StatusMoved(
            requirement_id=requirement.pk,
            source_key=source.key,
            source_category=source.category,
            target_key=target.key,
            target_category=target.category,
            actor_id=actor.pk,
            note=note,
        )
    )
    return requirement
