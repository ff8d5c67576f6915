"""Changes to the report queries measured by ``bench_reports.py --proposals`` before they are made in the product.

Each is applied to ``needpool.reports.figures_queries`` for the duration of a ``with proposed():`` block only (the
module's globals are swapped and restored), so one run measures the figures as they are and as proposed, on the
same data, and checks both give the same numbers.

1. ``span`` — durations averaged in the database. Django computes ``later - earlier`` of two DateTimeFields on
   SQLite with a Python function called per row (``django_timestamp_diff``), which dominates an average over a
   year of requirements; ``Seconds`` is the same difference in SQL, ``julianday`` arithmetic on SQLite,
   stored as whole microseconds (as Django stores a DurationField on SQLite, so it still reads back as a
   timedelta); PostgreSQL keeps its native interval arithmetic.
2. ``per_day`` — the trend's local day. ``TruncDate(…, tzinfo=…)`` is another per-row Python function on SQLite
   (``django_datetime_cast_date``). The proposal groups by the stored UTC hour on SQLite (text prefix of the
   column, ≤ 24 groups per day) and folds hours into local days in Python — exact for any time zone whose
   offset is whole hours; PostgreSQL keeps ``TruncDate``.
3. The reader's scope in queries that have a period of their own (CSAT answers, evaluations completed, launches)
   or are correlated (the overdue tasks' plan link): ``requirement__in=sliced`` becomes
   ``Exists(sliced.filter(pk=OuterRef("requirement_id")))``. With ``IN`` the database walks every requirement of
   the scope (all of them for an admin: the scope has no period) and probes each one's answers; with a
   correlated ``EXISTS`` it walks the period's rows through their own index (``loop_invitation_answered_idx``,
   ``evaluation_completed_idx``, ``statuschange_target_at_idx``) and looks each requirement up by primary key.
   Queries over the cohort (a period of requirements) keep ``IN``: there the requirements are the small side.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

from django.db.models import CharField, Count, DurationField, Exists, Func, OuterRef
from django.db.models.functions import Substr
from django.utils import timezone


class Seconds(Func):
    """``later - earlier`` as a duration computed by the database itself: on SQLite whole microseconds from
    ``julianday`` arithmetic (how Django stores a DurationField there, so the result reads back as a timedelta),
    on PostgreSQL the native interval."""

    output_field = DurationField()
    arity = 2

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        later, earlier = (compiler.compile(e) for e in self.source_expressions)
        sql = f"CAST(ROUND((julianday({later[0]}) - julianday({earlier[0]})) * 86400000000.0) AS INTEGER)"
        return sql, [*later[1], *earlier[1]]

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        later, earlier = (compiler.compile(e) for e in self.source_expressions)
        return f"({later[0]} - {earlier[0]})", [*later[1], *earlier[1]]


def span(later: Any, earlier: Any) -> Any:
    from django.db import connection

    if connection.vendor == "sqlite":
        return Seconds(later, earlier)
    return ORIGINAL["span"](later, earlier)


def per_day(cohort: Any) -> dict[dt.date, tuple[int, int]]:
    from django.db import connection

    from needpool.reports import figures_queries as q

    if connection.vendor != "sqlite":
        return ORIGINAL["per_day"](cohort)  # type: ignore[no-any-return]
    rows = (
        cohort.order_by()
        .annotate(hour=Substr("submitted_at", 1, 13, output_field=CharField()))
        .values("hour")
        .annotate(total=Count("id"), resolved=Count("id", filter=q.DONE_Q))
        .values_list("hour", "total", "resolved")
    )
    tz = timezone.get_current_timezone()
    out: dict[dt.date, tuple[int, int]] = {}
    for hour, total, resolved in rows:
        utc = dt.datetime.strptime(hour, "%Y-%m-%d %H").replace(tzinfo=dt.UTC)
        day = utc.astimezone(tz).date()
        before = out.get(day, (0, 0))
        out[day] = (before[0] + total, before[1] + resolved)
    return out


PERIOD_KEYS = ("at__gte", "answered_at__gte", "completed_at__gte", "plan_id")


class _ScopedManager:
    """``Model.objects`` whose ``filter(requirement__in=scope, …)`` tests the scope with a correlated EXISTS when
    the same filter has a period of its own (or is correlated); anything else is passed through."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def filter(self, *args: Any, **kwargs: Any) -> Any:
        scope = kwargs.get("requirement__in")
        if scope is None or not any(k in kwargs for k in PERIOD_KEYS):
            return self.model._default_manager.filter(*args, **kwargs)
        del kwargs["requirement__in"]
        return self.model._default_manager.filter(*args, **kwargs).filter(
            Exists(scope.filter(pk=OuterRef("requirement_id")))
        )

    def __getattr__(self, name: str) -> Any:
        return getattr(self.model._default_manager, name)


class _ScopedModel:
    def __init__(self, model: Any) -> None:
        self._model = model
        self.objects = _ScopedManager(model)
        if hasattr(model, "requirements") and hasattr(model.requirements, "through"):
            self.requirements = SimpleNamespace(through=_ScopedModel(model.requirements.through))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)


def _scoped_models() -> dict[str, Any]:
    from needpool.delivery.models import Plan
    from needpool.evaluation.models import Evaluation
    from needpool.loop.models import SurveyInvitation
    from needpool.requirements.models import StatusChange

    return {
        name: _ScopedModel(m)
        for name, m in (
            ("Plan", Plan),
            ("Evaluation", Evaluation),
            ("SurveyInvitation", SurveyInvitation),
            ("StatusChange", StatusChange),
        )
    }


ORIGINAL: dict[str, Any] = {}
PROPOSED: dict[str, Any] = {"span": span, "per_day": per_day}


@contextmanager
def proposed() -> Iterator[None]:
    from needpool.reports import figures_queries as q

    changes = {**PROPOSED, **_scoped_models()}
    for name, value in changes.items():
        ORIGINAL.setdefault(name, getattr(q, name))
        setattr(q, name, value)
    try:
        yield
    finally:
        for name in changes:
            setattr(q, name, ORIGINAL[name])
