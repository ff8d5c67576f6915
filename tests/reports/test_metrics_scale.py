"""Durations stay right where a million status moves would overflow them: the average stay in a status is float
seconds from the database, not an interval sum (PostgreSQL's "interval out of range") nor a timedelta multiplied by
a count (Python's OverflowError). Moves dated seven thousand years after the reference instant stand in for a
million moves of today: the sums are as large, the table stays small."""

from __future__ import annotations

import datetime as dt
from typing import Any

from needpool.reports import figures_queries as q
from needpool.requirements.models import Requirement, StatusChange, WorkflowStatus

MOVES = 2_000  # × 7,000 years: beyond a 32-bit sum of days and timedelta's range


def test_time_in_status_over_many_moves(requirement: Requirement) -> None:
    flow = requirement.status.workflow
    new = WorkflowStatus.objects.get(workflow=flow, key="new")
    doing = WorkflowStatus.objects.get(workflow=flow, key="in_progress")
    start = dt.datetime(9000, 1, 1, tzinfo=dt.UTC)
    now = start + dt.timedelta(days=10)
    # Alternate new → in_progress → new … one second apart: every stay in 处理中 lasts one second.
    rows = []
    for i in range(MOVES):
        into, out = (doing, new) if i % 2 == 0 else (new, doing)
        rows.append(StatusChange(requirement=requirement, source=out, target=into))
    made = StatusChange.objects.bulk_create(rows, batch_size=1000)
    for i, move in enumerate(made):  # ``at`` is stamped on insert; the moves' own times go in after
        move.at = start + dt.timedelta(seconds=i)
    StatusChange.objects.bulk_update(made, ["at"], batch_size=500)
    assert StatusChange.objects.filter(at__year=9000).count() == MOVES
    cohort = Requirement.objects.filter(pk=requirement.pk)
    result: dict[str, Any] = q.time_in_status(cohort, now=now, current={"new": 1})
    entered, days = result["in_progress"]
    assert entered == 1
    assert days == 0.0  # one second, to the day's tenth
    assert result["new"][1] is not None
