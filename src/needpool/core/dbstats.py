"""Planner statistics kept fresh by the product itself, so a freshly loaded or imported pool is not slow.

Without statistics SQLite's planner guesses: on a 100,000-requirement pool the list page cost 400 ms of CPU
until ``ANALYZE`` had run, 51 ms after. ``planner_statistics_refresh`` runs after bulk writes (the demo's
volume load, an import) and every hour (``core.tasks.planner_statistics``), and when a process starts on a
database that has never been analysed (``core.warmup``).

- SQLite: ``ANALYZE`` with ``PRAGMA analysis_limit`` (each index is sampled, not read whole: well under a
  second at a million rows) followed by ``PRAGMA optimize``.
- PostgreSQL: autovacuum analyses a table after 10 % of its rows changed (``autovacuum_analyze_scale_factor``;
  docs/operations.md says how to tune it); after a bulk write the product runs ``ANALYZE`` at once rather than
  wait for it.
"""

from __future__ import annotations

import logging
import time

from django.db import DatabaseError, connections

log = logging.getLogger("needpool.core.dbstats")

#: Rows sampled per index by SQLite's ANALYZE (``PRAGMA analysis_limit``); SQLite suggests 100–1000.
SQLITE_ANALYSIS_LIMIT = 1000


def planner_statistics_missing(*, using: str = "default") -> bool:
    """True when the database has never been analysed (SQLite: no ``sqlite_stat1`` rows)."""
    connection = connections[using]
    if connection.vendor != "sqlite":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'")
        if cursor.fetchone() is None:
            return True
        cursor.execute("SELECT 1 FROM sqlite_stat1 LIMIT 1")
        return cursor.fetchone() is None


def planner_statistics_refresh(*, using: str = "default") -> float:
    """Refresh the planner's statistics of the whole database; returns the seconds it took (-1 on failure).

    Best-effort: a failure (the database busy beyond its timeout) is logged and the next run tries again.
    """
    connection = connections[using]
    started = time.monotonic()
    try:
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute(f"PRAGMA analysis_limit={SQLITE_ANALYSIS_LIMIT}")
                cursor.execute("ANALYZE")
                cursor.execute("PRAGMA optimize")
            elif connection.vendor == "postgresql":
                cursor.execute("ANALYZE")
            else:  # pragma: no cover - the product runs on SQLite and PostgreSQL only
                return 0.0
    except DatabaseError as exc:
        log.warning("planner statistics not refreshed: %s", exc)
        return -1.0
    seconds = time.monotonic() - started
    log.info("planner statistics refreshed in %.2f s", seconds)
    return seconds
