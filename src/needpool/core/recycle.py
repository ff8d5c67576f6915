"""The recycle bin (回收站) rules every soft-deletable row shares: how long a deleted row can be restored, and the
marking itself. The apps that own the rows decide who may delete and restore and what blocks a delete.

Decisions
- A deleted row stays in its table with ``deleted_at`` / ``deleted_by`` set; the default manager leaves it out
  of every list (``SoftDeletable.objects``), the bin reads it through ``all_objects``.
- An admin can restore it for ``RESTORE_DAYS`` days; after that the periodic purge deletes it for good. The
  audit log keeps the delete, the restore and the purge (the audit rows are never purged).
- Deleting and restoring bump ``version`` (a versioned row): an edit opened before the delete is refused.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from needpool.core.models import SoftDeletable

RESTORE_DAYS = 30


def restore_deadline(deleted_at: dt.datetime) -> dt.datetime:
    return deleted_at + dt.timedelta(days=RESTORE_DAYS)


def days_left(deleted_at: dt.datetime, now: dt.datetime | None = None) -> int:
    """Whole days (rounded up) the row can still be restored; 0 once the time is up."""
    remaining = (restore_deadline(deleted_at) - (now or timezone.now())).total_seconds()
    return max(0, math.ceil(remaining / 86400))


def purge_cutoff(now: dt.datetime | None = None) -> dt.datetime:
    """Rows deleted before this moment are past restoring and purged."""
    return (now or timezone.now()) - dt.timedelta(days=RESTORE_DAYS)


def _bump(obj: Any) -> list[str]:
    if hasattr(obj, "version"):
        obj.version += 1  # the caller holds the row lock
        return ["version"]
    return []


def mark_deleted(obj: Any, *, actor: Any, at: dt.datetime) -> None:
    """Put a (locked, live) row in the bin."""
    obj.deleted_at = at
    obj.deleted_by = actor if getattr(actor, "pk", None) else None
    obj.save(update_fields=["deleted_at", "deleted_by", "updated_at", *_bump(obj)])


def check_restorable(obj: SoftDeletable, now: dt.datetime | None = None) -> dt.datetime:
    """The row's deletion time, or a clear refusal: not in the bin, or kept longer than the bin keeps rows."""
    if obj.deleted_at is None:
        raise ValidationError(_("“%(item)s”不在回收站中。") % {"item": obj})
    if (now or timezone.now()) >= restore_deadline(obj.deleted_at):
        raise ValidationError(_("“%(item)s”删除已超过 %(days)d 天，不能再恢复。") % {"item": obj, "days": RESTORE_DAYS})
    return obj.deleted_at


def mark_restored(obj: Any) -> None:
    """Take a (locked, deleted) row out of the bin."""
    obj.deleted_at = None
    obj.deleted_by = None
    obj.save(update_fields=["deleted_at", "deleted_by", "updated_at", *_bump(obj)])
