"""Who may import: the upload needs at least one capability a row can use; each row is then checked by
the service it calls (a sheet only writes what its user may write). Export needs no capability of its
own: it reads through the permission-scoped selectors of the list it exports."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser

from needpool.accounts.models import User
from needpool.accounts.roles import Cap
from needpool.core.permissions import user_can

IMPORT_CAPS = (Cap.CUSTOMER_WRITE, Cap.REQUIREMENT_CREATE, Cap.REQUIREMENT_EDIT_ANY, Cap.ANALYSE)


def can_import(user: User | AnonymousUser) -> bool:
    """The upload needs at least one capability a row can use; each row is then checked by its service."""
    return any(user_can(user, cap) for cap in IMPORT_CAPS)
