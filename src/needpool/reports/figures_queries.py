"""The aggregate queries behind the dashboard figures (see ``reports.metrics`` for what each figure means).

Each function runs one query (a GROUP BY or a conditional aggregate) over the reader's scoped requirements and
returns plain Python; nothing here loops over requirements in Python. Durations are averaged in the database as
float seconds between two instants (``EpochSeconds``: ``julianday`` arithmetic on SQLite, ``EXTRACT(EPOCH …)`` on
PostgreSQL) — never as interval sums, which overflow at a million rows, nor through Django's per-row Python
timestamp functions on SQLite — and converted to hours or days here.

Queries with a period of their own (answers, evaluations, launches) or correlated to another row (a task's plan)
test the reader's scope with a correlated ``EXISTS`` on the requirement's primary key, so the database walks the
period's rows through their own index instead of every requirement of the scope.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from django.db import connection
from django.db.models import (
    Avg,
    CharField,
    Count,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Value,
)
from django.db.models.functions import Substr, TruncDate
from django.utils import timezone
from django.utils.translation import get_language

from needpool.accounts.models import User
from needpool.customers.permissions import customer_scope
from needpool.delivery.choices import TaskStatus
from needpool.delivery.models import Plan, Task
from needpool.evaluation.models import Evaluation
from needpool.loop.models import SurveyInvitation
from needpool.loop.selectors import nps_of
from needpool.reports.filters import ReportFilters
from needpool.requirements import sla as sla_rules
from needpool.requirements.choices import StatusCategory
from needpool.requirements.filters import overdue_q
from needpool.requirements.models import Feedback, Requirement, StatusChange, WorkflowStatus

LAUNCH_KEY = "launched"
# A fixed instant moves are measured from (sums of timestamps as sums of durations, on every database).
EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
CLOSE_KEY = "closed"


def localised(label: str, label_en: str) -> str:
    """An option's or a status's name in the reader's language (the English name when there is one)."""
    if label_en and (get_language() or "").startswith("en"):
        return label_en
    return label


def rate(part: int, whole: int) -> float | None:
    """``part / whole × 100`` to one decimal; None when there is nothing to divide by."""
    return round(part * 100 / whole, 1) if whole else None


def hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(float(seconds) / 3600, 1)


def days(seconds: float | None) -> float | None:
    return None if seconds is None else round(float(seconds) / 86400, 1)


class EpochSeconds(Func):
    """An instant as float seconds since 1970-01-01 UTC, computed by the database."""

    arity = 1
    output_field = FloatField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, template="((julianday(%(expressions)s) - 2440587.5) * 86400.0)")

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, template="EXTRACT(EPOCH FROM %(expressions)s)::double precision")


def span(later: Any, earlier: Any) -> ExpressionWrapper:
    """``later - earlier`` in float seconds."""
    return ExpressionWrapper(EpochSeconds(later) - EpochSeconds(earlier), output_field=FloatField())


# ----------------------------------------------------------------- the statuses (one small query)


@dataclass(frozen=True)
class StatusInfo:
    id: int
    workflow_key: str
    key: str
    label: str
    category: str
    order: int


@dataclass(frozen=True)
class Statuses:
    """Every status of every flow, and the ones that mean "launched" and "closed" for lead times."""

    all: list[StatusInfo]
    launch_ids: list[int]
    close_ids: list[int]

    def by_key(self) -> dict[str, StatusInfo]:
        """The first status with each key in flow order (the active flow's statuses come first)."""
        found: dict[str, StatusInfo] = {}
        for status in self.all:
            found.setdefault(status.key, status)
        return found


def statuses() -> Statuses:
    rows = list(
        WorkflowStatus.objects.order_by("-workflow__is_active", "workflow_id", "order", "id").values(
            "id", "workflow_id", "workflow__key", "key", "label", "label_en", "category", "order"
        )
    )
    infos = [
        StatusInfo(
            r["id"], r["workflow__key"], r["key"], localised(r["label"], r["label_en"]), r["category"], r["order"]
        )
        for r in rows
    ]
    flows: dict[int, list[Any]] = {}
    for r in rows:
        flows.setdefault(r["workflow_id"], []).append(r)
    launch: list[int] = []
    close: list[int] = []
    for flow_rows in flows.values():
        keyed = [r["id"] for r in flow_rows if r["key"] == LAUNCH_KEY]
        launch += keyed or [r["id"] for r in flow_rows if r["category"] == StatusCategory.DONE]
        close += [r["id"] for r in flow_rows if r["key"] == CLOSE_KEY]
    return Statuses(all=infos, launch_ids=launch, close_ids=close)


# ----------------------------------------------------------------- headline numbers


def sla_due_q(now: dt.datetime) -> Q:
    """Requirements whose first response is judged: a deadline that has passed, or an answer already given."""
    return Q(first_response_due__isnull=False) & (Q(first_responded_at__isnull=False) | Q(first_response_due__lt=now))


SLA_MET_Q = Q(
    first_response_due__isnull=False,
    first_responded_at__isnull=False,
    first_responded_at__lte=F("first_response_due"),
)
DONE_Q = Q(status__category=StatusCategory.DONE)


def lead_times(cohort: QuerySet[Requirement], *, status_info: Statuses) -> dict[str, Any]:
    """Average days from submission to the first move into a launch status and into a close status, over the
    requirements of the cohort that got there: one GROUP BY per requirement on the status moves, averaged around
    it."""
    ids = [*status_info.launch_ids, *status_info.close_ids]
    if not ids:
        return {"lead_launch_avg_days": None, "lead_close_avg_days": None}
    row = (
        StatusChange.objects.filter(requirement__in=cohort, target_id__in=ids)
        .order_by()
        .values("requirement_id")
        .annotate(
            launch=Min("at", filter=Q(target_id__in=status_info.launch_ids)),
            close=Min("at", filter=Q(target_id__in=status_info.close_ids)),
            submitted=Min("requirement__submitted_at"),
        )
        .aggregate(
            launch_avg=Avg(span(F("launch"), F("submitted"))),
            close_avg=Avg(span(F("close"), F("submitted"))),
        )
    )
    return {"lead_launch_avg_days": days(row["launch_avg"]), "lead_close_avg_days": days(row["close_avg"])}


def headline(cohort: QuerySet[Requirement], *, now: dt.datetime, status_info: Statuses) -> dict[str, Any]:
    """Totals and SLA of the requirements submitted in the period: one query."""
    row = cohort.order_by().aggregate(
        total=Count("id"),
        resolved=Count("id", filter=DONE_Q),
        sla_due=Count("id", filter=sla_due_q(now)),
        sla_met=Count("id", filter=SLA_MET_Q),
        sla_breached=Count("id", filter=sla_rules.breached_q(now)),
        responded=Count("id", filter=Q(first_responded_at__isnull=False)),
        first_response=Avg(span(F("first_responded_at"), F("submitted_at"))),
    )
    return {
        "total": row["total"],
        "resolved": row["resolved"],
        "fulfilment_rate": rate(row["resolved"], row["total"]),
        "sla_due": row["sla_due"],
        "sla_met": row["sla_met"],
        "sla_compliance": rate(row["sla_met"], row["sla_due"]),
        "sla_breach_count": row["sla_breached"],
        "first_response_count": row["responded"],
        "first_response_avg_hours": hours(row["first_response"]),
    }


def in_scope(sliced: QuerySet[Requirement]) -> Exists:
    """The row's requirement is one of ``sliced`` (a correlated EXISTS on the requirement's primary key)."""
    return Exists(sliced.order_by().filter(pk=OuterRef("requirement_id")))


def overdue_requirements(sliced: QuerySet[Requirement], *, today: dt.date) -> int:
    return sliced.filter(overdue_q(today)).order_by().count()


def overdue_tasks_q(sliced: QuerySet[Requirement], *, today: dt.date) -> QuerySet[Task]:
    """Tasks not done, past their due date, of a plan that delivers a requirement of the slice."""
    linked = Plan.requirements.through.objects.filter(plan_id=OuterRef("plan_id")).filter(in_scope(sliced))
    return Task.objects.exclude(status=TaskStatus.DONE).filter(due_date__lt=today).filter(Exists(linked))


def overdue_tasks(sliced: QuerySet[Requirement], *, today: dt.date) -> int:
    return overdue_tasks_q(sliced, today=today).order_by().count()


# ----------------------------------------------------------------- distributions (key, label, count)


Counted = list[tuple[str, str, int]]


def ranked(rows: Iterable[tuple[str, str, int]]) -> Counted:
    """Sorted by count, largest first, then by label."""
    return sorted(((k, lbl, n) for k, lbl, n in rows if n), key=lambda r: (-r[2], r[1], r[0]))


def by_option(cohort: QuerySet[Requirement], field: str, *, none_label: str) -> Counted:
    rows = (
        cohort.order_by()
        .values(f"{field}__key", f"{field}__label", f"{field}__label_en")
        .annotate(n=Count("id"))
        .values_list(f"{field}__key", f"{field}__label", f"{field}__label_en", "n")
    )
    return ranked((key or "", localised(lbl, en) if key else none_label, n) for key, lbl, en, n in rows)


def by_field(cohort: QuerySet[Requirement], field: str, labels: Mapping[str, Any], *, none_label: str) -> Counted:
    rows = cohort.order_by().values(field).annotate(n=Count("id")).values_list(field, "n")
    return ranked((key or "", str(labels.get(key, key)) if key else none_label, n) for key, n in rows)


def by_status(cohort: QuerySet[Requirement], status_info: Statuses) -> Counted:
    """Current status, by status key (the same key in two flows is one row, as the list's ``status=key``)."""
    rows = cohort.order_by().values("status__key").annotate(n=Count("id")).values_list("status__key", "n")
    names = status_info.by_key()
    return ranked((key, names[key].label if key in names else key, n) for key, n in rows)


def by_feedback(
    cohort: QuerySet[Requirement], field: str, labels: Mapping[str, Any] | None, *, none_label: str
) -> Counted:
    """Distinct requirements per value of a feedback field (channel, customer__segment, customer__industry):
    a requirement with feedback of two values counts once under each."""
    qs = Feedback.objects.filter(requirement__in=cohort)
    if field.startswith("customer__"):
        qs = qs.filter(customer__isnull=False)
    rows = qs.order_by().values(field).annotate(n=Count("requirement_id", distinct=True)).values_list(field, "n")
    return ranked(
        (key or "", (str(labels.get(key, key)) if labels is not None else key) if key else none_label, n)
        for key, n in rows
    )


def top_tags(cohort: QuerySet[Requirement], limit: int) -> Counted:
    through = Requirement.tags.through
    rows = (
        through.objects.filter(requirement__in=cohort)
        .values("classoption__key", "classoption__label", "classoption__label_en")
        .annotate(n=Count("requirement_id"))
        .order_by("-n", "classoption__label")  # type: ignore[misc]  # "n" is the annotation above
        .values_list("classoption__key", "classoption__label", "classoption__label_en", "n")[:limit]
    )
    return ranked((key, localised(lbl, en), n) for key, lbl, en, n in rows)


# ----------------------------------------------------------------- lists


def launched(
    sliced: QuerySet[Requirement], *, start: dt.datetime, end: dt.datetime, status_info: Statuses, limit: int
) -> tuple[list[tuple[int, str, str]], int]:
    """Requirements of the slice moved into a launch status in the period (first ``limit`` by time) and how many."""
    moves = (
        StatusChange.objects.filter(target_id__in=status_info.launch_ids, at__gte=start, at__lt=end)
        .filter(in_scope(sliced))
        .order_by()
    )
    rows = list(
        moves.values("requirement_id", "requirement__code", "requirement__title")
        .annotate(first=Min("at"), n=Count("id"))
        .order_by("first", "requirement_id")
        .values_list("requirement_id", "requirement__code", "requirement__title")[:limit]
    )
    count = len(rows) if len(rows) < limit else moves.values("requirement_id").distinct().count()
    return [(pk, code, title) for pk, code, title in rows], count


def sla_breaches(cohort: QuerySet[Requirement], *, now: dt.datetime, limit: int) -> list[tuple[int, str, str]]:
    rows = cohort.filter(sla_rules.breached_q(now)).order_by("submitted_at", "id").values_list("id", "code", "title")
    return [(pk, code, title) for pk, code, title in rows[:limit]]


# ----------------------------------------------------------------- satisfaction and business effect


def csat(sliced: QuerySet[Requirement], *, start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
    """CSAT (1–5) answered in the period about requirements of the slice."""
    row = (
        SurveyInvitation.objects.filter(
            kind=SurveyInvitation.Kind.CSAT,
            answered_at__gte=start,
            answered_at__lt=end,
            score__isnull=False,
        )
        .filter(in_scope(sliced))
        .aggregate(avg=Avg("score"), n=Count("id"))
    )
    return {"csat_avg": None if row["avg"] is None else round(float(row["avg"]), 2), "csat_count": row["n"]}


def nps(user: User, filters: ReportFilters, *, start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
    """NPS (0–10) answered in the period by customers the reader sees, in the segment / industry slice."""
    qs = SurveyInvitation.objects.filter(
        kind=SurveyInvitation.Kind.NPS,
        answered_at__gte=start,
        answered_at__lt=end,
        score__isnull=False,
        customer__deleted_at__isnull=True,  # a deleted customer's answers leave with it
    )
    scope = customer_scope(user, prefix="customer__")
    if scope is not None:
        qs = qs.filter(scope, customer__isnull=False)
    if filters.segment:
        qs = qs.filter(customer__segment=filters.segment)
    if filters.industry:
        qs = qs.filter(customer__industry=filters.industry)
    result = nps_of(qs)
    return {
        "nps": None if result.nps is None else round(result.nps, 1),
        "promoters": result.promoters,
        "passives": result.passives,
        "detractors": result.detractors,
        "nps_count": result.total,
    }


def effect(sliced: QuerySet[Requirement], *, start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
    """Effect evaluations completed in the period for requirements of the slice: each rate over the evaluations
    that answered that question."""
    evaluations = Evaluation.objects.filter(completed_at__gte=start, completed_at__lt=end).filter(in_scope(sliced))
    row = evaluations.aggregate(
        n=Count("id"),
        repurchased_yes=Count("id", filter=Q(repurchased=True)),
        repurchased_n=Count("repurchased"),
        renewed_yes=Count("id", filter=Q(renewed=True)),
        renewed_n=Count("renewed"),
        referred_yes=Count("id", filter=Q(referred=True)),
        referred_n=Count("referred"),
        complaint=Avg("complaint_drop_pct"),
        complaint_n=Count("complaint_drop_pct"),
        met_yes=Count("id", filter=Q(met=Evaluation.Met.YES)),
        met_partly=Count("id", filter=Q(met=Evaluation.Met.PARTLY)),
        met_n=Count("id", filter=~Q(met="")),
    )
    complaint = row["complaint"]
    return {
        "effect_count": row["n"],
        "repurchase_rate": rate(row["repurchased_yes"], row["repurchased_n"]),
        "repurchase_count": row["repurchased_n"],
        "renewal_rate": rate(row["renewed_yes"], row["renewed_n"]),
        "renewal_count": row["renewed_n"],
        "referral_rate": rate(row["referred_yes"], row["referred_n"]),
        "referral_count": row["referred_n"],
        "complaint_drop_avg_pct": None if complaint is None else round(float(complaint), 1),
        "complaint_drop_count": row["complaint_n"],
        "met_rate": rate(row["met_yes"], row["met_n"]),
        "met_partly": row["met_partly"],
        "met_count": row["met_n"],
    }


# ----------------------------------------------------------------- breakdowns, trends, funnel (dashboard)


def _group_aggregates(prefix: str, now: dt.datetime) -> dict[str, Any]:
    """Per-group totals over requirements reached through ``prefix`` ("" from requirements, "requirement__" from
    feedback rows)."""

    def q(condition: Q) -> Q:
        if not prefix:
            return condition
        return _prefixed(condition, prefix)

    ident = f"{prefix}id" if prefix else "id"
    return {
        "total": Count(ident),
        "resolved": Count(ident, filter=q(DONE_Q)),
        "sla_due": Count(ident, filter=q(sla_due_q(now))),
        "sla_met": Count(ident, filter=q(SLA_MET_Q)),
        "first_response": Avg(span(F(f"{prefix}first_responded_at"), F(f"{prefix}submitted_at"))),
    }


def _prefixed(condition: Q, prefix: str) -> Q:
    """The same condition on a related requirement (``status__category`` → ``requirement__status__category``)."""
    children: list[Any] = []
    for child in cast(list[Any], condition.children):
        if isinstance(child, Q):
            children.append(_prefixed(child, prefix))
        else:
            name, value = child
            if isinstance(value, F):
                value = F(prefix + str(getattr(value, "name")))  # noqa: B009
            children.append((prefix + name, value))
    out = Q(*children, _connector=condition.connector, _negated=condition.negated)
    return out


def breakdown_row(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "total": row["total"],
        "resolved": row["resolved"],
        "fulfilment_rate": rate(row["resolved"], row["total"]),
        "sla_due": row["sla_due"],
        "sla_met": row["sla_met"],
        "sla_compliance": rate(row["sla_met"], row["sla_due"]),
        "first_response_avg_hours": hours(row["first_response"]),
    }


def by_requirement_field(
    cohort: QuerySet[Requirement], sliced: QuerySet[Requirement], fields: list[str], *, now: dt.datetime
) -> tuple[list[dict[str, Any]], dict[Any, int]]:
    """Per-group figures of the cohort grouped by ``fields`` (the first is the group key), and overdue per key."""
    rows = list(cohort.order_by().values(*fields).annotate(**_group_aggregates("", now)))
    overdue = dict(
        sliced.filter(overdue_q(timezone.localdate(now)))
        .order_by()
        .values(fields[0])
        .annotate(n=Count("id"))
        .values_list(fields[0], "n")
    )
    return rows, overdue


def by_customer_field(
    cohort: QuerySet[Requirement], sliced: QuerySet[Requirement], field: str, *, now: dt.datetime
) -> tuple[list[dict[str, Any]], dict[Any, int]]:
    """Per-group figures by a customer field (segment, industry) of the requirement's feedback: each requirement
    once per value (the earliest feedback row of each requirement and value stands for it)."""
    earlier = Feedback.objects.filter(
        requirement_id=OuterRef("requirement_id"),
        customer__isnull=False,
        pk__lt=OuterRef("pk"),
        **{f"customer__{field}": OuterRef(f"customer__{field}")},
    )
    rows = list(
        Feedback.objects.filter(requirement__in=cohort, customer__isnull=False)
        .filter(~Exists(earlier))
        .order_by()
        .values(f"customer__{field}")
        .annotate(**_group_aggregates("requirement__", now))
    )
    overdue = dict(
        Feedback.objects.filter(
            requirement__in=sliced.filter(overdue_q(timezone.localdate(now))), customer__isnull=False
        )
        .order_by()
        .values(f"customer__{field}")
        .annotate(n=Count("requirement_id", distinct=True))
        .values_list(f"customer__{field}", "n")
    )
    return rows, overdue


def per_day(cohort: QuerySet[Requirement]) -> dict[dt.date, tuple[int, int]]:
    """Submitted and (now) resolved requirements per local submission day.

    On SQLite, ``TruncDate`` with a time zone is a Python function called per row; there the rows are grouped by
    their stored UTC hour (the text's first 13 characters, at most 24 groups a day) and the hours folded into
    local days here — exact whenever the site's zone is a whole number of hours from UTC (else ``TruncDate``).
    """
    tz = timezone.get_current_timezone()
    if connection.vendor == "sqlite" and _whole_hours(tz):
        out: dict[dt.date, tuple[int, int]] = {}
        hourly = (
            cohort.order_by()
            .annotate(hour=Substr("submitted_at", 1, 13, output_field=CharField()))
            .values("hour")
            .annotate(total=Count("id"), resolved=Count("id", filter=DONE_Q))
            .values_list("hour", "total", "resolved")
        )
        for hour, total, resolved in hourly:
            day = dt.datetime.strptime(hour, "%Y-%m-%d %H").replace(tzinfo=dt.UTC).astimezone(tz).date()
            before = out.get(day, (0, 0))
            out[day] = (before[0] + total, before[1] + resolved)
        return out
    rows = (
        cohort.order_by()
        .annotate(day=TruncDate("submitted_at", tzinfo=tz))
        .values("day")
        .annotate(total=Count("id"), resolved=Count("id", filter=DONE_Q))
        .values_list("day", "total", "resolved")
    )
    return {day: (total, resolved) for day, total, resolved in rows}


def _whole_hours(tz: dt.tzinfo) -> bool:
    """Whether the zone sits a whole number of hours from UTC (in winter and in summer)."""
    year = timezone.now().year
    probes = (dt.datetime(year, 1, 15, 12, tzinfo=dt.UTC), dt.datetime(year, 7, 15, 12, tzinfo=dt.UTC))
    return all(
        (p.astimezone(tz).utcoffset() or dt.timedelta(0)) % dt.timedelta(hours=1) == dt.timedelta(0) for p in probes
    )


def time_in_status(
    cohort: QuerySet[Requirement], *, now: dt.datetime, current: dict[str, int]
) -> dict[str, tuple[int, float | None]]:
    """Per status key: how many requirements of the cohort ever entered it, and the average days a stay lasted
    (from the move into it to the move out of it, or to ``now`` for the ``current`` count still there).

    A requirement's time in a status is the sum of its moves out minus the sum of its moves in (plus now while it
    is still there), so two GROUP BYs over the moves give every status's total without pairing the moves. Each
    move names the status it left (``source``), as the transition service records it.
    """
    moves = StatusChange.objects.filter(requirement__in=cohort).order_by()
    since = Value(EPOCH, output_field=DateTimeField())
    # Averages times counts, not sums: a sum of a million timestamps overflows SQLite's integers. Seconds from a
    # fixed instant as floats: an interval sum overflows PostgreSQL at a million rows.
    entries = {
        key: (entered, stays, (into or 0.0) * stays)
        for key, entered, stays, into in moves.values("target__key")
        .annotate(entered=Count("requirement_id", distinct=True), stays=Count("id"), into=Avg(span(F("at"), since)))
        .values_list("target__key", "entered", "stays", "into")
    }
    exits = {
        key: (left or 0.0) * n
        for key, n, left in moves.filter(source__isnull=False)
        .values("source__key")
        .annotate(n=Count("id"), left=Avg(span(F("at"), since)))
        .values_list("source__key", "n", "left")
    }
    now_seconds = (now - EPOCH).total_seconds()
    out: dict[str, tuple[int, float | None]] = {}
    for key, (entered, stays, into) in entries.items():
        still = current.get(key, 0)
        spent = exits.get(key, 0.0) + still * now_seconds - into
        out[key] = (entered, days(spent / stays) if stays else None)
    return out
