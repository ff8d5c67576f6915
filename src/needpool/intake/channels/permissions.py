"""Who manages intake channels: settings, API tokens and access codes need the ``configure`` capability (admin)."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser

from needpool.accounts.models import User
from needpool.accounts.roles import Cap
from needpool.core.permissions import user_can


def can_manage_channels(user: User | AnonymousUser) -> bool:
    return user_can(user, Cap.CONFIGURE)
