"""What an import changed, kept precisely enough to undo it: the rows it created, and the fields (and tag lists)
of existing rows it changed, as they were before.

While ``recording`` is active, every save of a model row is noted: a new row by its id, an existing one by
its values read from the database just before the import's first write to it; many-to-many lists (tags) the
same way. Audit rows written meanwhile carry the job (``core.audit.audit_job``). ``Journal.settle`` keeps only
the fields that really changed. The audit log says *that* something changed (values as text); the journal
holds the values themselves, ids included, so ``intake.transfer.undo`` can put them back exactly.

On SQLite the import runs on a private copy (``staging``): the journal is written there, with the ids the rows
keep in the database, and read back after the switch from the job's params. Rows written with
``QuerySet.update`` or ``bulk_create`` are not seen: the undo takes such a field's old value from the import's
audit row where there is one (a requirement's priority set by new scores), else it stays as the import left it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.apps import apps
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models.signals import m2m_changed, post_save, pre_save
from django.utils import timezone

from needpool.core.audit import audit_job

# Bookkeeping: never restored (an undo gives a row a new version, so a form opened before cannot save over it).
# ``updated_at`` is restored: after an undo the row is as the import found it (and an earlier import's undo
# does not take the later import's undone write for someone else's change).
BOOKKEEPING = frozenset({"version"})
# Rows of these apps are records about the work (audit, jobs, notices), not what the import imported.
NOT_RECORDED_APPS = frozenset({"core", "contenttypes", "sessions", "admin", "auth", "accounts", "notify"})
CHUNK = 500
PARAM = "journal"  # the key of a finished import's journal in its job's params

Row = dict[str, Any]
H = TypeVar("H")
R = TypeVar("R")


def recorded(model: type[models.Model]) -> bool:
    meta = model._meta
    return not meta.auto_created and meta.app_label not in NOT_RECORDED_APPS


def label_of(model: type[models.Model]) -> str:
    return str((model._meta.concrete_model or model)._meta.label_lower)


def model_of(label: str) -> type[models.Model]:
    return apps.get_model(label)


def content_fields(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    return [f for f in model._meta.concrete_fields if not f.primary_key and f.attname not in BOOKKEEPING]


@dataclass
class Journal:
    created: dict[str, set[int]] = field(default_factory=dict)
    before: dict[str, dict[int, Row]] = field(default_factory=dict)
    lists: dict[str, dict[int, dict[str, list[int]]]] = field(default_factory=dict)

    def is_new(self, label: str, pk: Any) -> bool:
        return pk in self.created.get(label, ())

    # -- noting (signal receivers)

    def note_created(self, model: type[models.Model], pk: Any) -> None:
        self.created.setdefault(label_of(model), set()).add(pk)

    def note_before(self, model: type[models.Model], pk: Any, using: str) -> None:
        label = label_of(model)
        if self.is_new(label, pk) or pk in self.before.get(label, {}):
            return
        names = [f.attname for f in content_fields(model)]
        row = model._base_manager.using(using).filter(pk=pk).values(*names).first()
        if row is not None:  # else the row is being created with a chosen id: post_save notes it
            self.before.setdefault(label, {})[pk] = row

    def note_list(self, instance: models.Model, name: str) -> None:
        label = label_of(type(instance))
        if self.is_new(label, instance.pk) or name in self.lists.get(label, {}).get(instance.pk, {}):
            return
        current = sorted(getattr(instance, name).values_list("pk", flat=True))
        self.lists.setdefault(label, {}).setdefault(instance.pk, {})[name] = current

    # -- after the run

    def settle(self) -> None:
        """Keep only what the import really changed (read in the import's own database, before the switch)."""
        for label, rows in list(self.before.items()):
            model = model_of(label)
            for start in range(0, len(rows), CHUNK):
                pks = list(rows)[start : start + CHUNK]
                names = [f.attname for f in content_fields(model)]
                for now in model._base_manager.filter(pk__in=pks).values("pk", *names):
                    pk = now.pop("pk")
                    old = rows[pk]
                    rows[pk] = {k: v for k, v in old.items() if now.get(k) != v}
            self.before[label] = {pk: row for pk, row in rows.items() if row}
        for label, lists in list(self.lists.items()):
            model = model_of(label)
            for pk, kept in list(lists.items()):
                instance = model._base_manager.filter(pk=pk).first()
                if instance is None:
                    continue
                for name, ids in list(kept.items()):
                    if sorted(getattr(instance, name).values_list("pk", flat=True)) == ids:
                        del kept[name]
            self.lists[label] = {pk: kept for pk, kept in lists.items() if kept}
        self.before = {k: v for k, v in self.before.items() if v}
        self.lists = {k: v for k, v in self.lists.items() if v}

    def as_dict(self) -> dict[str, Any]:
        plain = {
            "created": {label: sorted(pks) for label, pks in self.created.items() if pks},
            "before": {label: {str(pk): row for pk, row in rows.items()} for label, rows in self.before.items()},
            "lists": {label: {str(pk): names for pk, names in rows.items()} for label, rows in self.lists.items()},
        }
        loaded: dict[str, Any] = json.loads(json.dumps(plain, cls=_Exact))
        return loaded

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Journal:
        before: dict[str, dict[int, Row]] = {}
        for label, rows in (data.get("before") or {}).items():
            fields = {f.attname: f for f in content_fields(model_of(label))}
            before[label] = {
                int(pk): {name: fields[name].to_python(value) for name, value in row.items() if name in fields}
                for pk, row in rows.items()
            }
        return cls(
            created={label: {int(pk) for pk in pks} for label, pks in (data.get("created") or {}).items()},
            before=before,
            lists={
                label: {
                    int(pk): {name: [int(v) for v in ids] for name, ids in names.items()} for pk, names in rows.items()
                }
                for label, rows in (data.get("lists") or {}).items()
            },
        )

    def touched(self) -> dict[str, set[int]]:
        """Every row the import created or changed, by model label."""
        found: dict[str, set[int]] = {label: set(pks) for label, pks in self.created.items()}
        for source in (self.before, self.lists):
            for label, rows in source.items():
                found.setdefault(label, set()).update(rows)
        return found


class _Exact(DjangoJSONEncoder):
    """Times to the microsecond (Django's encoder keeps milliseconds): a restored value is the value it was."""

    def default(self, o: Any) -> Any:
        if isinstance(o, dt.datetime | dt.time):
            return o.isoformat()
        return super().default(o)


_current: ContextVar[Journal | None] = ContextVar("import_journal", default=None)


@contextmanager
def recording(job_id: int) -> Iterator[Journal]:
    """Note what the code inside changes (see the module), and mark its audit rows as part of ``job_id``."""
    journal = Journal()
    token = _current.set(journal)
    try:
        with audit_job(job_id):
            yield journal
    finally:
        _current.reset(token)


def _pre_save(sender: type[models.Model], instance: models.Model, using: str, raw: bool = False, **kw: Any) -> None:
    journal = _current.get()
    if journal is None or raw or instance.pk is None or not recorded(sender):
        return
    journal.note_before(sender, instance.pk, using)


def _post_save(sender: type[models.Model], instance: models.Model, created: bool, raw: bool = False, **kw: Any) -> None:
    journal = _current.get()
    if journal is None or raw or not created or not recorded(sender):
        return
    journal.note_created(sender, instance.pk)


def _m2m_changed(sender: Any, instance: models.Model, action: str, reverse: bool, **kw: Any) -> None:
    journal = _current.get()
    if journal is None or reverse or action not in ("pre_add", "pre_remove", "pre_clear"):
        return
    if not recorded(type(instance)):
        return
    for relation in instance._meta.many_to_many:
        if relation.remote_field.through is sender:
            journal.note_list(instance, relation.name)


def recorded_run(
    *, job_id: int, params: dict[str, Any], failed: Callable[[Any], bool], active: bool = True
) -> Callable[[Callable[[H], R]], Callable[[H], R]]:
    """Decorate ``work`` (one run of an import): its journal is noted and, when it did not fail, put in
    ``params`` (nothing is noted unless ``active``)."""

    def decorate(work: Callable[[H], R]) -> Callable[[H], R]:
        if not active:
            return work

        def run(hooks: H) -> R:
            params.pop(PARAM, None)
            with recording(job_id) as journal:
                result = work(hooks)
                if failed(result):
                    return result
                journal.settle()  # still on the database the run wrote (the private copy on SQLite)
            params[PARAM] = {**journal.as_dict(), "settled_at": timezone.now().isoformat()}
            return result

        return run

    return decorate


pre_save.connect(_pre_save, weak=False, dispatch_uid="needpool.import_journal.pre_save")
post_save.connect(_post_save, weak=False, dispatch_uid="needpool.import_journal.post_save")
m2m_changed.connect(_m2m_changed, weak=False, dispatch_uid="needpool.import_journal.m2m")
