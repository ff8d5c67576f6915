"""Serve the web application: gunicorn (production) or Django's development server (--dev)."""

from __future__ import annotations

import os
import sys
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand

from needpool.core.errors import SERVER_REQUEST_LINE_LIMIT


class Command(BaseCommand):
    help = "Start the web server on NEEDPOOL_PORT (default 8000)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--port", default=os.environ.get("NEEDPOOL_PORT", "8000"))
        parser.add_argument("--host", default=os.environ.get("NEEDPOOL_HOST", "127.0.0.1"))
        parser.add_argument("--workers", default=os.environ.get("NEEDPOOL_WEB_WORKERS", "2"))
        # Two threads a worker: a third or fourth request in one process shares its interpreter lock and makes
        # every request of that process slower; waiting in the socket's queue keeps the tail short instead (four
        # clients creating at once, p95: 127–136 ms with four threads, 102–108 with two, 63–67 with one).
        parser.add_argument("--threads", default=os.environ.get("NEEDPOOL_WEB_THREADS", "2"))
        parser.add_argument("--dev", action="store_true", help="Django development server with auto-reload")

    def handle(self, *args: Any, **options: Any) -> None:
        bind = f"{options['host']}:{options['port']}"
        if options["dev"]:
            call_command("runserver", bind)
            return
        argv = [
            "gunicorn",
            "needpool.wsgi:application",
            "--bind",
            bind,
            "--workers",
            str(options["workers"]),
            "--threads",
            str(options["threads"]),
            "--access-logfile",
            "-",
            "--timeout",
            "120",
            # Longer addresses than gunicorn's default reach the app, which answers them with its own 414 page.
            "--limit-request-line",
            str(SERVER_REQUEST_LINE_LIMIT),
        ]
        os.execvp(sys.executable, [sys.executable, "-m", *argv])  # noqa: S606 - replaces this process on purpose
