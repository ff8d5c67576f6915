"""The preview of an import runs on a private copy of a SQLite database, so it never holds the write lock.

The preview is the real import in a transaction that is rolled back. On SQLite a writing transaction holds
the whole database's write lock, so a preview of a big sheet (minutes) made every other write wait, then fail
with "database is locked". A copy taken with SQLite's online backup (a read: writers carry on meanwhile, WAL)
gives the preview the same data to check against, and its writes land in the copy, deleted afterwards.

Only on a SQLite file, outside any open transaction of the caller (tests run inside one: they see what the
test wrote only on the same connection, so they keep the old way). PostgreSQL previews stay as they were.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections


def _sqlite_file() -> str | None:
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        return None
    name = str(connection.settings_dict.get("NAME") or "")
    if not name or name.startswith("file:") or ":memory:" in name or "mode=memory" in name:
        return None
    return name if Path(name).exists() else None


@contextmanager
def private_database() -> Iterator[bool]:
    """Within the block, this thread's default connection is a fresh copy of the SQLite database (yields True),
    or the database itself where no copy applies (yields False)."""
    source = _sqlite_file()
    if source is None:
        yield False
        return
    folder = Path(settings.DATA_DIR) / "jobs"
    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / f"preview-{uuid.uuid4().hex}.sqlite3"
    original = connections[DEFAULT_DB_ALIAS]
    with sqlite3.connect(source, timeout=30) as reader, sqlite3.connect(copy) as writer:
        reader.backup(writer)
    reader.close()
    writer.close()
    private = type(original)({**original.settings_dict, "NAME": str(copy)}, DEFAULT_DB_ALIAS)
    connections[DEFAULT_DB_ALIAS] = private
    try:
        yield True
    finally:
        private.close()
        connections[DEFAULT_DB_ALIAS] = original
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{copy}{suffix}").unlink(missing_ok=True)
