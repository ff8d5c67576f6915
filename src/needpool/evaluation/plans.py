"""The acceptance criterion of a requirement's plan (delivery), read through the app registry.

Delivery's plan model is optional to this app: when no plan (or no plan model) exists, the metric and
target are entered on the evaluation itself. Only documented attributes are read, each with a default.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.apps import apps


@dataclass(frozen=True)
class Criterion:
    """A plan's acceptance criterion: the metric and its target as one line each (``≥ 30 %``)."""

    plan_title: str
    metric: str
    target: str


def _plan_model() -> Any:
    try:
        return apps.get_model("delivery", "Plan")
    except LookupError:
        return None


def _target_text(plan: Any) -> str:
    value = getattr(plan, "target_value", None)
    if value is None:
        return ""
    try:
        number = f"{value.normalize():f}"
    except AttributeError:
        number = str(value)
    comparator = plan.get_comparator_display() if hasattr(plan, "get_comparator_display") else ""
    unit = getattr(plan, "unit", "") or ""
    return " ".join(part for part in (str(comparator), number + (f" {unit}" if unit else "")) if part)


def plan_criterion(requirement_id: int) -> Criterion | None:
    """The newest plan of the requirement that names a metric, or None (no plan, or no plan model)."""
    model = _plan_model()
    if model is None:
        return None
    try:
        field = next(
            f
            for f in model._meta.get_fields()
            if getattr(f, "related_model", None) is not None
            and f.related_model._meta.label == "requirements.Requirement"
        )
        plans = model._default_manager.filter(**{field.name: requirement_id}).order_by("-id")
        for plan in plans[:5]:
            metric = str(getattr(plan, "metric_name", "") or getattr(plan, "metric", "") or "")
            if metric:
                return Criterion(plan_title=str(plan), metric=metric, target=_target_text(plan))
    except (StopIteration, AttributeError, TypeError, ValueError):
        return None
    return None
