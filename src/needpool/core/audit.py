"""Explicit audit rows, written by services inside their transaction."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models

from needpool.core.bulk import create_many
from needpool.core.models import AuditEntry

# The background job (an import) whose run writes the audit rows of this context, or None.
_job: ContextVar[int | None] = ContextVar("audit_job", default=None)


@contextmanager
def audit_job(job_id: int | None) -> Iterator[None]:
    """Mark every audit row written inside as part of the background job ``job_id`` (``AuditEntry.job``)."""
    token = _job.set(job_id)
    try:
        yield
    finally:
        _job.reset(token)


def _plain(value: Any) -> Any:
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, list | tuple | set):
        return ", ".join(str(v) for v in value)
    return value


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    return {name: _plain(getattr(obj, name)) for name in fields}


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Changed fields as (old, new) pairs; a tuple in ``changes`` always means a pair."""
    return {k: (before.get(k), v) for k, v in after.items() if before.get(k) != v}


def audit_record(*, actor: Any, obj: models.Model, action: str, changes: dict[str, Any] | None = None) -> AuditEntry:
    return AuditEntry.objects.create(
        content_type=ContentType.objects.get_for_model(obj.__class__),
        object_id=obj.pk,
        object_repr=str(obj)[:200],
        action=action,
        changes=_plain_changes(changes),
        actor=actor if getattr(actor, "pk", None) else None,
        job_id=_job.get(),
    )


def _plain_changes(changes: dict[str, Any] | None) -> dict[str, Any]:
    return {k: [_plain(v[0]), _plain(v[1])] if isinstance(v, tuple) else _plain(v) for k, v in (changes or {}).items()}


def audit_record_many(
    *,
    actor: Any,
    objs: Sequence[models.Model],
    action: str,
    changes: dict[str, Any] | None = None,
    changes_for: Callable[[Any], dict[str, Any]] | None = None,
    changes_each: Sequence[dict[str, Any]] | None = None,
) -> int:
    """One audit row per object in a single insert: the same ``changes``, or ``changes_for(obj)`` each, or the
    ``changes_each`` at the object's place (an object may come more than once)."""
    if not objs:
        return 0
    content_type = ContentType.objects.get_for_model(objs[0].__class__)
    actor = actor if getattr(actor, "pk", None) else None
    rows = [
        AuditEntry(
            content_type=content_type,
            object_id=obj.pk,
            object_repr=str(obj)[:200],
            action=action,
            changes=_plain_changes(
                changes_each[at]
                if changes_each is not None
                else changes_for(obj)
                if changes_for is not None
                else changes
            ),
            actor=actor,
            job_id=_job.get(),
        )
        for at, obj in enumerate(objs)
    ]
    create_many(AuditEntry, rows)
    return len(rows)


def audit_for(obj: models.Model, *, limit: int = 200) -> list[AuditEntry]:
    return list(
        AuditEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(obj.__class__), object_id=obj.pk
        ).select_related("actor")[:limit]
    )
