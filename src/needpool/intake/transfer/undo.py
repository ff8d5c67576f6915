"""Undo a whole finished import (an admin's decision): as if the sheet had never been imported.

What an import did is in its journal (``imports.journal``, kept in the job's params): the rows it created and
the fields and tag lists of existing rows it changed, with their values before. Its audit rows carry the job
(``AuditEntry.job``). An undo, all or nothing in one transaction:

* refuses when anything changed the same rows after the import: an audit row on one of them that is not the
  import's, a row saved after the import finished (``updated_at``), or a requirement, feedback item, customer,
  contact or interaction made since that points to a row the import created. The message names the records.
  A later import that was undone since does not count (nor does its undo): it left the rows as it found them;
* a field a service changed with a bulk update (a requirement's priority after new scores) is not in the
  journal: the import's audit row holds its value before, and that is put back (plain fields only);
* puts back the fields and tag lists the import changed (each restored row gets an audit row and a new
  ``version``, so a form opened before the undo cannot save over it);
* deletes the rows the import created, for good (not into the recycle bin): the undone import leaves no
  requirement, feedback, customer, contact or interaction behind, and its codes can be imported again. Each
  deleted record gets an audit row; the import's own audit rows stay, as the history of what happened;
* notes ``undone_by`` / ``undone_at`` in the job's params (a second undo is refused) and audits the job.

Two admins undoing at once: the job's row is locked first (on SQLite the transaction takes the write lock),
so the second waits and then finds the import undone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any, cast

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DEFAULT_DB_ALIAS, models, transaction
from django.db.models import F
from django.db.models.deletion import Collector, ProtectedError, RestrictedError
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from needpool.accounts.models import User
from needpool.core.audit import audit_record, audit_record_many, diff, snapshot
from needpool.core.models import AuditEntry, BackgroundJob
from needpool.core.permissions import is_admin
from needpool.core.text import human_join
from needpool.intake.transfer.imports.journal import CHUNK, PARAM, Journal, content_fields, label_of, model_of
from needpool.intake.transfer.services import IMPORT_RUN

# What an import imports: a later one of these pointing to a row the import created blocks the undo.
IMPORTED = frozenset(
    {
        "requirements.requirement",
        "requirements.feedback",
        "customers.customer",
        "customers.contact",
        "customers.interaction",
    }
)
NAMED = 10  # records named in a refusal (the rest are counted)


class Refused(Exception):
    def __init__(self, names: list[str]) -> None:
        super().__init__(names)
        self.names = names


def can_undo_import(user: Any) -> bool:
    return is_admin(user)


def may_undo(user: Any, job: BackgroundJob) -> bool:
    """Whether the page offers ``user`` to undo ``job`` (the service checks everything again)."""
    return (
        can_undo_import(user)
        and job.kind == IMPORT_RUN
        and job.status == BackgroundJob.Status.DONE
        and isinstance(job.params.get(PARAM), dict)
        and not job.params.get("undone_at")
    )


def _name(obj: models.Model) -> str:
    return _("%(kind)s“%(name)s”") % {"kind": obj._meta.verbose_name, "name": str(obj)[:80]}


def _chunks(pks: Iterable[int]) -> Iterable[list[int]]:
    ordered = sorted(pks)
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start : start + CHUNK]


def _rows(label: str, pks: Iterable[int]) -> list[models.Model]:
    model = model_of(label)
    return [obj for chunk in _chunks(pks) for obj in model._base_manager.filter(pk__in=chunk).order_by("pk")]


def _lock(touched: dict[str, set[int]]) -> None:
    """Lock every row the import touched, in one order (table, id), so two undos cannot cross."""
    for label in sorted(touched):
        model = model_of(label)
        for chunk in _chunks(touched[label]):
            list(model._base_manager.select_for_update().filter(pk__in=chunk).order_by("pk").values_list("pk"))


# ---------------------------------------------------------------- what changed since


def _later_changes(job: BackgroundJob, journal: Journal, settled_at: dt.datetime | None) -> list[models.Model]:
    job_type = ContentType.objects.get_for_model(BackgroundJob)
    first: dict[tuple[int, int], tuple[dt.datetime, int]] = {}
    for ct, oid, at, pk in (
        AuditEntry.objects.filter(job_id=job.pk)
        .exclude(content_type=job_type)
        .values_list("content_type_id", "object_id", "at", "pk")
    ):
        key = (ct, oid)
        first[key] = min(first.get(key, (at, pk)), (at, pk))
    start = min(first.values(), default=(settled_at or job.created_at, 0))
    objects: dict[int, set[int]] = {}
    for key in first:
        objects.setdefault(key[0], set()).add(key[1])
    for label, pks in journal.touched().items():
        kind = ContentType.objects.get_for_model(model_of(label), for_concrete_model=True)
        objects.setdefault(kind.pk, set()).update(pks)
    later: dict[tuple[int, int], set[int]] = {}  # object → the later imports (or their undos) that changed it
    for ct, oids in objects.items():
        for chunk in _chunks(oids):
            entries = (
                AuditEntry.objects.filter(content_type_id=ct, object_id__in=chunk, at__gte=start[0])
                .exclude(job_id=job.pk)
                .values_list("object_id", "at", "pk", "job_id", "changes")
            )
            for oid, at, pk, by_job, changes in entries:
                if (at, pk) > first.get((ct, oid), start):
                    undo_of = changes.get("undo_import") if isinstance(changes, dict) else None
                    later.setdefault((ct, oid), set()).add(int(by_job or undo_of or 0))
    # A later import undone since (it and its undo) changed nothing: the undo put back what it found.
    jobs = {j for js in later.values() for j in js if j}
    undone = set(
        BackgroundJob.objects.filter(pk__in=jobs, kind=IMPORT_RUN, params__has_key="undone_at").values_list(
            "pk", flat=True
        )
    )
    changed = sorted(key for key, js in later.items() if not js <= undone)
    found: list[models.Model] = []
    for ct, oid in changed:
        model = ContentType.objects.get_for_id(ct).model_class()
        obj = model._base_manager.filter(pk=oid).first() if model is not None else None
        if obj is not None:
            found.append(obj)
    if settled_at is not None:
        for label, pks in sorted(journal.touched().items()):
            model = model_of(label)
            if not any(f.name == "updated_at" for f in model._meta.concrete_fields):
                continue
            for chunk in _chunks(pks):
                found += [
                    o for o in model._base_manager.filter(pk__in=chunk, updated_at__gt=settled_at) if o not in found
                ]
    return found


def _add_audited(job: BackgroundJob, journal: Journal) -> None:
    """Add to the journal what only the import's audit rows tell: fields a service changed with a bulk update
    (a requirement's priority after new scores). Plain fields only (the audit row holds their value as is);
    what the journal noted itself wins, and the first audit row of a field gives its value before."""
    job_type = ContentType.objects.get_for_model(BackgroundJob)
    entries = (
        AuditEntry.objects.filter(job_id=job.pk, action=AuditEntry.Action.UPDATE)
        .exclude(content_type=job_type)
        .order_by("at", "pk")
        .values_list("content_type_id", "object_id", "changes")
    )
    noted: set[tuple[str, int, str]] = set()
    for ct, oid, changes in entries:
        model = ContentType.objects.get_for_id(ct).model_class()
        if model is None or not isinstance(changes, dict):
            continue
        label = label_of(model)
        if journal.is_new(label, oid):
            continue
        plain = {f.name: f for f in content_fields(model) if not f.is_relation and f.attname == f.name}
        row = journal.before.setdefault(label, {}).setdefault(oid, {})
        for name, pair in changes.items():
            if name not in plain or not isinstance(pair, list) or len(pair) != 2 or (label, oid, name) in noted:
                continue
            noted.add((label, oid, name))
            if name not in row:
                row[name] = plain[name].to_python(pair[0])
        if not row:
            del journal.before[label][oid]


# ---------------------------------------------------------------- put back, delete


def _restore(actor: User, job: BackgroundJob, journal: Journal) -> int:
    """Put back the fields and lists the import changed; how many records."""
    restored = 0
    for label in sorted(set(journal.before) | set(journal.lists)):
        model = model_of(label)
        fields = {f.attname: f for f in model._meta.concrete_fields}
        rows = journal.before.get(label, {})
        lists = journal.lists.get(label, {})
        for obj in _rows(label, set(rows) | set(lists)):
            values = {a: v for a, v in rows.get(obj.pk, {}).items() if a in fields}
            names = [fields[a].name for a in values if a != "updated_at"]
            shown_before = snapshot(obj, names)
            if "version" in fields:
                values["version"] = F("version") + 1
            # An update, not a save: the row gets exactly its old values (``updated_at`` too, where the import
            # saved the row; a field only a bulk update changed leaves it as it is), and no signals fire.
            model._base_manager.filter(pk=obj.pk).update(**values)
            obj.refresh_from_db()
            changes: dict[str, Any] = diff(shown_before, snapshot(obj, names))
            for name, ids in lists.get(obj.pk, {}).items():
                relation = getattr(obj, name)
                old = sorted(str(o) for o in relation.all())
                relation.set(ids)
                changes[name] = (", ".join(old), ", ".join(sorted(str(o) for o in relation.all())))
            if changes:
                audit_record(
                    actor=actor, obj=obj, action=AuditEntry.Action.UPDATE, changes={**changes, "undo_import": job.pk}
                )
            restored += 1
    return restored


def _outside(journal: Journal, objs: Iterable[Any]) -> list[models.Model]:
    return [o for o in objs if isinstance(o, models.Model) and not journal.is_new(label_of(type(o)), o.pk)]


def _check_collected(journal: Journal, collector: Collector) -> list[models.Model]:
    """Rows outside the import that deleting the collected rows would delete or change (imported kinds only)."""
    found: list[models.Model] = []
    for model, instances in collector.data.items():
        if label_of(model) in IMPORTED:
            found += _outside(journal, instances)
    for (field, _value), batches in collector.field_updates.items():
        if label_of(field.model) in IMPORTED:
            for batch in batches:  # a queryset or a list of rows
                found += _outside(journal, cast(Iterable[Any], batch))
    for queryset in collector.fast_deletes:
        if label_of(queryset.model) in IMPORTED:
            found += _outside(journal, queryset)
    return found


def _delete(actor: User, job: BackgroundJob, journal: Journal) -> tuple[int, list[models.Model]]:
    """Delete the rows the import created (rows that point to others go first); (records deleted, blockers)."""
    pending = {label: set(pks) for label, pks in journal.created.items()}
    deleted = 0
    blockers: list[models.Model] = []
    while pending:
        progressed = False
        for label in sorted(pending):
            objs = _rows(label, pending[label])
            collector = Collector(using=DEFAULT_DB_ALIAS)
            try:
                collector.collect(objs)
            except ProtectedError as exc:
                outside = _outside(journal, exc.protected_objects)
                if outside:
                    blockers += outside
                    del pending[label]
                continue  # the import's own rows that point to these go first
            except RestrictedError as exc:
                outside = _outside(journal, exc.restricted_objects)
                if outside:
                    blockers += outside
                    del pending[label]
                continue
            del pending[label]
            progressed = True
            later = _check_collected(journal, collector)
            if later:
                blockers += later
                continue
            gone = [o for model, instances in collector.data.items() if label_of(model) in IMPORTED for o in instances]
            for model in {type(o) for o in gone}:
                audit_record_many(
                    actor=actor,
                    objs=[o for o in gone if type(o) is model],
                    action=AuditEntry.Action.DELETE,
                    changes={"undo_import": job.pk},
                )
            deleted += len(gone)
            collector.delete()
        if not progressed:
            break
    for label in sorted(pending):  # the import's own rows hold each other: cannot happen with its models
        blockers += _rows(label, pending[label])
    return deleted, blockers


# ---------------------------------------------------------------- the whole


def _refusal(found: list[models.Model]) -> ValidationError:
    names = list(dict.fromkeys(_name(o) for o in found))
    shown = human_join(names[:NAMED])
    if len(names) > NAMED:
        shown += _("等 %(n)s 条记录") % {"n": len(names)}
    return ValidationError(
        _("导入之后，以下记录又被修改或引用过，不能撤销本次导入：%(records)s。") % {"records": shown}
    )


@transaction.atomic
def import_undo(*, actor: User, job: BackgroundJob) -> dict[str, int]:
    """Undo the finished import ``job`` (admins only); {"deleted": records deleted, "restored": records restored}.

    Raises PermissionDenied for anyone but an admin, ValidationError when the import cannot be undone (not a
    finished import, undone already, or rows it touched changed since: the message names them)."""
    if not can_undo_import(actor):
        raise PermissionDenied(_("只有管理员可以撤销导入。"))
    locked = BackgroundJob.objects.select_for_update().filter(pk=job.pk, kind=IMPORT_RUN).first()
    if locked is None:
        raise ValidationError(_("只能撤销已完成的导入。"))
    job = locked
    if job.params.get("undone_at"):
        when = parse_datetime(str(job.params["undone_at"]))
        shown = timezone.localtime(when).strftime("%Y-%m-%d %H:%M") if when else ""
        raise ValidationError(_("这次导入已于 %(when)s 撤销，不能再次撤销。") % {"when": shown})
    if job.status != BackgroundJob.Status.DONE:
        raise ValidationError(_("只能撤销已完成的导入。"))
    data = job.params.get(PARAM)
    if not isinstance(data, dict):
        raise ValidationError(_("这次导入没有记录撤销所需的信息，不能撤销。"))
    journal = Journal.from_dict(data)
    settled_at = parse_datetime(str(data.get("settled_at") or ""))
    _add_audited(job, journal)
    _lock(journal.touched())
    later = _later_changes(job, journal, settled_at)
    if later:
        raise _refusal(later)
    restored = _restore(actor, job, journal)
    deleted, blockers = _delete(actor, job, journal)
    if blockers:
        raise _refusal(blockers)  # the transaction rolls back what was restored and deleted
    now = timezone.now()
    counts = {"deleted": deleted, "restored": restored}
    job.params = {**job.params, "undone_by": actor.pk, "undone_at": now.isoformat(), "undo": counts}
    job.save(update_fields=["params"])
    audit_record(
        actor=actor,
        obj=job,
        action=AuditEntry.Action.UPDATE,
        changes={"undone": job.params.get("filename", ""), **counts},
    )
    if "requirements.requirement" in journal.touched():
        from needpool.requirements.dedup import index_changed_on_commit

        index_changed_on_commit()
    return counts
