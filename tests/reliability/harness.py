"""A throw-away installation for kill -9 tests: its own data directory and database, real processes.

SQLite file in the data directory by default; with DATABASE_URL on PostgreSQL, a database of its own on that
server (dropped afterwards); the job queue on Redis when NEEDPOOL_REDIS_URL is set (a queue name of its own).
Everything listens on the loopback only.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[2]
NEEDPOOL = str(Path(sys.executable).with_name("needpool"))


def wait_for(check: Callable[[], Any], *, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


class Installation:
    def __init__(self, data_dir: Path, name: str, *, stale_seconds: float = 2) -> None:
        """``stale_seconds``: how long a job may go without a beat before recovery calls it interrupted (short for
        the kill tests; a test that only needs jobs to run gives a real margin, as a busy machine can stall a
        beat's file write for a second or two)."""
        self.data_dir = data_dir
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DJANGO_"))}
        self.env.update(
            NEEDPOOL_DATA_DIR=str(data_dir),
            NEEDPOOL_JOBS_IMMEDIATE="0",
            NEEDPOOL_JOB_STALE_SECONDS=str(stale_seconds),
            NEEDPOOL_JOB_HEARTBEAT_SECONDS="0.3",
            NEEDPOOL_LOG_LEVEL="ERROR",
            NEEDPOOL_HUEY_NAME=f"kill-{name}-{os.getpid()}",
            PYTHONPATH=str(ROOT),
        )
        if self.env.get("NEEDPOOL_REDIS_URL"):
            # The Redis database of this test worker (settings give each xdist worker its own): the base URL's
            # database belongs to worker gw0, whose tests flush it between tests and would wipe the queued job.
            from django.conf import settings

            self.env["NEEDPOOL_REDIS_URL"] = settings.NEEDPOOL_REDIS_URL
        self.pg_name = ""
        database = os.environ.get("DATABASE_URL", "")
        if database.startswith("postgres"):
            import psycopg

            parts = urlsplit(database)
            self.pg_admin = urlunsplit(parts._replace(path="/postgres"))
            self.pg_name = f"np_kill_{name}_{os.getpid()}"
            with psycopg.connect(self.pg_admin, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {self.pg_name} WITH (FORCE)")
                conn.execute(f"CREATE DATABASE {self.pg_name}")
            self.env["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{self.pg_name}"))
        else:
            self.env.pop("DATABASE_URL", None)
        self.processes: list[subprocess.Popen[bytes]] = []
        self.run("migrate", "--verbosity", "0")

    # -- processes

    def run(self, *args: str, timeout: float = 120) -> str:
        done = subprocess.run(
            [NEEDPOOL, *args], env=self.env, capture_output=True, timeout=timeout, cwd=self.data_dir, check=False
        )
        assert done.returncode == 0, done.stderr.decode()[-3000:]
        return done.stdout.decode()

    def python(self, code: str) -> Any:
        """Run ``code`` in a Django shell of the installation; it prints one JSON value, returned here."""
        out = self.run("shell", "-c", code)
        return json.loads(out.strip().splitlines()[-1])

    def start(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        """Start ``needpool *args`` in the background; ``env`` adds to (or overrides) the installation's."""
        process = subprocess.Popen(
            [NEEDPOOL, *args],
            env={**self.env, **(env or {})},
            cwd=self.data_dir,
            stdout=subprocess.DEVNULL,
            stderr=open(self.data_dir / f"{args[0]}-{len(self.processes)}.log", "wb"),  # noqa: SIM115
            start_new_session=True,
        )
        self.processes.append(process)
        return process

    def serve(self, *, timeout: float = 60) -> tuple[subprocess.Popen[bytes], str]:
        """Start the web server (``needpool serve``, two workers) on a free loopback port and wait until it answers
        its health check; returns the process and the base address."""
        port = free_port()
        server = self.start("serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2")
        base = f"http://127.0.0.1:{port}"

        def up() -> bool:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:  # noqa: S310 - loopback
                    return bool(response.status == 200)
            except OSError:
                return False

        wait_for(up, timeout=timeout, what="the server to answer")
        return server, base

    @staticmethod
    def kill9(process: subprocess.Popen[bytes]) -> None:
        """kill -9 the process and everything it started (gunicorn's workers, huey's threads)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def close(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                self.kill9(process)
        if self.pg_name:
            import psycopg

            with psycopg.connect(self.pg_admin, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {self.pg_name} WITH (FORCE)")

    # -- the database, read directly (no Django in the test process for this installation)

    def sql(self, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        if self.pg_name:
            import psycopg

            with psycopg.connect(self.env["DATABASE_URL"]) as conn:
                return list(conn.execute(query.replace("?", "%s"), params).fetchall())
        import sqlite3

        conn = sqlite3.connect(self.data_dir / "needpool.sqlite3", timeout=30)
        try:
            return list(conn.execute(query, params).fetchall())
        finally:
            conn.close()


def create_requirement(base: str, token: str, fields: dict[str, Any], *, timeout: float = 30) -> dict[str, Any]:
    """POST a requirement through the API with a user's token; the answer's JSON (errors raise, as urllib's)."""
    request = urllib.request.Request(  # noqa: S310 - loopback
        f"{base}/api/v1/requirements/",
        data=json.dumps(fields).encode(),
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - loopback
        answer: dict[str, Any] = json.loads(response.read())
        return answer


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
