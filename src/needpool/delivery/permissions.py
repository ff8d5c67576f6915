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
