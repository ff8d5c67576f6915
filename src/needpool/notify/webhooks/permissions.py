"""Who manages outbound webhooks: admins (``configure`` capability) and superusers."""

from __future__ import annotations

from typing import Any

from needpool.core.permissions import is_admin


def can_manage_webhooks(user: Any) -> bool:
    return is_admin(user) and bool(getattr(user, "is_active", False))
