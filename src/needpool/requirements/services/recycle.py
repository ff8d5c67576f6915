"""Deleting requirements and feedback into the recycle bin (回收站), restoring them, purging them for good.

Decisions
- Who deletes: whoever may edit the row. A requirement: ``can_edit_requirement``. A feedback item: whoever
  records feedback and sees it; when it belongs to a requirement, also whoever may edit that requirement
  (taking evidence away from a requirement is an edit of it). Who restores: an admin, for ``RESTORE_DAYS``.
- A requirement goes to the bin with its feedback (its evidence, restored with it). What blocks its delete
  (a clear message, nothing written): it was merged into another one or absorbed merges that are not undone
  (undo the merge first); it holds feedback the actor could not delete on its own (another team's customer's
  words, or a portal submission the customer follows); another part of the product holds it (a review agenda,
  a plan or iteration, a notice to customers, an evaluation…). Its own analysis stays with it, hidden.
- A feedback item deleted on its own leaves its requirement (the requirement's value no longer counts it);
  restoring puts it back on that requirement when the requirement is still in the pool and not merged,
  otherwise it returns to the inbox unlinked. So a deleted feedback item never belongs to a live requirement,
  and what joins from a requirement to its feedback never meets one. A feedback item that arrived through a
  channel (a portal submission) cannot be deleted: the customer follows it there.
- Purge: rows deleted more than ``RESTORE_DAYS`` days ago are deleted for good by a periodic job, feedback
  first; each purge is in the audit log (the audit rows are kept). A row something still protects is skipped
  and tried again next time.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models.deletion import ProtectedError, RestrictedError
from django.utils import timezone
from django.utils.translation import gettext as _

from needpool.accounts.models import User
from needpool.core.audit import audit_record
from needpool.core.concurrency import check_version, retry_on_conflict
from needpool.core.models import AuditEntry
from needpool.core.permissions import is_admin
from needpool.core.recycle import check_restorable, mark_deleted, mark_restored, purge_cutoff
from needpool.core.text import human_join
from needpool.requirements.dedup import index_changed_on_commit as dedup_index_changed_on_commit
from needpool.requirements.models import Feedback, Requirement, RequirementMerge
from needpool.requirements.permissions import can_edit_requirement, can_write_feedback, visible_feedback
from needpool.requirements.services.common import _deny, requirements_refresh_customer_value

log = logging.getLogger(__name__)

#: Apps whose rows are parts of a requirement and go to the bin with it.
_OWN_PARTS = frozenset({"requirements", "analysis"})


# ---------------------------------------------------------------- who


def can_delete_requirement(user: Any, requirement: Requirement) -> bool:
    return can_edit_requirement(user, requirement)


def can_delete_feedback(user: Any, feedback: Feedback) -> bool:
    if not can_write_feedback(user) or not visible_feedback(user).filter(pk=feedback.pk).exists():
        return False
    requirement = feedback.requirement
    return requirement is None or can_edit_requirement(user, requirement)


def can_restore(user: Any) -> bool:
    return is_admin(user)


# ---------------------------------------------------------------- what blocks a delete


def _held_by(obj: models.Model, *, skip_apps: frozenset[str] = frozenset(), only_protect: bool = False) -> list[str]:
    """The names of the other kinds of rows that still point at ``obj`` (live rows only)."""
    names: list[str] = []
    for rel in obj._meta.related_objects:
        related = rel.related_model
        if related._meta.app_label in skip_apps:
            continue
        if only_protect and rel.on_delete is not models.PROTECT:
            continue
        if related._default_manager.filter(**{rel.field.name: obj}).exists():
            name = str(related._meta.verbose_name)
            if name not in names:
                names.append(name)
    return names


def requirement_delete_refusals(requirement: Requirement, actor: Any) -> list[str]:
    """Why the requirement cannot go to the bin now (empty: it can)."""
    refusals: list[str] = []
    if requirement.merged_into_id:
        refusals.append(_("该需求已合并到其他需求：请先撤销合并。"))
    if RequirementMerge.objects.filter(survivor=requirement, undone_at__isnull=True).exists():
        refusals.append(_("该需求合并了其他需求：请先撤销这些合并。"))
    evidence = list(Feedback.objects.filter(requirement=requirement).order_by("pk"))
    visible = set(visible_feedback(actor).filter(requirement=requirement).values_list("pk", flat=True))
    hidden = sum(1 for item in evidence if item.pk not in visible)
    if hidden:
        message = _("该需求有 %(count)d 条您无权删除的反馈（其他团队客户的反馈）：请联系其负责人。")
        refusals.append(message % {"count": hidden})
    for item in evidence:
        refusals.extend(feedback_delete_refusals(item))
    held = _held_by(requirement, skip_apps=_OWN_PARTS)
    if held:
        refusals.append(_("该需求已被以下记录引用，不能删除：%(what)s。") % {"what": human_join(held)})
    return list(dict.fromkeys(refusals))


def feedback_delete_refusals(feedback: Feedback) -> list[str]:
    held = _held_by(feedback, only_protect=True)
    if held:
        return [_("该反馈来自%(what)s，客户仍在跟踪它，不能删除。") % {"what": human_join(held)}]
    return []


# ---------------------------------------------------------------- delete


def _lock_live(model: type[Requirement] | type[Feedback], pk: int) -> Any:
    row = model.all_objects.select_for_update().filter(pk=pk).first()
    if row is None or row.deleted_at is not None:
        raise ValidationError(_("该记录已被删除。"))
    return row


@retry_on_conflict()
@transaction.atomic
def requirement_delete(*, actor: User, requirement: Requirement, expected_version: int | None = None) -> Requirement:
    """Put the requirement in the bin (it leaves every list, search and report); refusals as above."""
    if not can_delete_requirement(actor, requirement):
        raise _deny(_("您没有删除该需求的权限。"))
    requirement = _lock_live(Requirement, requirement.pk)
    check_version(requirement.version, expected_version)
    refusals = requirement_delete_refusals(requirement, actor)
    if refusals:
        raise ValidationError(refusals)
    now = timezone.now()
    evidence = list(Feedback.objects.select_for_update().filter(requirement=requirement).order_by("pk"))
    for item in evidence:
        mark_deleted(item, actor=actor, at=now)  # the same moment: restored with the requirement
    mark_deleted(requirement, actor=actor, at=now)
    audit_record(
        actor=actor,
        obj=requirement,
        action=AuditEntry.Action.DELETE,
        changes={"code": requirement.code, "title": requirement.title, "feedback": len(evidence)},
    )
    dedup_index_changed_on_commit()
    return requirement


@retry_on_conflict()
@transaction.atomic
def feedback_delete(*, actor: User, feedback: Feedback) -> Feedback:
    """Put the feedback item in the bin; it leaves its requirement (whose value is recomputed)."""
    if not can_delete_feedback(actor, feedback):
        raise _deny(_("您没有删除该反馈的权限。"))
    feedback = _lock_live(Feedback, feedback.pk)
    # Linked meanwhile to a requirement the actor may not edit: checked again on the locked row.
    if feedback.requirement_id is not None and not can_delete_feedback(actor, feedback):
        raise _deny(_("您没有删除该反馈的权限。"))
    refusals = feedback_delete_refusals(feedback)
    if refusals:
        raise ValidationError(refusals)
    requirement = feedback.requirement
    changes: dict[str, Any] = {"raw_text": feedback.raw_text[:80]}
    if requirement is not None:
        changes["requirement"] = (requirement.code, None)
        changes["requirement_id"] = requirement.pk
        feedback.requirement = None
        feedback.save(update_fields=["requirement"])
    mark_deleted(feedback, actor=actor, at=timezone.now())
    audit_record(actor=actor, obj=feedback, action=AuditEntry.Action.DELETE, changes=changes)
    if requirement is not None:
        requirements_refresh_customer_value(requirement_ids=[requirement.pk])
        audit_record(
            actor=actor,
            obj=requirement,
            action=AuditEntry.Action.LINK,
            changes={"feedback": (feedback.raw_text[:80], None)},
        )
    return feedback


# ---------------------------------------------------------------- restore


def _lock_deleted(model: type[Requirement] | type[Feedback], pk: int) -> Any:
    row = model.all_objects.select_for_update().filter(pk=pk).first()
    if row is None:
        raise ValidationError(_("回收站中没有这条记录（可能已被彻底删除）。"))
    return row


def _restore_audit(actor: User, obj: models.Model, deleted_at: Any, **extra: Any) -> None:
    audit_record(
        actor=actor, obj=obj, action=AuditEntry.Action.RESTORE, changes={"deleted_at": (deleted_at, None), **extra}
    )


@retry_on_conflict()
@transaction.atomic
def requirement_restore(*, actor: User, pk: int) -> Requirement:
    """Take the requirement out of the bin with the feedback that went there with it."""
    if not can_restore(actor):
        raise _deny(_("只有管理员可以从回收站恢复。"))
    requirement: Requirement = _lock_deleted(Requirement, pk)
    deleted_at = check_restorable(requirement)
    evidence = list(
        Feedback.all_objects.select_for_update().filter(requirement=requirement, deleted_at=deleted_at).order_by("pk")
    )
    for item in evidence:
        mark_restored(item)
    mark_restored(requirement)
    _restore_audit(actor, requirement, deleted_at, feedback=len(evidence))
    dedup_index_changed_on_commit()
    return requirement


def _requirement_left(feedback: Feedback) -> int | None:
    """The requirement a deleted feedback item belonged to, from its delete entry in the audit log."""
    entry = (
        AuditEntry.objects.filter(
            content_type__app_label="requirements",
            content_type__model="feedback",
            object_id=feedback.pk,
            action=AuditEntry.Action.DELETE,
        )
        .order_by("-at", "-id")
        .values_list("changes", flat=True)
        .first()
    )
    value = (entry or {}).get("requirement_id")
    return value if isinstance(value, int) else None


@retry_on_conflict()
@transaction.atomic
def feedback_restore(*, actor: User, pk: int) -> Feedback:
    """Take the feedback item out of the bin; back on its requirement when that one is still in the pool."""
    if not can_restore(actor):
        raise _deny(_("只有管理员可以从回收站恢复。"))
    feedback: Feedback = _lock_deleted(Feedback, pk)
    deleted_at = check_restorable(feedback)
    customer = feedback.customer
    if customer is not None and customer.deleted_at is not None:
        raise ValidationError(_("该反馈的客户“%(customer)s”也在回收站中：请先恢复客户。") % {"customer": customer.name})
    owner = feedback.requirement
    if owner is not None:  # deleted together with its requirement
        message = _("该反馈随需求 %(code)s 一起删除：请恢复该需求（反馈随之恢复）。")
        raise ValidationError(message % {"code": owner.code})
    requirement_id = _requirement_left(feedback)
    requirement = (
        Requirement.objects.select_for_update().filter(pk=requirement_id, merged_into__isnull=True).first()
        if requirement_id is not None
        else None
    )
    if requirement is not None:
        feedback.requirement = requirement
        feedback.save(update_fields=["requirement"])
    mark_restored(feedback)
    extra = {"requirement": (None, requirement.code)} if requirement is not None else {}
    _restore_audit(actor, feedback, deleted_at, **extra)
    if requirement is not None:
        requirements_refresh_customer_value(requirement_ids=[requirement.pk])
        audit_record(
            actor=actor,
            obj=requirement,
            action=AuditEntry.Action.LINK,
            changes={"feedback": feedback.raw_text[:80]},
        )
    return feedback


# ---------------------------------------------------------------- purge


def _purge_one(obj: Any, *, before: Any = None) -> bool:
    try:
        with transaction.atomic():
            locked = type(obj).all_objects.select_for_update().filter(pk=obj.pk, deleted_at__lt=before).first()
            if locked is None:
                return False  # restored meanwhile
            audit_record(
                actor=None,
                obj=locked,
                action=AuditEntry.Action.DELETE,
                changes={"purged": True, "deleted_at": locked.deleted_at},
            )
            if isinstance(locked, Requirement):
                RequirementMerge.objects.filter(survivor=locked).delete()  # undone merges: kept in the audit log
            locked.delete()
    except (ProtectedError, RestrictedError) as exc:
        log.warning("recycle bin: %s #%s is still referenced, kept for now: %s", type(obj).__name__, obj.pk, exc)
        return False
    return True


def requirements_purge(now: Any = None) -> dict[str, int]:
    """Delete for good feedback and requirements that have been in the bin longer than it keeps them."""
    before = purge_cutoff(now)
    counts = {"feedback": 0, "requirements": 0}
    for feedback in Feedback.all_objects.filter(deleted_at__lt=before).order_by("pk").iterator():
        counts["feedback"] += _purge_one(feedback, before=before)
    for requirement in Requirement.all_objects.filter(deleted_at__lt=before).order_by("pk").iterator():
        counts["requirements"] += _purge_one(requirement, before=before)
    if counts["requirements"]:
        dedup_index_changed_on_commit()
    return counts
