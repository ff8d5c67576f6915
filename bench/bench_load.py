"""Twenty clients against a real server for a minute: nothing lost, nothing 500.

Starts the production web server (``needpool serve``: gunicorn) and the job worker on a fresh database
(SQLite file, or PostgreSQL via DATABASE_URL / ``--database postgres``), then runs N client threads over
loopback for S seconds. Each client signs in with its own API token and mixes what a team does at once:

* creates requirements and feedback (every 201 is an *acknowledged write*, remembered with its text);
* reads the list (with and without a search word) and details;
* comments on, edits and moves a small set of shared requirements, so edits and moves race. An edit sends
  the ETag it read as ``If-Match`` (when the server sends one); a move sends the status it saw as ``from``.

Afterwards the database itself is read back: every acknowledged create and comment must be there with its
text; of the edits acknowledged on one requirement, no two may rest on the same version (that would be a
lost update) and the stored title must be the last acknowledged one; the status history must match the
moves acknowledged. Answers a race may legitimately give (400 move not allowed, 409 stale move, 412 stale
edit) are counted, not treated as errors; any 5xx, dropped connection or other 4xx is an error.

    .venv/bin/python bench/bench_load.py                        # 20 clients, 60 s, SQLite
    .venv/bin/python bench/bench_load.py --database postgres
    .venv/bin/python bench/bench_load.py --clients 5 --seconds 10
    # creates only, 4 clients, on a copy of the pool bench_pool.py loaded (100,000 requirements):
    .venv/bin/python bench/bench_load.py --clients 4 --creates-only --from var/bench/bench-100000.sqlite3
    .venv/bin/python bench/bench_load.py --clients 4 --creates-only --database postgres --from needpool_bench

``--from`` starts from a copy of a loaded database (a SQLite file, or a PostgreSQL database used as the
template of the new one) instead of an empty one; ``--creates-only`` makes every step a requirement create
with a title and a description, the "four people typing in requirements at once" case. Latencies are also
reported per operation.

Prints a markdown table (and exits 1 when something was lost or an error was seen); nothing asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

PG_DEFAULT = "postgres://postgres@127.0.0.1:5432/postgres"
PG_LOAD_DB = "needpool_bench_load"
SHARED = 6  # requirements every client edits, comments on and moves
ALLOWED_RACE_ANSWERS = {"transition": {400, 409, 412}, "edit": {412}}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def configure(args: argparse.Namespace) -> tuple[str, dict[str, str]]:
    data_dir = Path(args.data_dir or ROOT / "var" / "bench-load").resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {"NEEDPOOL_DATA_DIR": str(data_dir), "DJANGO_SETTINGS_MODULE": "needpool.settings"}
    env["NEEDPOOL_LOG_LEVEL"] = "ERROR"
    database = args.database or ("postgres" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite")
    if database == "sqlite":
        path = data_dir / "load.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        (data_dir / "jobs.sqlite3").unlink(missing_ok=True)
        if args.source:
            import importlib

            importlib.import_module("needpool")  # first: the copy is made with the SQLite the product writes with
            sqlite3 = importlib.import_module("sqlite3")

            # Closed at once: a connection of this process left open to the copy would hold its files while the
            # server writes it, and the reads after the run are made through Django.
            with closing(sqlite3.connect(args.source)) as source, closing(sqlite3.connect(path)) as copy:
                source.backup(copy)
        env["DATABASE_URL"] = f"sqlite:///{path}"
        label = "SQLite"
    else:
        parts = urlsplit(os.environ.get("DATABASE_URL") or PG_DEFAULT)
        if not parts.scheme.startswith("postgres"):
            parts = urlsplit(PG_DEFAULT)
        import psycopg

        with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {PG_LOAD_DB} WITH (FORCE)")
            if args.source:
                conn.execute(f'CREATE DATABASE {PG_LOAD_DB} TEMPLATE "{args.source}"')
            else:
                conn.execute(f"CREATE DATABASE {PG_LOAD_DB}")
        env["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{PG_LOAD_DB}"))
        label = "PostgreSQL"
    os.environ.update(env)
    return label, env


def prepare(clients: int) -> tuple[list[str], list[int]]:
    """Users with tokens, a customer, and the shared requirements (standardised, so they may move)."""
    import django

    django.setup()
    from django.core.management import call_command
    from rest_framework.authtoken.models import Token

    from needpool.accounts.models import User
    from needpool.customers.services import contact_create, customer_create
    from needpool.requirements.services import feedback_create, requirement_create

    call_command("migrate", verbosity=0)
    tokens = []
    users = []
    User.objects.filter(username__startswith="load-").delete()
    for i in range(clients):
        user = User.objects.create_user(username=f"load-{i:02d}", password="x", role="product_manager")  # noqa: S106
        users.append(user)
        tokens.append(Token.objects.create(user=user).key)
    customer = customer_create(actor=users[0], name="压测客户", industry="制造", yearly_purchase=2_000_000)
    contact_create(actor=users[0], customer=customer, name="王工", phone="010-62345678")
    shared = []
    for i in range(SHARED):
        item = feedback_create(actor=users[0], raw_text=f"共享需求 {i} 的原始反馈", channel="ticket", customer=customer)
        requirement = requirement_create(
            actor=users[0],
            title=f"共享需求 {i}",
            background="月底对账需要导出全部明细",
            concrete_ask="支持按部门批量导出",
            expected_date=__import__("datetime").date(2027, 6, 30),
            feedback=[item],
        )
        shared.append(requirement.pk)
    from django.db import connections

    connections.close_all()
    return tokens, shared


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(
    env: dict[str, str], port: int, timeout: float = 60, workers: int = 2, threads: int | None = None
) -> list[subprocess.Popen[bytes]]:
    full_env = {**os.environ, **env}
    needpool = str(ROOT / ".venv" / "bin" / "needpool")
    web = subprocess.Popen(
        [
            needpool,
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
            *(["--threads", str(threads)] if threads else []),
        ],
        env=full_env,
        stdout=subprocess.DEVNULL,
        # A file, not a pipe nobody reads: a full pipe would stop the server mid-request.
        stderr=open(Path(env["NEEDPOOL_DATA_DIR"]) / "serve.log", "wb"),  # noqa: SIM115 - the server's lifetime
    )
    worker = subprocess.Popen([needpool, "worker"], env=full_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=2)
            return [web, worker]
        except urllib.error.HTTPError:
            return [web, worker]
        except OSError:
            time.sleep(0.3)
    web.kill()
    worker.kill()
    raise SystemExit(f"the server did not start within {timeout:g} s")


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    by_op: dict[str, list[float]] = field(default_factory=dict)
    by_status: dict[int, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    race_answers: int = 0
    created: list[tuple[str, int, str]] = field(default_factory=list)  # (kind, id, text)
    comments: list[tuple[int, str]] = field(default_factory=list)
    edits: list[tuple[int, str | None, str | None, str]] = field(default_factory=list)  # (req, if-match, etag, title)
    moves: list[tuple[int, str]] = field(default_factory=list)  # (req, to)


class Client:
    def __init__(
        self,
        base: str,
        token: str,
        shared: list[int],
        seed: int,
        tally: Tally,
        lock: threading.Lock,
        creates_only: bool = False,
    ):
        self.base, self.token, self.shared = base, token, shared
        self.creates_only = creates_only
        self.rng = random.Random(seed)
        self.tally, self.lock = tally, lock
        self.seq = 0
        self.seen: list[int] = list(shared)
        self._targets: dict[str, list[str]] | None = None

    def call(self, op: str, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method)  # noqa: S310
        request.add_header("Authorization", f"Token {self.token}")
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                status, payload, response_headers = response.status, response.read(), response.headers
        except urllib.error.HTTPError as error:
            status, payload, response_headers = error.code, error.read(), error.headers
        except OSError as error:
            with self.lock:
                self.tally.errors.append(f"{op}: {type(error).__name__}: {error}")
            return None, None, None
        elapsed = time.perf_counter() - started
        with self.lock:
            self.tally.latencies.append(elapsed)
            self.tally.by_op.setdefault(f"{op} {method}", []).append(elapsed)
            self.tally.by_status[status] = self.tally.by_status.get(status, 0) + 1
            if status >= 500 or (status >= 400 and status not in ALLOWED_RACE_ANSWERS.get(op, set())):
                self.tally.errors.append(f"{op} {method} {path} -> {status}: {payload[:200]!r}")
            elif status >= 400:
                self.tally.race_answers += 1
        try:
            parsed = json.loads(payload) if payload else None
        except ValueError:
            parsed = None
        return status, parsed, response_headers

    def targets(self) -> dict[str, list[str]]:
        """Each status key of the flows and the keys it may move to (read once from /api/v1/statuses/)."""
        if self._targets is None:
            self._targets = {}
            _status, body, _h = self.call("list", "GET", "/api/v1/statuses/?page_size=100")
            rows = body.get("results", []) if isinstance(body, dict) else (body or [])
            for row in rows:
                self._targets.setdefault(row["key"], []).extend(row.get("targets") or [])
        return self._targets

    def step(self, client_no: int) -> None:
        self.seq += 1
        if self.creates_only:
            title = f"压测需求 c{client_no} #{self.seq} 希望报表能按部门批量导出"
            description = "客户每月底对账，需要把全部明细按部门导出为 Excel，现在只能一页页复制。"
            body = {"title": title, "description": description}
            status, answer, _h = self.call("create", "POST", "/api/v1/requirements/", body)
            if status == 201 and answer:
                with self.lock:
                    self.tally.created.append(("requirement", answer["id"], title))
            return
        roll = self.rng.random()
        if roll < 0.25:
            title = f"压测需求 c{client_no} #{self.seq}"
            status, body, _h = self.call("create", "POST", "/api/v1/requirements/", {"title": title})
            if status == 201 and body:
                with self.lock:
                    self.tally.created.append(("requirement", body["id"], title))
                self.seen.append(body["id"])
        elif roll < 0.40:
            text = f"客户反馈 c{client_no} #{self.seq}：希望报表能按部门导出"
            status, body, _h = self.call("create", "POST", "/api/v1/feedback/", {"raw_text": text, "channel": "ticket"})
            if status == 201 and body:
                with self.lock:
                    self.tally.created.append(("feedback", body["id"], text))
        elif roll < 0.55:
            query = "?page_size=25" + ("&q=%E5%AF%BC%E5%87%BA" if self.rng.random() < 0.5 else "")
            self.call("list", "GET", f"/api/v1/requirements/{query}")
        elif roll < 0.65:
            self.call("detail", "GET", f"/api/v1/requirements/{self.rng.choice(self.seen)}/")
        elif roll < 0.77:
            target = self.rng.choice(self.shared)
            text = f"评论 c{client_no} #{self.seq}"
            status, body, _h = self.call("comment", "POST", f"/api/v1/requirements/{target}/comments/", {"body": text})
            if status == 201 and body:
                with self.lock:
                    self.tally.comments.append((body["id"], text))
        elif roll < 0.90:
            target = self.rng.choice(self.shared)
            status, _body, headers = self.call("detail", "GET", f"/api/v1/requirements/{target}/")
            etag = headers.get("ETag") if headers else None
            title = f"共享需求改名 c{client_no} #{self.seq}"
            extra = {"If-Match": etag} if etag else {}
            status, _body, headers = self.call(
                "edit", "PATCH", f"/api/v1/requirements/{target}/", {"title": title}, extra
            )
            if status == 200:
                with self.lock:
                    self.tally.edits.append((target, etag, headers.get("ETag") if headers else None, title))
        else:
            target = self.rng.choice(self.shared)
            status, body, _h = self.call("detail", "GET", f"/api/v1/requirements/{target}/")
            current = (body or {}).get("status") or {}
            targets = [key for key in self.targets().get(current.get("key"), []) if key != current.get("key")]
            if not targets:
                return
            to = self.rng.choice(targets)
            payload = {"to": to, "note": "压测流转", "from": current.get("key")}
            status, _body, _h = self.call("transition", "POST", f"/api/v1/requirements/{target}/transition/", payload)
            if status == 200:
                with self.lock:
                    self.tally.moves.append((target, to))


def run_clients(base: str, tokens: list[str], shared: list[int], seconds: float, creates_only: bool = False) -> Tally:
    tally, lock = Tally(), threading.Lock()
    stop = time.monotonic() + seconds

    def loop(no: int) -> None:
        client = Client(base, tokens[no], shared, 1000 + no, tally, lock, creates_only)
        while time.monotonic() < stop:
            client.step(no)

    threads = [threading.Thread(target=loop, args=(no,)) for no in range(len(tokens))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return tally


def verify(tally: Tally) -> dict[str, int]:
    """Read the database back: what was acknowledged must be there, no edit may rest on a stale version."""
    from django.db import connections

    from needpool.requirements.models import Comment, Feedback, Requirement, StatusChange

    connections.close_all()
    missing = 0
    titles = dict(Requirement.objects.values_list("pk", "title"))
    texts = dict(Feedback.objects.values_list("pk", "raw_text"))
    for kind, pk, text in tally.created:
        stored = titles.get(pk) if kind == "requirement" else texts.get(pk)
        if stored != text:
            missing += 1
            log(f"missing {kind} {pk}: {text!r} (stored {stored!r})")
    bodies = dict(Comment.objects.values_list("pk", "body"))
    missing += sum(1 for pk, text in tally.comments if bodies.get(pk) != text)
    lost = 0
    by_requirement: dict[int, list[tuple[str | None, str | None, str]]] = {}
    for target, if_match, etag, title in tally.edits:
        by_requirement.setdefault(target, []).append((if_match, etag, title))
    for target, edits in by_requirement.items():
        bases = [if_match for if_match, _etag, _title in edits if if_match]
        lost += len(bases) - len(set(bases))  # two acknowledged edits on one version: one of them was lost
        versioned = [(etag, title) for _if_match, etag, title in edits if etag]
        if versioned and len(versioned) == len(edits):
            _etag, last_title = max(versioned, key=lambda pair: int("".join(ch for ch in pair[0] if ch.isdigit())))
            if titles.get(target) != last_title:
                lost += 1
    moves_by_requirement: dict[int, int] = {}
    for target, _to in tally.moves:
        moves_by_requirement[target] = moves_by_requirement.get(target, 0) + 1
    history_mismatch = 0
    for target, count in moves_by_requirement.items():
        recorded = StatusChange.objects.filter(requirement_id=target).count()
        if recorded < count:
            history_mismatch += 1
    return {"missing": missing, "lost": lost, "history": history_mismatch}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgres"])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--data-dir")
    parser.add_argument("--output")
    parser.add_argument("--from", dest="source", help="start from a copy of this SQLite file / PostgreSQL database")
    parser.add_argument("--start-timeout", type=float, default=60, help="seconds the server may take to start")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (needpool serve)")
    parser.add_argument("--threads", type=int, help="threads per worker (default: needpool serve's)")
    parser.add_argument("--creates-only", action="store_true", help="every step creates a requirement")
    args = parser.parse_args()
    label, env = configure(args)
    log(f"==> preparing {label}")
    tokens, shared = prepare(args.clients)
    port = free_port()
    processes = start_server(env, port, args.start_timeout, args.workers, args.threads)
    try:
        log(f"==> {args.clients} clients for {args.seconds:g} s on 127.0.0.1:{port}")
        started = time.monotonic()
        tally = run_clients(f"http://127.0.0.1:{port}", tokens, shared, args.seconds, args.creates_only)
        elapsed = time.monotonic() - started
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
    checked = verify(tally)
    requests = len(tally.latencies)
    p50 = statistics.median(tally.latencies) * 1000 if tally.latencies else 0.0
    p95 = statistics.quantiles(tally.latencies, n=20)[-1] * 1000 if len(tally.latencies) > 20 else 0.0
    five = sum(count for status, count in tally.by_status.items() if status >= 500)
    acked = len(tally.created) + len(tally.comments) + len(tally.edits) + len(tally.moves)
    lines = [
        "| database | clients | seconds | requests | req/s | p50 ms | p95 ms | 5xx | errors | race answers "
        "| acknowledged writes | moves | edits with If-Match | missing | lost updates | history gaps |",
        "| --- " + "| ---: " * 15 + "|",
        f"| {label} | {args.clients} | {elapsed:.0f} | {requests} | {requests / elapsed:.1f} | {p50:.0f} | {p95:.0f} "
        f"| {five} | {len(tally.errors)} | {tally.race_answers} | {acked} | {len(tally.moves)} "
        f"| {sum(1 for edit in tally.edits if edit[1])} | {checked['missing']} | {checked['lost']} "
        f"| {checked['history']} |",
    ]
    lines += ["", "| operation | requests | p50 ms | p95 ms |", "| --- | ---: | ---: | ---: |"]
    for op, values in sorted(tally.by_op.items()):
        op_p95 = statistics.quantiles(values, n=20)[-1] * 1000 if len(values) > 20 else max(values) * 1000
        lines.append(f"| {op} | {len(values)} | {statistics.median(values) * 1000:.0f} | {op_p95:.0f} |")
    table = "\n".join(lines)
    print(table)
    print("status counts:", dict(sorted(tally.by_status.items())))
    for error in tally.errors[:20]:
        log(f"error: {error}")
    if args.output:
        Path(args.output).write_text(table + "\n", encoding="utf-8")
    if tally.errors or checked["missing"] or checked["lost"] or checked["history"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
