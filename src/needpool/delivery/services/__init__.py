"""Delivery use-cases; every write of the app goes through these functions."""

from needpool.delivery.services.acceptance import acceptance_passed, acceptance_record, latest_acceptance
from needpool.delivery.services.changes import (
    change_decide,
    change_evaluate,
    change_implement,
    change_request_create,
    change_tell,
    next_steps,
)
from needpool.delivery.services.iterations import (
    iteration_create,
    iteration_plan_requirements,
    iteration_unplan_requirement,
    iteration_update,
)
from needpool.delivery.services.plans import milestone_set_done, plan_create, plan_update
from needpool.delivery.services.tasks import overdue_remind, task_create, task_move, task_update, task_warnings

__all__ = [
    "acceptance_passed",
    "acceptance_record",
    "change_decide",
    "change_evaluate",
    "change_implement",
    "change_request_create",
    "change_tell",
    "iteration_create",
    "iteration_plan_requirements",
    "iteration_unplan_requirement",
    "iteration_update",
    "latest_acceptance",
    "milestone_set_done",
    "next_steps",
    "overdue_remind",
    "plan_create",
    "plan_update",
    "task_create",
    "task_move",
    "task_update",
    "task_warnings",
]
