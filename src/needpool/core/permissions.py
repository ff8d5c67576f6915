"""Permission base shared by every app: capability checks and the not-found-or-forbidden rule."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

# The capability to change site settings; the roles that hold it are defined in accounts.roles (Cap.CONFIGURE).
CONFIGURE = "configure"


def user_can(user: Any, cap: str) -> bool:
    return bool(user and user.is_authenticated and user.can(cap))


def require(user: Any, cap: str, message: str | None = None) -> None:
    """Raise PermissionDenied with a message in the user's language unless ``user`` has ``cap``."""
    if not user_can(user, cap):
        raise PermissionDenied(message or _("您没有执行此操作的权限。"))
