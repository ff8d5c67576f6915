"""Who keeps the group chat routes: admins (the ``configure`` capability, or a superuser)."""

from __future__ import annotations

from typing import Any

from needpool.core.permissions import is_admin


def can_configure_routes(user: Any) -> bool:
    return is_admin(user)
