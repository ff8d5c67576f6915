"""Many rows in few statements.

``bulk_set``: different values on many rows in one statement, UPDATE … FROM (VALUES …), on SQLite and PostgreSQL.
Django's ``bulk_update`` writes one CASE WHEN per row and field, which grows quadratically in work for the
database; a joined VALUES list is one pass.

``create_many``: new rows with one prepared statement run for all of them, their primary keys set, each told
saved: ``QuerySet.bulk_create`` sends no ``post_save``, so a recorder of created rows (an import's undo journal)
would not see them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar, cast

from django.db import connection, connections, models, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.signals import post_save

M = TypeVar("M", bound=models.Model)


def bulk_set(model: type[models.Model], fields: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> int:
    """For each ``(pk, value1, value2, …)`` in ``rows`` set ``fields`` of that row; returns rows sent."""
    if not rows:
        return 0
    meta = model._meta
    table = connection.ops.quote_name(meta.db_table)
    assert meta.pk is not None
    pk_column = connection.ops.quote_name(str(meta.pk.column))
    model_fields: list[Any] = [meta.get_field(name) for name in fields]
    columns = [connection.ops.quote_name(str(f.column)) for f in model_fields]
    params: list[Any] = []
    for row in rows:
        params.append(row[0])
        params.extend(f.get_db_prep_save(v, connection) for f, v in zip(model_fields, row[1:], strict=True))
    if connection.vendor == "postgresql":
        casts = ["bigint", *(f.db_type(connection) for f in model_fields)]
        one = "(" + ", ".join(f"%s::{cast}" for cast in casts) + ")"
        names = ", ".join(["_pk", *columns])
        assignments = ", ".join(f"{c} = v.{c}" for c in columns)
        sql = (
            f"UPDATE {table} AS t SET {assignments} FROM (VALUES {', '.join([one] * len(rows))}) AS v({names}) "
            f"WHERE t.{pk_column} = v._pk"
        )
    else:
        one = "(" + ", ".join(["%s"] * (len(fields) + 1)) + ")"
        assignments = ", ".join(f"{c} = v.column{i + 2}" for i, c in enumerate(columns))
        sql = (
            f"UPDATE {table} SET {assignments} FROM (VALUES {', '.join([one] * len(rows))}) AS v "
            f"WHERE {table}.{pk_column} = v.column1"
        )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    return len(rows)


def create_many(model: type[M], objs: Sequence[M], *, batch_size: int = 1000) -> list[M]:
    """Insert ``objs`` (new rows, no primary key yet) in one prepared statement run for every row
    (``executemany``), set their primary keys, and tell each saved (``post_save``).

    ``bulk_create`` compiles a multi-row VALUES statement value by value (~0.1 ms per row and table here); one
    statement run with every row's parameters skips that. The keys: on PostgreSQL taken from the table's
    sequence in one query beforehand; on SQLite, inside the transaction that holds the write lock, the rows get
    consecutive ids ending at ``last_insert_rowid()``. Anything else (a key already set, outside a transaction)
    goes through ``bulk_create``.
    """
    objs = list(objs)
    if not objs:
        return []
    meta = model._meta
    pk = meta.pk
    assert pk is not None
    database = connections[router.db_for_write(model)]
    plain = (
        isinstance(pk, models.AutoField | models.BigAutoField)
        and database.vendor in ("sqlite", "postgresql")
        and database.in_atomic_block
        and all(getattr(obj, pk.attname) is None for obj in objs)
    )
    if not plain:
        made = model._default_manager.bulk_create(objs, batch_size=batch_size)
    else:
        made = _insert_rows(database, model, objs)
    if post_save.has_listeners(model):
        using = database.alias
        for obj in made:
            post_save.send(sender=model, instance=obj, created=True, update_fields=None, raw=False, using=using)
    return made


def _insert_rows(database: BaseDatabaseWrapper, model: type[M], objs: list[M]) -> list[M]:
    meta = model._meta
    pk = meta.pk
    assert pk is not None
    quote = database.ops.quote_name
    fields: list[Any] = [f for f in meta.concrete_fields if not f.primary_key]
    with database.cursor() as cursor:
        ids: list[int] = []
        if database.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [meta.db_table, pk.column, len(objs)],
            )
            ids = [row[0] for row in cursor.fetchall()]
            fields = [pk, *fields]
        rows: list[list[Any]] = []
        for index, obj in enumerate(objs):
            cast(Any, obj)._prepare_related_fields_for_save(operation_name="bulk_create")
            if ids:
                setattr(obj, pk.attname, ids[index])
            rows.append([f.get_db_prep_save(f.pre_save(obj, True), connection=database) for f in fields])
        columns = ", ".join(quote(f.column) for f in fields)
        placeholders = ", ".join(["%s"] * len(fields))
        cursor.executemany(f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({placeholders})", rows)
        if not ids:
            cursor.execute("SELECT last_insert_rowid()")
            last = int(cursor.fetchone()[0])
            ids = list(range(last - len(objs) + 1, last + 1))
            for obj, key in zip(objs, ids, strict=True):
                setattr(obj, pk.attname, key)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = database.alias
    return objs
