"""Many rows in few statements.

``bulk_set``: different values on many rows in one statement, UPDATE … FROM (VALUES …), on SQLite and PostgreSQL.
Django's ``bulk_update`` writes one CASE WHEN per row and field, which grows quadratically in work for the
database; a joined VALUES list is one pass.

``create_many``: ``QuerySet.bulk_create`` sends no ``post_save``, so a recorder of created rows (an import's undo
journal) would not see them. ``create_many`` inserts with ``bulk_create`` (primary keys set, on SQLite and
PostgreSQL) and then sends ``post_save`` (``created=True``) for each row, as ``save`` would have.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from django.db import connection, models, router
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
    """Insert ``objs`` in as few statements as the database allows; each is then told saved (``post_save``)."""
    if not objs:
        return []
    made = model._default_manager.bulk_create(list(objs), batch_size=batch_size)
    if post_save.has_listeners(model):
        using = router.db_for_write(model)
        for obj in made:
            post_save.send(sender=model, instance=obj, created=True, update_fields=None, raw=False, using=using)
    return made
