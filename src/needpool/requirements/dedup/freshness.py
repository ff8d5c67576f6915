"""Keeping every process's index fresh: one random token under one key of the shared cache.

Services that change indexed text call ``index_changed_on_commit()``; every lookup compares the token
with the one its process saw last (``DedupIndex.ensure_fresh``).
"""

from __future__ import annotations

import uuid

from django.core.cache import cache
from django.db import transaction

VERSION_KEY = "needpool:dedup:version"


def index_changed() -> None:
    """Tell every process that indexed text changed: call after commit (``transaction.on_commit``)."""
    cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None)


def index_changed_on_commit() -> None:
    """``index_changed`` after the current transaction commits, once however many rows it writes
    (an import of 100,000 rows through the services schedules one cache write, not 100,000)."""
    connection = transaction.get_connection()
    if connection.in_atomic_block and any(entry[1] is index_changed for entry in connection.run_on_commit):
        return
    transaction.on_commit(index_changed)
