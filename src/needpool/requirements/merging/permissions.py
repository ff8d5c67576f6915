"""Who may merge requirements, undo a merge, and watch a requirement."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from needpool.accounts.models import Viewer
from needpool.accounts.roles import Cap
from needpool.core.permissions import user_can
from needpool.requirements.models import Requirement
from needpool.requirements.permissions import can_edit_requirement, visible_requirements


def may_merge(user: Viewer) -> bool:
    """Whether ``user`` may merge requirements at all (each one involved must also be editable by them)."""
    return user_can(user, Cap.REQUIREMENT_EDIT_ANY) or user_can(user, Cap.REQUIREMENT_CREATE)


def may_merge_requirement(user: Viewer, requirement: Requirement) -> bool:
    """Whether ``user`` may merge ``requirement`` into another, or others into it."""
    return can_edit_requirement(user, requirement)


def may_undo_merge(user: Viewer) -> bool:
    """Undoing a merge is for admins."""
    return user_can(user, Cap.CONFIGURE)


def may_watch(user: Viewer, requirement: Requirement) -> bool:
    """Anyone signed in who can see the requirement may watch it (or stop watching it)."""
    return bool(
        getattr(user, "is_authenticated", False) and visible_requirements(user).filter(pk=requirement.pk).exists()
    )


def deny(message: str | None = None) -> PermissionDenied:
    return PermissionDenied(message or _("您没有执行此操作的权限。"))
