"""An import on SQLite: write into a private copy, then switch the changes in with one short transaction.

SQLite has one write lock for the whole database. An import that writes its rows in one transaction (all or
nothing) held it for minutes, and every login, create and periodic job meanwhile failed with "database is
locked". Here the import runs, with the same handlers and services, on a copy of the database (``snapshot``):

1. **Reserve ids.** In one short transaction on the database, every table's AUTOINCREMENT counter jumps ahead by
   a block; the copy starts its counters at the block's start. Rows the import creates in the copy get exactly
   the ids they will have in the database, and rows other people create meanwhile get ids after the block.
   Codes (需求编号, 客户编号) are taken from the database's own counters while the import runs
   (``core.codes.counters_on``), so nobody else gets the same code.
2. **Record what changed.** Triggers in the copy note every row the import inserts, updates or deletes, with
   the row as it was before the import touched it.
3. **Switch.** In one transaction on the database (``BEGIN IMMEDIATE``: milliseconds for thousands of rows),
   the noted rows are copied over. A row that someone changed in the database since the copy was taken, or a
   unique value taken meanwhile (an id too, when the import needed more than its block and someone took the ids
   after it) is a conflict: the switch rolls back and the import runs again on a fresh copy, with a bigger block;
   after ``ATTEMPTS`` conflicts it runs the old way, on the database itself.
   The unused end of each block is given back when nobody has taken ids after it.
4. **After commit.** What the services asked to run after commit (``transaction.on_commit``: notices, mails,
   the duplicate index) is held back while the copy commits and run once the switch has committed.

All or nothing holds: a failed import never switches; a killed one leaves only its copy file (deleted at the
next start of the job) and, at worst, unused reserved ids and code numbers — gaps, never half-written rows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from django.apps import apps
from django.db import DEFAULT_DB_ALIAS, DatabaseError, IntegrityError, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from needpool.core.codes import counters_on
from needpool.intake.transfer.imports import snapshot

logger = logging.getLogger(__name__)

ATTEMPTS = 3  # switches tried on fresh copies before the import runs on the database itself
TOUCHED = "needpool_import_touched"
STAGED = "needpool_staged"
MIN_BLOCK = 1000
IDS_PER_ROW = 20  # a sheet row creates a requirement, feedback, history, audit entries, tags …

T = TypeVar("T")
Hooks = list[tuple[Any, Callable[[], Any], bool]]


class SwitchConflict(Exception):
    """The database changed under the copy in a way the switch cannot apply: run again on a fresh copy."""


@dataclass(frozen=True)
class Table:
    name: str
    pk: str
    columns: tuple[str, ...]
    autoincrement: bool

    def quoted(self, alias: str = "") -> str:
        prefix = f"{alias}." if alias else ""
        return ", ".join(f'{prefix}"{c}"' for c in self.columns)

    def row_text(self, alias: str) -> str:
        """One text that changes whenever any column of the row does (``quote`` keeps types apart)."""
        return " || ',' || ".join(f'quote({alias}."{c}")' for c in self.columns)


def _tables(database: BaseDatabaseWrapper) -> dict[str, Table]:
    """The tables of the installed models, as the database has them (columns, primary key, AUTOINCREMENT)."""
    wanted = {
        model._meta.db_table
        for model in apps.get_models(include_auto_created=True)
        if model._meta.managed and not model._meta.proxy
    }
    found: dict[str, Table] = {}
    with database.cursor() as cursor:
        cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'")
        schema = {name: sql or "" for name, sql in cursor.fetchall()}
        for name in sorted(wanted & schema.keys()):
            cursor.execute(f'PRAGMA table_info("{name}")')
            info = cursor.fetchall()
            keys = [row[1] for row in info if row[5]]
            if len(keys) != 1:
                continue
            found[name] = Table(
                name=name,
                pk=keys[0],
                columns=tuple(row[1] for row in info),
                autoincrement="AUTOINCREMENT" in schema[name].upper(),
            )
    return found


# ---------------------------------------------------------------- 1. reserve ids


def _sequences(cursor: Any) -> dict[str, int]:
    cursor.execute("SELECT name, seq FROM sqlite_sequence")
    return {str(name): int(seq or 0) for name, seq in cursor.fetchall()}


def _reserve(database: BaseDatabaseWrapper, tables: dict[str, Table], block: int) -> dict[str, int]:
    """Jump every AUTOINCREMENT counter ahead by ``block``; the start of each reserved block, by table."""
    starts: dict[str, int] = {}
    with transaction.atomic(using=database.alias), database.cursor() as cursor:
        sequences = _sequences(cursor)
        for table in tables.values():
            if not table.autoincrement:
                continue
            cursor.execute(f'SELECT MAX("{table.pk}") FROM "{table.name}"')
            top = cursor.fetchone()[0] or 0
            start = max(sequences.get(table.name, 0), int(top))
            starts[table.name] = start
            _set_sequence(cursor, table.name, start + block, exists=table.name in sequences)
    return starts


def _set_sequence(cursor: Any, name: str, value: int, *, exists: bool) -> None:
    if exists:
        cursor.execute("UPDATE sqlite_sequence SET seq = %s WHERE name = %s", [value, name])
    else:
        cursor.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)", [name, value])


def _give_back(database: BaseDatabaseWrapper, starts: dict[str, int], block: int) -> None:
    """Lower each counter to the highest id in use where nobody has taken an id after the reserved block."""
    with transaction.atomic(using=database.alias), database.cursor() as cursor:
        _trim(cursor, starts, block, schema="main")


def _trim(cursor: Any, starts: dict[str, int], block: int, *, schema: str) -> None:
    sequences = _sequences(cursor)
    for name, start in starts.items():
        if sequences.get(name) != start + block:
            continue  # someone created rows after the block: the rest of it stays unused
        cursor.execute(f'SELECT MAX(rowid) FROM {schema}."{name}"')
        top = cursor.fetchone()[0] or 0
        cursor.execute("UPDATE sqlite_sequence SET seq = %s WHERE name = %s", [max(int(top), start), name])


# ---------------------------------------------------------------- 2. record what changed


def _prepare_copy(copy: BaseDatabaseWrapper, tables: dict[str, Table], starts: dict[str, int]) -> None:
    """Start the copy's counters at the reserved blocks and note every row the import touches."""
    with copy.cursor() as cursor:
        sequences = _sequences(cursor)
        for name, start in starts.items():
            _set_sequence(cursor, name, start, exists=name in sequences)
        cursor.execute(
            f"CREATE TABLE {TOUCHED} (tbl TEXT NOT NULL, pk NOT NULL, old TEXT, inserted INTEGER NOT NULL, "
            "PRIMARY KEY (tbl, pk))"
        )
        for table in tables.values():
            name, pk = table.name, table.pk
            old = table.row_text("OLD")
            cursor.execute(
                f'CREATE TRIGGER "{STAGED}_i_{name}" AFTER INSERT ON "{name}" BEGIN '
                f"INSERT OR IGNORE INTO {TOUCHED} VALUES ('{name}', NEW.\"{pk}\", NULL, 1); END"
            )
            for event, prefix in (("UPDATE", "u"), ("DELETE", "d")):
                cursor.execute(
                    f'CREATE TRIGGER "{STAGED}_{prefix}_{name}" AFTER {event} ON "{name}" BEGIN '
                    f"INSERT OR IGNORE INTO {TOUCHED} VALUES ('{name}', OLD.\"{pk}\", {old}, 0); END"
                )


# ---------------------------------------------------------------- 3. switch


def _switch(
    database: BaseDatabaseWrapper, copy: Path, tables: dict[str, Table], starts: dict[str, int], block: int
) -> int:
    """Apply the copy's noted changes to the database in one transaction; how many rows were written."""
    written = 0
    database.ensure_connection()
    with database.cursor() as cursor:
        cursor.execute(f"ATTACH DATABASE %s AS {STAGED}", [str(copy)])
    try:
        with transaction.atomic(using=database.alias), database.cursor() as cursor:
            cursor.execute(f"SELECT DISTINCT tbl FROM {STAGED}.{TOUCHED}")
            for (name,) in cursor.fetchall():
                written += _apply(cursor, tables[name])
            _trim(cursor, starts, block, schema="main")
    except IntegrityError as exc:  # a unique value taken meanwhile, a row deleted under a new link
        raise SwitchConflict(str(exc)) from exc
    finally:
        with database.cursor() as cursor:
            cursor.execute(f"DETACH DATABASE {STAGED}")
    return written


def _apply(cursor: Any, table: Table) -> int:
    name, pk = table.name, f'"{table.pk}"'
    noted = f"SELECT pk FROM {STAGED}.{TOUCHED} WHERE tbl = %s"
    cursor.execute(
        f'SELECT COUNT(*) FROM {STAGED}.{TOUCHED} t LEFT JOIN main."{name}" m ON m.{pk} = t.pk '
        f"WHERE t.tbl = %s AND t.inserted = 0 AND (m.{pk} IS NULL OR ({table.row_text('m')}) IS NOT t.old)",
        [name],
    )
    if cursor.fetchone()[0]:
        raise SwitchConflict(f"{name}: changed since the copy was taken")
    cursor.execute(
        f'DELETE FROM main."{name}" WHERE {pk} IN ({noted} AND inserted = 0) '
        f'AND NOT EXISTS (SELECT 1 FROM {STAGED}."{name}" s WHERE s.{pk} = main."{name}".{pk})',
        [name],
    )
    written = max(cursor.rowcount, 0)
    others = [c for c in table.columns if c != table.pk]
    if others:
        targets = ", ".join(f'"{c}"' for c in others)
        sources = ", ".join(f's."{c}"' for c in others)
        cursor.execute(
            f'UPDATE main."{name}" SET ({targets}) = (SELECT {sources} FROM {STAGED}."{name}" s '
            f'WHERE s.{pk} = main."{name}".{pk}) WHERE {pk} IN ({noted} AND inserted = 0)',
            [name],
        )
        written += max(cursor.rowcount, 0)
    cursor.execute(
        f'INSERT INTO main."{name}" ({table.quoted()}) SELECT {table.quoted("s")} FROM {STAGED}."{name}" s '
        f"WHERE s.{pk} IN ({noted} AND inserted = 1)",
        [name],
    )
    return written + max(cursor.rowcount, 0)


# ---------------------------------------------------------------- the whole


def hold_after_commit(hooks: Hooks) -> None:
    """Move what the open transaction would run after commit into ``hooks``: it runs after the switch."""
    held = transaction.get_connection()
    hooks.extend(held.run_on_commit)
    held.run_on_commit = []


def _run_hooks(hooks: Hooks) -> None:
    for _savepoints, hook, robust in hooks:
        if robust:
            try:
                hook()
            except Exception:
                logger.exception("after-import hook failed")
        else:
            hook()


def staged_import(work: Callable[[Hooks | None], T], *, rows: int, failed: Callable[[T], bool]) -> T:
    """Run ``work`` (an import that commits unless ``failed`` of its result) without holding the write lock.

    ``work`` gets a list to put its after-commit hooks in (or None: run them as usual). Where no copy applies
    (PostgreSQL, a caller's open transaction) it simply runs.
    """
    if snapshot.sqlite_source() is None:
        return work(None)
    block = max(MIN_BLOCK, rows * IDS_PER_ROW)
    grow = False
    for attempt in range(1, ATTEMPTS + 1):
        source = snapshot.sqlite_source()
        if source is None:  # pragma: no cover - the database cannot stop being a SQLite file
            break
        if grow:  # the conflict may have been new rows beyond the block meeting someone else's: take more
            block *= 4
        grow = False
        database = connections[DEFAULT_DB_ALIAS]
        copy = snapshot.copy_database(source, kind="import")
        hooks: Hooks = []
        starts: dict[str, int] = {}
        switched = False
        try:
            tables = _tables(database)
            starts = _reserve(database, tables, block)
            with snapshot.using_copy(copy) as live:
                _prepare_copy(connections[DEFAULT_DB_ALIAS], tables, starts)
                with counters_on(live):
                    result = work(hooks)
            if failed(result):
                return result
            try:
                _switch(database, copy, tables, starts, block)
                switched = True
            except SwitchConflict as exc:
                logger.info("import switch, attempt %s: %s; running again on a fresh copy", attempt, exc)
                grow = True
                continue
        finally:
            if starts and not switched:
                try:
                    _give_back(connections[DEFAULT_DB_ALIAS], starts, block)
                except DatabaseError:
                    logger.warning("reserved ids not given back", exc_info=True)
            snapshot.remove_copy(copy)
        _run_hooks(hooks)
        return result
    logger.warning("import switch: %s conflicts in a row; importing on the database itself", ATTEMPTS)
    return work(None)
