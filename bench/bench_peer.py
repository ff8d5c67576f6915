"""Needpool side by side with its closest open-source peer, DjangoCRM, through real HTTP on the same machine.

Both applications run under gunicorn (2 workers, 4 threads each, both alike) on a loopback
port, one server at a time so they never share the CPU, each on its own PostgreSQL database holding 100,000
rows (requirements / requests) of 10,000 customers (companies). A client logged in as a user who sees the whole
pool (Needpool: a manager; DjangoCRM: a superuser) requests each operation N times at 1 client thread and at 4
client threads (a new connection per request, urllib), after a warm-up. Printed: p50 latency of each side and
the throughput ratio Needpool / peer (above 1: Needpool serves more requests per second). Nothing asserts a time.

Operations, Needpool path vs peer path (DjangoCRM serves its UI through custom admin sites under
``/en/123/``):

* list page: ``/requirements/`` vs the Request changelist ``/en/123/crm/request/``;
* list API: ``/api/v1/requirements/`` vs the same changelist (DjangoCRM has no REST API);
* filter by status: ``?status=in_progress`` vs the changelist's ``pending`` list_filter (``?pending__exact=1``);
* Chinese search: ``?q=批量折扣`` on both (DjangoCRM: its admin ``search_fields``, icontains over 9 columns);
* filter + search: both combined;
* detail page: ``/requirements/<id>/`` vs the Request change page ``/en/123/crm/request/<id>/change/``;
* create: the create form POSTed (``/requirements/new/``) vs the Request add form POSTed
  (``/en/123/crm/request/add/``); every answer must be the redirect a successful save gives;
* aggregate page: ``/analysis/`` vs the request summary report ``/en/123/analytics/requeststat/``.

Getting the peer (once)::

    git clone https://github.com/DjangoCRM/django-crm peer && git -C peer checkout 4a0caf5
    python3.12 -m venv peer-venv      # DjangoCRM 4a0caf5 needs Django 6.0, so Python >= 3.12
    grep -v mysqlclient peer/requirements.txt > peer-req.txt
    peer-venv/bin/pip install -r peer-req.txt 'psycopg[binary]' gunicorn

Running (PostgreSQL from DATABASE_URL, default postgres://postgres@127.0.0.1:5432)::

    .venv/bin/python bench/bench_peer.py --peer-dir ../peer --peer-python ../peer-venv/bin/python
    .venv/bin/python bench/bench_peer.py --peer-dir ../peer --peer-python ../peer-venv/bin/python \\
        --output peer.md --only "list page" "detail page"

Needpool's pool is the one ``bench_pool.py`` loads (database NEEDPOOL_BENCH_DB, default ``needpool_bench``;
loaded when missing, ~3 minutes). The peer's database (``--peer-db``, default ``peer_bench``) is loaded once by
a script run in the peer's venv and Django settings (the peer checkout is not modified: its settings are
overridden by a module written to a temporary directory): ``setupdata`` (migrate + the peer's fixtures),
10 managers in the "Global sales" department, 10,000 companies with one contact each, and 100,000 requests
whose subject and description are texts of Needpool's own generator (``needpool.demo.vocabulary``), 15% of
them pending (Needpool: ~15% in_progress), then ANALYZE. ``--reload-peer`` loads it again.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import html.parser
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

PG_DEFAULT = "postgres://postgres@127.0.0.1:5432/postgres"
SEARCH = "批量折扣"
CSRF = "benchpeercsrftoken0123456789abcd"  # a 32-character unmasked CSRF secret both Djangos accept
PEER_PREFIX = "/en/123"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ============================================================== databases


def pg_url(name: str) -> str:
    parts = urllib.parse.urlsplit(os.environ.get("DATABASE_URL") or PG_DEFAULT)
    if not parts.scheme.startswith("postgres"):
        parts = urllib.parse.urlsplit(PG_DEFAULT)
    return urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))


def needpool_prepare(args: argparse.Namespace) -> tuple[dict[str, str], dict[str, Any]]:
    """Load Needpool's pool when missing (bench_pages.py --keep), then a manager's session and a few ids."""
    import bench_pool

    env = {
        **os.environ,
        "DATABASE_URL": pg_url(bench_pool.PG_BENCH_DB),
        "DJANGO_SETTINGS_MODULE": "needpool.settings",
        "NEEDPOOL_DATA_DIR": str(ROOT / "var" / "bench"),
        "NEEDPOOL_LOG_LEVEL": "ERROR",
        # The generator stores no sentence vectors: with embeddings on, each web worker would spend the run
        # embedding the pool in its background thread (a one-off after a load; steady state has them stored).
        "NEEDPOOL_DEDUP_EMBEDDINGS": "0",
    }
    loader = [
        sys.executable,
        str(ROOT / "bench" / "bench_pages.py"),
        "--keep",
        "--database",
        "postgres",
        "--requirements",
        str(args.rows),
        "--customers",
        str(args.customers),
        "--repeat",
        "1",
        "--paths",
        "/api/v1/requirements/",
    ]
    log(f"Needpool: checking / loading {bench_pool.PG_BENCH_DB} …")
    subprocess.run(loader, env=env, check=True, stdout=subprocess.DEVNULL)
    code = textwrap.dedent(
        f"""
        import json, random, django
        django.setup()
        from django.conf import settings
        from django.test import Client
        from needpool.accounts.models import User
        from needpool.accounts.roles import Role
        from needpool.requirements.models import Requirement
        manager = User.objects.filter(username="bench_manager").first() or User.objects.create_user(
            username="bench_manager", password=None, role=Role.MANAGER)
        client = Client()
        client.force_login(manager)
        ids = list(Requirement.objects.order_by("-id").values_list("id", flat=True)[:{args.rows}])
        print(json.dumps({{
            "cookie": settings.SESSION_COOKIE_NAME + "=" + client.cookies[settings.SESSION_COOKIE_NAME].value,
            "csrf_cookie": settings.CSRF_COOKIE_NAME,
            "ids": random.Random(7).sample(ids, min(20, len(ids))),
            "rows": Requirement.objects.count(),
            "in_progress": Requirement.objects.filter(status__key="in_progress").count(),
        }}))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, check=True, stdout=subprocess.PIPE, text=True).stdout
    return env, json.loads(out.strip().splitlines()[-1])


PEER_SETTINGS = """
from webcrm.settings import *  # noqa: F403

DATABASES = {{"default": {{
    "ENGINE": "django.db.backends.postgresql", "NAME": {name!r}, "USER": {user!r}, "PASSWORD": {password!r},
    "HOST": {host!r}, "PORT": {port!r},
}}}}
DEBUG = False
ADMINS = []
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
LOGGING = {{"version": 1, "disable_existing_loggers": False, "root": {{"level": "ERROR"}}}}
"""

# Run by the peer's python, in its checkout, with the settings above. argv: texts.jsonl rows customers reload
PEER_LOADER = r"""
import json, random, sys, time
from datetime import date, timedelta
import django
django.setup()
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

texts_path, rows, customers, reload = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1"
call_command("migrate", verbosity=0)
from django.contrib.auth.models import Group, User
from crm.models import Company, Contact, Request

if Request.objects.count() < rows or reload:
    started = time.monotonic()
    if not User.objects.filter(username="IamSUPER").exists():
        call_command("setupdata", verbosity=0)
    Request.objects.all().delete()
    Contact.objects.all().delete()
    Company.objects.all().delete()
    department = Group.objects.get(name="Global sales")
    managers_group = Group.objects.get(name="managers")
    owners = []
    for i in range(10):
        user = User.objects.filter(username=f"bench-manager-{i}").first()
        if user is None:
            user = User.objects.create_user(f"bench-manager-{i}", f"m{i}@example.com", None, is_staff=True)
            user.groups.add(department, managers_group)
        owners.append(user)
    texts = [json.loads(line) for line in open(texts_path, encoding="utf-8")]
    rng = random.Random(20240301)
    companies = Company.objects.bulk_create(
        [
            Company(
                full_name=c["name"], email=f"info{i}@c{i}.example.cn", city_name=c["city"],
                owner=owners[i % 10], department=department,
            )
            for i, c in enumerate(texts[0]["customers"][:customers])
        ],
        batch_size=2000,
    )
    contacts = Contact.objects.bulk_create(
        [
            Contact(
                first_name=c["given"], last_name=c["surname"], email=f"buyer{i}@c{i}.example.cn",
                company=company, owner=company.owner, department=department,
            )
            for i, (c, company) in enumerate(zip(texts[0]["customers"], companies))
        ],
        batch_size=2000,
    )
    today = date.today()
    now = timezone.now()
    batch = []
    for n, text in enumerate(texts[1:rows + 1]):
        k = rng.randrange(len(companies))
        company, contact = companies[k], contacts[k]
        days = rng.randrange(730)
        batch.append(Request(
            request_for=text["title"][:250], description=text["description"],
            first_name=contact.first_name, last_name=contact.last_name, email=contact.email,
            company_name=company.full_name, company=company, contact=contact,
            owner=owners[n % 10], department=department, receipt_date=today - timedelta(days=days),
            creation_date=now - timedelta(days=days, minutes=rng.randrange(1440)),
            pending=rng.random() < 0.15, subsequent=rng.random() < 0.3,
        ))
        if len(batch) == 5000:
            Request.objects.bulk_create(batch)
            batch = []
            print(f"peer: {n + 1:,} requests", file=sys.stderr, flush=True)
    Request.objects.bulk_create(batch)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(f"peer: loaded in {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)

user = User.objects.get(username="IamSUPER")
client = Client()
client.force_login(user)
ids = list(Request.objects.values_list("id", flat=True))
print(json.dumps({
    "cookie": settings.SESSION_COOKIE_NAME + "=" + client.cookies[settings.SESSION_COOKIE_NAME].value,
    "csrf_cookie": settings.CSRF_COOKIE_NAME,
    "ids": random.Random(7).sample(ids, min(20, len(ids))),
    "rows": len(ids),
    "pending": Request.objects.filter(pending=True).count(),
    "contact": Contact.objects.order_by("id").values_list("id", flat=True).first(),
}))
"""


def peer_texts(path: Path, rows: int, customers: int) -> None:
    """Subjects and descriptions from Needpool's own generator vocabulary; the first line holds the customers."""
    from needpool.demo.vocabulary import BRANDS, CITIES, GIVEN, INDUSTRIES, SURNAMES, requirement_texts

    rng = random.Random(20240301)
    people = []
    for i in range(customers):
        industry, suffix = INDUSTRIES[i % len(INDUSTRIES)]
        city = rng.choice(CITIES)
        name = f"{city}{rng.choice(BRANDS)}{suffix}{i}"
        people.append({"name": name, "city": city, "surname": rng.choice(SURNAMES)[0], "given": rng.choice(GIVEN)})
    with path.open("w", encoding="utf-8") as out:
        out.write(json.dumps({"customers": people}, ensure_ascii=False) + "\n")
        for _ in range(rows):
            industry = rng.choice(INDUSTRIES)[0]
            text = requirement_texts(rng, industry, [])
            row = {"title": text["title"], "description": "".join(text["description"] + text["background"])}
            out.write(json.dumps(row, ensure_ascii=False) + "\n")


def peer_prepare(args: argparse.Namespace, workdir: Path) -> tuple[dict[str, str], dict[str, Any]]:
    parts = urllib.parse.urlsplit(pg_url(args.peer_db))
    (workdir / "peer_bench_settings.py").write_text(
        PEER_SETTINGS.format(
            name=args.peer_db,
            user=parts.username or "postgres",
            password=parts.password or "",
            host=parts.hostname or "127.0.0.1",
            port=str(parts.port or 5432),
        ),
        encoding="utf-8",
    )
    loader = workdir / "peer_loader.py"
    loader.write_text(PEER_LOADER, encoding="utf-8")
    import psycopg

    with psycopg.connect(pg_url("postgres"), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [args.peer_db]).fetchone():
            conn.execute(f'CREATE DATABASE "{args.peer_db}"')
    texts = workdir / "texts.jsonl"
    log("peer: generating texts from Needpool's vocabulary …")
    peer_texts(texts, args.rows, args.customers)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "peer_bench_settings",
        "PYTHONPATH": os.pathsep.join([str(workdir), str(args.peer_dir)]),
    }
    env.pop("DATABASE_URL", None)
    log(f"peer: checking / loading {args.peer_db} …")
    command = [str(args.peer_python), str(loader), str(texts), str(args.rows), str(args.customers)]
    out = subprocess.run(
        [*command, "1" if args.reload_peer else "0"],
        env=env,
        cwd=args.peer_dir,
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    ).stdout
    return env, json.loads(out.strip().splitlines()[-1])


# ============================================================== servers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(command: list[str], env: dict[str, str], cwd: Path, port: int, probe: str) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server stopped: {' '.join(command)}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}{probe}", timeout=5)
            return server
        except urllib.error.HTTPError:
            return server
        except OSError:
            time.sleep(0.3)
    server.kill()
    raise SystemExit(f"the server did not start within 90 s: {' '.join(command)}")


def stop(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


# ============================================================== client


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


OPENER = urllib.request.build_opener(_NoRedirect)


@dataclass
class Op:
    name: str
    needpool: str
    peer: str
    method: str = "GET"
    note: str = ""
    form: dict[str, dict[str, str]] = field(default_factory=dict)  # side -> fields, for a POST


class Site:
    def __init__(self, side: str, port: int, info: dict[str, Any]) -> None:
        self.side = side
        self.base = f"http://127.0.0.1:{port}"
        self.cookie = f"{info['cookie']}; {info['csrf_cookie']}={CSRF}"
        self.ids = info["ids"]
        self.counter = 0
        self.lock = threading.Lock()

    def path(self, template: str) -> str:
        with self.lock:
            self.counter += 1
            pk = self.ids[self.counter % len(self.ids)]
        return template.format(id=pk, search=urllib.parse.quote(SEARCH))

    def post_location(self, path: str, data: dict[str, Any]) -> tuple[int, str]:
        body = urllib.parse.urlencode(data, doseq=True).encode()
        req = urllib.request.Request(self.base + path, data=body, method="POST")  # noqa: S310 - loopback
        for name, value in self.headers(path).items():
            req.add_header(name, value)
        try:
            with OPENER.open(req, timeout=120) as response:
                return response.status, response.headers.get("Location", "")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers.get("Location", "")

    def headers(self, path: str) -> dict[str, str]:
        return {
            "Cookie": self.cookie,
            "Connection": "close",
            "Content-Type": "application/x-www-form-urlencoded",
            "X-CSRFToken": CSRF,
            "Referer": self.base + path,
        }

    def request(self, method: str, path: str, data: dict[str, str] | None = None) -> tuple[int, bytes]:
        body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
        req = urllib.request.Request(self.base + path, data=body, method=method)  # noqa: S310 - loopback
        req.add_header("Cookie", self.cookie)
        req.add_header("Connection", "close")
        if body is not None:
            req.add_header("Content-Type", "application/x-www-form-urlencoded")
            req.add_header("X-CSRFToken", CSRF)
            req.add_header("Referer", self.base + path)
        try:
            with OPENER.open(req, timeout=120) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()


class FormFields(html.parser.HTMLParser):
    """The fields a browser would submit from the page's main form (inputs, checked boxes, selects, textareas)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[list[tuple[str, str]]] = [[]]
        self.fields = self.forms[0]
        self._select: str | None = None
        self._select_first: str | None = None
        self._select_done = False
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        name = a.get("name")
        if tag == "form":
            self.fields = []
            self.forms.append(self.fields)
        elif tag == "input" and name:
            kind = a.get("type", "text").lower()
            if kind in ("submit", "button", "file", "image", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self.fields.append((name, a.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "select" and name:
            self._select, self._select_first, self._select_done = name, None, False
        elif tag == "option" and self._select:
            value = a.get("value", "")
            if self._select_first is None:
                self._select_first = value
            if "selected" in a and not self._select_done:
                self.fields.append((self._select, value))
                self._select_done = True
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self._select:
            self._select = None
        elif tag == "textarea" and self._textarea:
            self.fields.append((self._textarea, "".join(self._text).strip()))
            self._textarea = None


def form_of(site: Site, path: str, overrides: dict[str, str]) -> dict[str, Any]:
    """The fields of the page's form that has the first field of ``overrides``, with ``overrides`` typed in;
    POSTed once here, which must answer the redirect of a successful save."""
    status, body = site.request("GET", path)
    if status != 200:
        raise SystemExit(f"{site.side}: GET {path} answered {status}")
    parser = FormFields()
    parser.feed(body.decode("utf-8", "replace"))
    key = next(iter(overrides))
    fields = next((f for f in parser.forms if any(name == key for name, _value in f)), None)
    if fields is None:
        raise SystemExit(f"{site.side}: no form with a {key!r} field on {path}")
    data: dict[str, Any] = {}
    for name, value in fields:
        if name in ("q", "csrfmiddlewaretoken"):
            continue
        data.setdefault(name, []).append(value)
    data.update(overrides)
    data["csrfmiddlewaretoken"] = CSRF
    status, location = site.post_location(path, data)
    if status != 302 or "login" in location:
        raise SystemExit(f"{site.side}: POST {path} answered {status} {location} instead of a saved object")
    log(f"{site.side}: create form POST answers {status} → {location}")
    return data


@dataclass
class Result:
    p50: float = 0.0
    throughput: float = 0.0
    done: int = 0
    errors: dict[int, int] = field(default_factory=dict)


def run(site: Site, op: Op, threads: int, per_thread: int, budget: float) -> Result:
    template = op.needpool if site.side == "needpool" else op.peer
    data = op.form.get(site.side)
    ok = {302} if op.method == "POST" else {200}
    latencies: list[float] = []
    errors: dict[int, int] = {}
    lock = threading.Lock()
    deadline = time.monotonic() + budget

    def client(_: int) -> None:
        for i in range(per_thread):
            if i >= 5 and time.monotonic() > deadline:
                return
            path = site.path(template)
            started = time.perf_counter()
            status, _body = site.request(op.method, path, data)
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                if status not in ok:
                    errors[status] = errors.get(status, 0) + 1

    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        list(pool.map(client, range(threads)))
    wall = time.perf_counter() - started
    return Result(statistics.median(latencies) * 1000, len(latencies) / wall, len(latencies), errors)


def measure(site: Site, ops: list[Op], args: argparse.Namespace, lines: list[str]) -> dict[str, dict[int, Result]]:
    results: dict[str, dict[int, Result]] = {}
    for op in ops:
        template = op.needpool if site.side == "needpool" else op.peer
        for _ in range(args.warmup):
            site.request(op.method, site.path(template), op.form.get(site.side))
        one = run(site, op, 1, args.requests, args.budget)
        many = run(site, op, args.threads, max(1, args.requests // 2), args.budget)
        results[op.name] = {1: one, args.threads: many}
        lines.append(
            f"  {site.side:8} {op.name:18} 1 client p50 {one.p50:7.1f} ms {one.throughput:6.2f}/s (n={one.done})"
            f" | {args.threads} clients p50 {many.p50:7.1f} ms {many.throughput:6.2f}/s (n={many.done})"
            + (f" errors {one.errors} {many.errors}" if one.errors or many.errors else "")
        )
        log(lines[-1])
    return results


# ============================================================== main


def operations(only: list[str] | None) -> list[Op]:
    crm = f"{PEER_PREFIX}/crm/request/"
    ops = [
        Op("list page", "/requirements/", crm),
        Op("list API", "/api/v1/requirements/", crm, note="the peer has no API: compared with its changelist"),
        Op("filter by status", "/requirements/?status=in_progress", crm + "?pending__exact=1"),
        Op("Chinese search", "/requirements/?q={search}", crm + "?q={search}"),
        Op("filter + search", "/requirements/?status=in_progress&q={search}", crm + "?pending__exact=1&q={search}"),
        Op("detail page", "/requirements/{id}/", crm + "{id}/change/"),
        Op("create (form POST)", "/requirements/new/", crm + "add/", method="POST"),
        Op("aggregate page", "/analysis/", f"{PEER_PREFIX}/analytics/requeststat/"),
    ]
    return [op for op in ops if not only or op.name in only]


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}×" if b else "–"


def table(ops: list[Op], results: dict[str, dict[str, dict[int, Result]]], threads: int) -> str:
    lines = [
        f"| operation | peer p50 | Needpool p50 | ratio 1 client | ratio {threads} clients |",
        "|---|---:|---:|---:|---:|",
    ]
    notes = []
    for op in ops:
        peer, needpool = results["peer"][op.name], results["needpool"][op.name]
        name = op.name
        if op.note:
            notes.append(f"{op.name}: {op.note}.")
            name += f" [{len(notes)}]"
        bad = [
            f"{side} {n} clients: {r.errors}"
            for side, rs in (("peer", peer), ("Needpool", needpool))
            for n, r in rs.items()
            if r.errors
        ]
        if bad:
            notes.append(f"{op.name}: unexpected answers (status: count) " + "; ".join(bad))
            name += f" [{len(notes)}]"
        lines.append(
            f"| {name} | {peer[1].p50:,.0f} ms | {needpool[1].p50:,.0f} ms"
            f" | {ratio(needpool[1].throughput, peer[1].throughput)}"
            f" | {ratio(needpool[threads].throughput, peer[threads].throughput)} |"
        )
    lines.append("")
    lines.append("Ratios are throughput (requests/s) Needpool / peer: above 1 means Needpool serves more.")
    lines.extend(f"[{i}] {note}" for i, note in enumerate(notes, 1))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--peer-dir", type=Path, required=True, help="DjangoCRM checkout (4a0caf5)")
    parser.add_argument("--peer-python", type=Path, required=True, help="python of the peer's venv")
    parser.add_argument("--peer-db", default="peer_bench", help="the peer's PostgreSQL database (default peer_bench)")
    parser.add_argument("--reload-peer", action="store_true", help="load the peer's database again")
    parser.add_argument("--rows", type=int, default=100_000, help="requirements / requests (default 100000)")
    parser.add_argument("--customers", type=int, default=10_000, help="customers / companies (default 10000)")
    parser.add_argument("--requests", type=int, default=40, help="requests at 1 client (default 40)")
    parser.add_argument("--threads", type=int, default=4, help="client threads, each requests/2 (default 4)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed requests per operation (default 3)")
    parser.add_argument("--budget", type=float, default=60.0, help="seconds per operation and mode (default 60)")
    parser.add_argument("--rounds", type=int, default=1, help="rounds, ABBA order; best of them (default 1)")
    parser.add_argument("--only", nargs="+", default=None, help="operation names to run")
    parser.add_argument("--output", default=None, help="also write the report to this file")
    args = parser.parse_args(argv)
    args.peer_dir = args.peer_dir.resolve()
    if not (args.peer_dir / "webcrm" / "settings.py").is_file():
        parser.error(f"--peer-dir {args.peer_dir} is not a DjangoCRM checkout")

    ops = operations(args.only)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-peer-") as tmp:
        workdir = Path(tmp)
        needpool_env, needpool_info = needpool_prepare(args)
        peer_env, peer_info = peer_prepare(args, workdir)
        results: dict[str, dict[str, dict[int, Result]]] = {}
        servers = {
            "peer": (
                [
                    str(args.peer_python),
                    "-m",
                    "gunicorn",
                    "webcrm.wsgi:application",
                    "--workers",
                    "2",
                    "--threads",
                    "4",
                    "--timeout",
                    "120",
                ],
                peer_env,
                args.peer_dir,
                peer_info,
                f"{PEER_PREFIX}/crm/",
            ),
            "needpool": (
                [str(Path(sys.executable).parent / "needpool"), "serve", "--workers", "2", "--threads", "4"],
                needpool_env,
                ROOT,
                needpool_info,
                "/accounts/login/",
            ),
        }
        loads: list[str] = []
        lines: list[str] = []  # every round's numbers, for the report
        for round_no in range(args.rounds):
            # ABBA: peer, Needpool, then Needpool, peer … so a slow spell of the machine hits both
            for side in ("peer", "needpool") if round_no % 2 == 0 else ("needpool", "peer"):
                command, env, cwd, info, probe = servers[side]
                port = free_port()
                bind = ["--port", str(port)] if side == "needpool" else ["--bind", f"127.0.0.1:{port}"]
                log(f"round {round_no + 1}, {side}: gunicorn on 127.0.0.1:{port}, {info['rows']:,} rows")
                before = os.getloadavg()
                server = start([*command, *bind], env, cwd, port, probe)
                try:
                    site = Site(side, port, info)
                    for op in ops:
                        if op.method == "POST":
                            op.form[side] = create_form(site, op, info)
                    lines.append(f"round {round_no + 1}, {side}:")
                    measured = measure(site, ops, args, lines)
                finally:
                    stop(server)
                loads.append(f"{side} round {round_no + 1}: {before[0]:.2f} → {os.getloadavg()[0]:.2f}")
                best = results.setdefault(side, {})
                for name, by_threads in measured.items():
                    kept = best.setdefault(name, by_threads)
                    for n, result in by_threads.items():
                        if result.throughput > kept[n].throughput:
                            kept[n] = result

    report = [
        f"Needpool vs DjangoCRM (4a0caf5), {args.rows:,} rows / {args.customers:,} customers each, PostgreSQL,"
        f" gunicorn 2 workers × 4 threads, one server at a time; {args.requests} requests at 1 client,"
        f" {args.threads} threads × {max(1, args.requests // 2)} (at most {args.budget:g} s per operation and mode,"
        f" at least 5); {os.cpu_count()} CPUs.",
        f"Best of {args.rounds} round(s) (ABBA order) per operation and mode."
        f" Load average (1 min) before → after each server: {'; '.join(loads)}"
        f" (5/15 min at the start: {load_before[1]:.2f} / {load_before[2]:.2f}).",
        f"Filter rows: Needpool in_progress {needpool_info['in_progress']:,}, peer pending {peer_info['pending']:,}.",
        "",
        table(ops, results, args.threads),
        "",
        "Every round (p50, requests/s, requests made):",
        "",
        "```",
        *lines,
        "```",
    ]
    text = "\n".join(report)
    print(text)
    if args.output:
        Path(args.output).write_text(text + "\n", encoding="utf-8")
    return 0


def create_form(site: Site, op: Op, info: dict[str, Any]) -> dict[str, Any]:
    """The create form as the page serves it, with a title and a description typed in."""
    title = f"压测新建：{SEARCH}规则按客户等级配置"
    description = "销售拜访时客户提到：价格调整需要逐个修改，希望价格体系按客户等级设置批量折扣规则。"
    if site.side == "needpool":
        return form_of(site, op.needpool, {"title": title, "description": description})
    overrides = {
        "request_for": title,
        "description": description,
        "first_name": "王",
        "last_name": "伟",
        "email": "buyer@example.cn",
    }
    return form_of(site, op.peer, overrides)


if __name__ == "__main__":
    sys.exit(main())
