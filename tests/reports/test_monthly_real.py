"""The monthly review over real requirements (metrics.summary unmocked): the month's cohort, its structure
sentences and its change against the month before, and a change made after the month showing in the numbers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.utils import timezone

from needpool.reports import monthly
from needpool.reports.document import Table, Text
from needpool.requirements.models import ClassOption, Requirement
from tests.conftest import option


def at(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(10, 0)))


def test_the_review_counts_the_months_requirements(
    users: dict[str, Any], make_requirements: Callable[..., list[Requirement]]
) -> None:
    function = option("type", "function")
    experience = option("type", "experience")
    for day in (3, 10, 17):
        make_requirements(1, prefix="十一月", submitted_at=at(dt.date(2026, 11, day)), type=function)
    make_requirements(1, prefix="十一月", submitted_at=at(dt.date(2026, 11, 28)), type=experience)
    make_requirements(2, prefix="十月", submitted_at=at(dt.date(2026, 10, 15)), type=experience)
    make_requirements(1, prefix="十二月", submitted_at=at(dt.date(2026, 12, 1)), type=experience)

    now = at(dt.date(2026, 12, 6))
    report = monthly.build(dt.date(2026, 11, 1), users["manager"], now)
    total = report.figure("total")
    assert total is not None and total.value == 4 and total.note == "较上月 +2（+100.0%）"
    structure = report.block("structure")
    assert isinstance(structure, Text)
    assert f"本月 75% 的需求为{function.label}（3/4）" in structure.items
    assert f"本月 25% 的需求为{experience.label}（1/4）" in structure.items
    movers = report.block("movers")
    assert isinstance(movers, Table)
    rows = {(r[0], r[1]): r[2:] for r in movers.rows}
    assert rows[("类型", str(function.label))] == [3, 0, "+3"]
    assert rows[("类型", str(experience.label))] == [1, 2, "-1"]

    # A requirement retyped after the month shows in the review the next time it is opened.
    moved = Requirement.objects.filter(title__startswith="十一月").order_by("submitted_at").first()
    assert moved is not None
    Requirement.objects.filter(pk=moved.pk).update(type=ClassOption.objects.get(pk=experience.pk))
    again = monthly.build(dt.date(2026, 11, 1), users["manager"], now)
    items = again.block("structure").items  # type: ignore[union-attr]
    assert (
        f"本月 50% 的需求为{function.label}（2/4）" in items and f"本月 50% 的需求为{experience.label}（2/4）" in items
    )


def test_the_review_page_queries_do_not_grow_with_the_month(
    users: dict[str, Any], pool: dict[str, Any], make_requirements: Callable[..., list[Requirement]]
) -> None:
    from tests.conftest import count_queries
    from tests.reports.test_monthly_pages import client_for

    client = client_for(users["manager"])
    url = f"/reports/monthly/{monthly.month_key(timezone.localdate())}/"
    before = count_queries(client, url)
    make_requirements(12)  # submitted now: this month
    assert count_queries(client, url) == before <= 45
