"""Changes to the report queries measured by ``bench_reports.py --proposals`` before they are made in the product.

A proposal is applied to ``needpool.reports.figures_queries`` for the duration of a ``with proposed():`` block
only (the module's globals are swapped and restored), so one run measures the figures as they are and as
proposed, on the same data, and checks both give the same numbers.

The three changes first measured here are now the product's own (``figures_queries``): durations as float seconds
computed by the database (``EpochSeconds``: ``julianday`` on SQLite instead of a Python function per row, and no
interval sum to overflow on PostgreSQL), the SQLite trend grouped by the stored UTC hour and folded into local days,
and the reader's scope as a correlated ``EXISTS`` in queries with a period of their own (answers, evaluations,
launches) or correlated to another row (a task's plan). No proposal is pending: ``PROPOSED`` is empty, and
``--proposals`` rows then equal the product's.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

ORIGINAL: dict[str, Any] = {}
PROPOSED: dict[str, Any] = {}


@contextmanager
def proposed() -> Iterator[None]:
    from needpool.reports import figures_queries as q

    for name, value in PROPOSED.items():
        ORIGINAL.setdefault(name, getattr(q, name))
        setattr(q, name, value)
    try:
        yield
    finally:
        for name in PROPOSED:
            setattr(q, name, ORIGINAL[name])
