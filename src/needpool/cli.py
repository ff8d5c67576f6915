"""The ``needpool`` command: serve, worker, demo, createadmin, backup, restore, and every Django management command."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "needpool.settings")
    args = list(sys.argv[1:] if argv is None else argv)
    aliases = {
        "serve": "np_serve",
        "worker": "run_huey",
        "demo": "np_demo",
        "createadmin": "np_createadmin",
        "backup": "np_backup",
        "restore": "np_restore",
    }
    if args and args[0] in aliases:
        args[0] = aliases[args[0]]
    from django.core.management import execute_from_command_line

    execute_from_command_line(["needpool", *args])


if __name__ == "__main__":
    main()
