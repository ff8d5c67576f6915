"""The demo users: the product manager and the sales user the demo data is entered as."""

from __future__ import annotations

import os

from django.db import transaction

from needpool.accounts.models import User
from needpool.accounts.roles import Role
from needpool.core.audit import audit_record
from needpool.core.models import AuditEntry

DEMO_PM = "demo_pm"
DEMO_SALES = "demo_sales"


def demo_users_ensure() -> dict[str, User]:
    """The demo product manager and sales user, created if missing.

    Passwords are unusable (nobody can log in as them) unless NEEDPOOL_DEMO_PASSWORD is set.
    This is a bootstrap like ``accounts.services.admin_ensure``: there is no acting user yet.
    """
    password = os.environ.get("NEEDPOOL_DEMO_PASSWORD") or None
    made: dict[str, User] = {}
    for username, role, display in (
        (DEMO_PM, Role.PRODUCT_MANAGER, "演示产品经理"),
        (DEMO_SALES, Role.SALES, "演示销售"),
    ):
        user = User.objects.filter(username=username).first()
        if user is None:
            with transaction.atomic():
                user = User(username=username, role=role, display_name=display)
                if password:
                    user.set_password(password)
                else:
                    user.set_unusable_password()
                user.save()
                audit_record(actor=None, obj=user, action=AuditEntry.Action.CREATE, changes={"role": role})
        elif password and not user.check_password(password):
            user.set_password(password)
            user.save(update_fields=["password"])
        made[username] = user
    return made
