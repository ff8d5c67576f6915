"""Who manages feedback by mail: mailboxes, their log and files need an admin (``configure``) or a superuser."""

from __future__ import annotations

from typing import Any

from needpool.core.permissions import is_admin


def can_manage_mail(user: Any) -> bool:
    return is_admin(user)
