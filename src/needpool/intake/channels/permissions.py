"""Who manages intake channels: settings, API tokens and access codes need the ``configure`` capability (admin)."""

from __future__ import annotations

from typing import Any

from needpool.accounts.roles import Cap
from needpool.core.permissions import user_can


def can_manage_channels(user: Any) -> bool:
    return user_can(user, Cap.CONFIGURE)
