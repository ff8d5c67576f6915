"""Imports on SQLite work on a private copy of the database, so they never hold the write lock for long.

On SQLite a writing transaction holds the whole database's write lock, so a preview or an import of a big
sheet (minutes) made every other write wait, then fail with "database is locked". A copy taken with SQLite's
online backup (a read: writers carry on meanwhile, WAL) gives the work the same data to check against, and its
writes land in the copy. A preview throws the copy away; an import then switches what it wrote into the
database in one short transaction (``staging``).

Only on a SQLite file, outside any open transaction of the caller (tests run inside one: they see what the
test wrote only on the same connection, so they keep the old way). PostgreSQL keeps its own way: its writers
do not block each other's tables.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper


def _sqlite_file() -> str | None:
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        return None
    name = str(connection.settings_dict.get("NAME") or "")
    if not name or name.startswith("file:") or ":memory:" in name or "mode=memory" in name:
        return None
    return name if Path(name).exists() else None


def sqlite_source() -> str | None:
    """The SQLite file an import may copy, or None where the copy does not apply (PostgreSQL, tests' memory)."""
    return _sqlite_file()


def copy_database(source: str, *, kind: str = "preview") -> Path:
    """A consistent copy of ``source`` (online backup: a reader, nobody waits) in the data directory."""
    folder = Path(settings.DATA_DIR) / "jobs"
    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / f"{kind}-{uuid.uuid4().hex}.sqlite3"
    with sqlite3.connect(source, timeout=30) as reader, sqlite3.connect(copy) as writer:
        reader.backup(writer)
    reader.close()
    writer.close()
    return copy


def remove_copy(copy: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{copy}{suffix}").unlink(missing_ok=True)


@contextmanager
def using_copy(copy: Path) -> Iterator[BaseDatabaseWrapper]:
    """Within the block, this thread's default connection is ``copy``; yields the connection it replaces."""
    original = connections[DEFAULT_DB_ALIAS]
    private = type(original)({**original.settings_dict, "NAME": str(copy)}, DEFAULT_DB_ALIAS)
    connections[DEFAULT_DB_ALIAS] = private
    try:
        yield original
    finally:
        private.close()
        connections[DEFAULT_DB_ALIAS] = original


@contextmanager
def private_database() -> Iterator[bool]:
    """Within the block, this thread's default connection is a fresh copy of the SQLite database (yields True),
    or the database itself where no copy applies (yields False). The copy is deleted afterwards."""
    source = _sqlite_file()
    if source is None:
        yield False
        return
    copy = copy_database(source)
    try:
        with using_copy(copy):
            yield True
    finally:
        remove_copy(copy)
