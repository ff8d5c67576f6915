"""Delivery use-cases; every write of the app goes through these functions."""

from needpool.delivery.services.iterations import (
    iteration_create,
    iteration_plan_requirements,
    iteration_unplan_requirement,
    iteration_update,
)

__all__ = [
    "iteration_create",
    "iteration_plan_requirements",
    "iteration_unplan_requirement",
    "iteration_update",
]
