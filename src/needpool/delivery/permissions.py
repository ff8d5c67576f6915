"""Who may do what in delivery (iterations, plans, tasks, acceptance, change requests)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from needpool.accounts.roles import Cap
from needpool.core.permissions import user_can


def deny(message: str | None = None) -> PermissionDenied:
    return PermissionDenied(message or _("您没有执行此操作的权限。"))


def can_plan(user: Any, obj: Any = None) -> bool:
    """Create and change iterations, plans, tasks, acceptance records and change requests."""
    return user_can(user, Cap.PLAN)


def can_see_delivery(user: Any, obj: Any = None) -> bool:
    """Read iterations, the roadmap, plans and tasks: staff who see the whole pool, and planners."""
    return user_can(user, Cap.PLAN) or user_can(user, Cap.SEE_ALL)


def can_update_task(user: Any, task: Any) -> bool:
    """Change every field of a task (planners), as opposed to moving its status."""
    return can_plan(user)


def can_move_task(user: Any, task: Any) -> bool:
    """Move a task's status: planners, and the task's own owner."""
    return can_plan(user) or (
        bool(getattr(user, "is_authenticated", False)) and task.owner_id is not None and task.owner_id == user.pk
    )


def can_request_change(user: Any, requirement: Any = None) -> bool:
    """Raise a change request (the caller has already found the requirement through a scoped selector)."""
    return can_plan(user) or user_can(user, Cap.REQUIREMENT_CREATE)


def can_evaluate_change(user: Any, change: Any = None) -> bool:
    """Evaluate a change's impact on scope, schedule, cost and risk: planners and engineers who estimate."""
    return can_plan(user) or user_can(user, Cap.ESTIMATE)


def can_decide_change(user: Any, change: Any = None) -> bool:
    """Approve or reject a change request: those who decide in reviews."""
    return user_can(user, Cap.REVIEW)


def can_implement_change(user: Any, change: Any = None) -> bool:
    return can_plan(user)


def can_tell_change(user: Any, change: Any = None) -> bool:
    """Record that the requester was told the outcome: planners and those who close the loop."""
    return can_plan(user) or user_can(user, Cap.CLOSE_LOOP)
