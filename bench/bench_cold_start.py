"""Cold starts: the first requests a freshly started web worker answers, with and without the warm-up.

Loads a pool once (``needpool demo --requirements N``, SQLite file under ``--data-dir``), then for each mode
starts the production web server (``needpool serve``, gunicorn, one worker) with ``NEEDPOOL_WARMUP`` off and
on, and times, in a fresh worker each time, the very first request of each kind, then the same request
again ``--repeat`` times (the warm p50). Reported per mode: how long the server took to answer its first
health check (the warm-up is paid there, before traffic), each operation's first request, its warm p50 and
their ratio. A ratio near 1 means the first user waits no longer than any other.

    .venv/bin/python bench/bench_cold_start.py                      # 20,000 requirements
    .venv/bin/python bench/bench_cold_start.py --requirements 100000

Nothing asserts a time; the table goes to stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

QUERY = "希望导出报表时支持按部门筛选"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def prepare(data_dir: Path, requirements: int) -> tuple[str, str]:
    """The pool (loaded once per size), a product manager's API token and session cookie."""
    os.environ.update(
        {
            "NEEDPOOL_DATA_DIR": str(data_dir),
            "DATABASE_URL": f"sqlite:///{data_dir / f'cold-{requirements}.sqlite3'}",
            "DJANGO_SETTINGS_MODULE": "needpool.settings",
            "NEEDPOOL_WARMUP": "0",
        }
    )
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client
    from rest_framework.authtoken.models import Token

    from needpool.accounts.models import User
    from needpool.requirements.models import Requirement

    call_command("migrate", verbosity=0)
    if Requirement.objects.count() < requirements:
        log(f"loading {requirements:,} requirements …")
        call_command("np_demo", "--requirements", str(requirements), "--seed", "7", "--quiet")
    user, _ = User.objects.get_or_create(username="cold-pm", defaults={"role": "product_manager"})
    token, _ = Token.objects.get_or_create(user=user)
    client = Client()
    client.force_login(user)
    session = client.cookies["sessionid"].value
    from django.db import connections

    connections.close_all()
    return token.key, session


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def request(base: str, path: str, token: str, session: str, body: Any = None) -> float:
    headers = {"Cookie": f"sessionid={session}"} if path.startswith("/requirements/") else {}
    if not path.startswith("/requirements/"):
        headers["Authorization"] = f"Token {token}"
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    method = "POST" if body else "GET"
    req = urllib.request.Request(base + path, data=data, headers=headers, method=method)  # noqa: S310 - loopback
    started = time.perf_counter()
    with urllib.request.urlopen(req, timeout=120) as response:  # noqa: S310 - loopback only
        response.read()
        if response.status >= 400:
            raise SystemExit(f"{path}: {response.status}")
    return (time.perf_counter() - started) * 1000


OPERATIONS: list[tuple[str, str, Any]] = [
    ("create (API)", "/api/v1/requirements/", "create"),
    ("similar lookup (API)", "/api/v1/requirements/similar/?text=" + urllib.request.quote(QUERY), None),
    ("feedback inbox (page)", "/requirements/feedback/", None),
]


def run_mode(warmup: bool, token: str, session: str, repeat: int) -> dict[str, Any]:
    """One fresh server per operation, so each operation's first request is its worker's first request."""
    out: dict[str, Any] = {"ready": [], "ops": {}}
    for name, path, body in OPERATIONS:
        port = free_port()
        env = {**os.environ, "NEEDPOOL_WARMUP": "1" if warmup else "0", "NEEDPOOL_LOG_LEVEL": "ERROR"}
        started = time.perf_counter()
        web = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "needpool"), "serve", "--port", str(port), "--workers", "1"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 180
            while True:
                try:
                    urllib.request.urlopen(base + "/healthz", timeout=2).read()  # noqa: S310 - loopback only
                    break
                except (OSError, urllib.error.HTTPError):
                    if time.monotonic() > deadline:
                        raise SystemExit("the server did not start within 180 s") from None
                    time.sleep(0.1)
            out["ready"].append((time.perf_counter() - started) * 1000)

            def payload(body: Any = body) -> Any:
                return {"title": f"冷启动测试需求 {time.time_ns()}"} if body else None

            first = request(base, path, token, session, payload())
            warm = [request(base, path, token, session, payload()) for _ in range(repeat)]
            out["ops"][name] = (first, statistics.median(warm))
        finally:
            web.terminate()
            web.wait(timeout=30)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requirements", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--modes", default="off,on", help="warm-up modes to run: off,on (default both)")
    parser.add_argument("--data-dir", default=os.environ.get("NEEDPOOL_DATA_DIR") or str(ROOT / "var" / "bench"))
    args = parser.parse_args()
    data_dir = Path(args.data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    token, session = prepare(data_dir, args.requirements)
    modes = [m.strip() == "on" for m in args.modes.split(",") if m.strip()]
    results = {mode: run_mode(mode, token, session, args.repeat) for mode in modes}
    print(f"\n{args.requirements:,} requirements, SQLite, one gunicorn worker per run\n")
    print("| warm-up | operation | server ready ms | first request ms | warm p50 ms | first / warm |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for mode, result in results.items():
        for (name, (first, warm)), ready in zip(result["ops"].items(), result["ready"], strict=True):
            label = "on" if mode else "off"
            print(f"| {label} | {name} | {ready:,.0f} | {first:,.0f} | {warm:,.0f} | {first / warm:.1f}× |")


if __name__ == "__main__":
    main()
