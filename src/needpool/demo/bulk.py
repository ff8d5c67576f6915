"""Building blocks of the volume generator: the workflow plan, code blocks, raw inserts, historical timestamps."""

from __future__ import annotations

import datetime as dt
import random
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, models

from needpool.customers.models import Customer
from needpool.requirements.choices import StatusCategory
from needpool.requirements.models import ClassOption, Requirement, Workflow, WorkflowStatus, WorkflowTransition


@dataclass
class PoolCustomer:
    pk: int
    tier: str
    contacts: list[int] = field(default_factory=list)


@dataclass
class Evidence:
    """What a generated requirement's child rows need: the customer's words, customers, tags, moves."""

    voice: str
    customers: list[tuple[PoolCustomer, dt.datetime]]
    tags: list[ClassOption]
    history: list[tuple[WorkflowStatus, dt.datetime]]


@contextmanager
def explicit_timestamps(*model_classes: type[models.Model]) -> Iterator[None]:
    """Let bulk rows carry historical created/updated times (auto_now fields would overwrite them).

    It switches the fields' flags off process-wide for the duration: meant for the demo command
    and the bench, not for a serving process.
    """
    saved: list[tuple[Any, bool, bool]] = []
    for model in model_classes:
        for f in model._meta.concrete_fields:
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                date_field: Any = f
                saved.append((date_field, date_field.auto_now, date_field.auto_now_add))
                date_field.auto_now = date_field.auto_now_add = False
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in saved:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


def insert_many(model: type[models.Model], names: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """Insert plain value tuples into ``model``'s table: the append-only history and link rows.

    These are most of the rows (several per requirement) and carry no logic; building a model
    instance for each and letting ``bulk_create`` prepare every value costs more than the insert
    itself. Each value goes through its field's own ``get_db_prep_save``, so what is stored is
    what ``bulk_create`` would store.
    """
    if not rows:
        return
    fields: list[Any] = [model._meta.get_field(name) for name in names]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    prepare = [f.get_db_prep_save if f.get_internal_type() in ("DateTimeField", "JSONField") else None for f in fields]
    params = [
        [p(v, connection) if p is not None and v is not None else v for p, v in zip(prepare, row, strict=True)]
        for row in rows
    ]
    sql = f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({columns}) VALUES ({placeholders})"
    with connection.cursor() as cursor:
        for start in range(0, len(params), 2000):
            cursor.executemany(sql, params[start : start + 2000])


def taken_requirement_codes(codes: list[str]) -> set[str]:
    return set(Requirement.objects.filter(code__in=codes).values_list("code", flat=True))


def taken_customer_codes(codes: list[str]) -> set[str]:
    return set(Customer.objects.filter(code__in=codes).values_list("code", flat=True))


def weighted(rng: random.Random, pairs: Sequence[tuple[Any, float]]) -> Any:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs], k=1)[0]


@dataclass
class GenerateResult:
    customers: int = 0
    contacts: int = 0
    requirements: int = 0
    feedback: int = 0
    seconds: float = 0.0
    customer_codes: tuple[str, str] | None = None
    requirement_codes: list[str] = field(default_factory=list)


@dataclass
class StatusPlan:
    """Where generated requirements stand: each reachable status's path from the initial one, and weights."""

    initial: WorkflowStatus
    paths: dict[int, list[WorkflowStatus]]
    weights: list[tuple[int, float]]
    young_weights: list[tuple[int, float]]


def plan_statuses(workflow: Workflow) -> StatusPlan:
    """Each reachable status with a weight and an allowed path to it from the initial status."""
    statuses = {s.pk: s for s in WorkflowStatus.objects.filter(workflow=workflow)}
    initial = next((s for s in statuses.values() if s.is_initial), None)
    if initial is None:
        raise ValueError(f"workflow {workflow.key} has no initial status")
    edges: dict[int, list[int]] = {}
    for source_id, target_id in WorkflowTransition.objects.filter(workflow=workflow).values_list(
        "source_id", "target_id"
    ):
        edges.setdefault(source_id, []).append(target_id)
    paths: dict[int, list[WorkflowStatus]] = {initial.pk: [initial]}
    queue = deque([initial.pk])
    while queue:
        current = queue.popleft()
        for target in sorted(edges.get(current, []), key=lambda pk: statuses[pk].order):
            if target not in paths:
                paths[target] = [*paths[current], statuses[target]]
                queue.append(target)
    share: dict[str, float] = {
        StatusCategory.NEW: 0.30,
        StatusCategory.ACTIVE: 0.30,
        StatusCategory.DONE: 0.30,
        StatusCategory.DEFERRED: 0.05,
        StatusCategory.REJECTED: 0.05,
    }
    per_category: dict[str, int] = {}
    for pk in paths:
        per_category[statuses[pk].category] = per_category.get(statuses[pk].category, 0) + 1
    return StatusPlan(
        initial=initial,
        paths=paths,
        weights=[(pk, share.get(statuses[pk].category, 0.05) / per_category[statuses[pk].category]) for pk in paths],
        young_weights=[(pk, 0.8 if pk == initial.pk else 0.2 / max(1, len(paths) - 1)) for pk in paths],
    )
