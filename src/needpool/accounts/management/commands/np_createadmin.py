"""Create the first admin (NEEDPOOL_ADMIN_USER / NEEDPOOL_ADMIN_PASSWORD, else a random password shown once)."""

from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand

from needpool.accounts.services import admin_ensure


class Command(BaseCommand):
    help = "Create the admin account if it does not exist yet."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--username", default=os.environ.get("NEEDPOOL_ADMIN_USER", "admin"))

    def handle(self, *args: Any, **options: Any) -> None:
        password = os.environ.get("NEEDPOOL_ADMIN_PASSWORD") or None
        user, shown = admin_ensure(username=options["username"], password=password)
        if shown:
            self.stdout.write(
                self.style.WARNING(
                    f"管理员账号 / admin account: {user.username}\n初始密码 / initial password (shown once): {shown}"
                )
            )
        else:
            self.stdout.write(f"admin account: {user.username}")
