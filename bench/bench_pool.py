#!/usr/bin/env python
"""Speed of the requirement pool against hand-written SQL, measured in the same run.

Loads N generated requirements (``needpool.demo.generator.generate``) into a fresh database — a SQLite
file under NEEDPOOL_DATA_DIR, or the PostgreSQL database ``needpool_bench`` — then times each
operation the way users hit it (the list page, the list API, Chinese search, the detail page) and
the raw SQL that returns the same rows, and prints a markdown table of p50 / p95 and their ratio.

    scripts/bench --requirements 100000                 # SQLite
    scripts/bench --requirements 100000 --database postgres
    scripts/bench --requirements 1000000 --keep         # reuse an already loaded database

Pages and API endpoints are found with ``reverse``; where one is missing or fails, the
operation falls back to its selector (``requirement_list`` / ``requirement_get``) and says so.
This is a measurement, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
PG_DEFAULT = "postgres://postgres@127.0.0.1:5432/postgres"
# Another name (NEEDPOOL_BENCH_DB) lets two benchmarks run side by side.
PG_BENCH_DB = os.environ.get("NEEDPOOL_BENCH_DB", "needpool_bench")
SEARCHES = ("批量折扣", "实时监控", "导出 Excel", "对接ERP系统", "配送时效", "审批流程过长", "客户等级")


# ============================================================== setup (before Django is imported)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requirements", type=int, default=100_000, help="requirements to load (default 100000)")
    parser.add_argument("--customers", type=int, default=None, help="customers to load (default requirements // 5)")
    parser.add_argument("--repeat", type=int, default=40, help="timed runs of each operation (default 40)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed runs before timing (default 3)")
    parser.add_argument(
        "--database",
        choices=("sqlite", "postgres"),
        default=None,
        help="default: postgres when DATABASE_URL is set, else sqlite",
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=30.0,
        help="seconds one operation may take in all; slower ones get fewer runs, at least 5 (default 30)",
    )
    parser.add_argument("--keep", action="store_true", help="reuse the bench database when it is already loaded")
    parser.add_argument("--data-dir", default=None, help="default: $NEEDPOOL_DATA_DIR, else var/bench")
    parser.add_argument("--seed", type=int, default=20240301, help="random seed of the generated data")
    parser.add_argument("--explain", action="store_true", help="print the query plan of each operation's SQL")
    parser.add_argument("--output", default=None, help="also write the table to this file")
    args = parser.parse_args(argv)
    if args.customers is None:
        args.customers = max(20, args.requirements // 5)
    if args.database is None:
        args.database = "postgres" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite"
    return args


def configure(args: argparse.Namespace) -> str:
    """Point the settings at the bench database; returns a description of it."""
    data_dir = Path(args.data_dir or os.environ.get("NEEDPOOL_DATA_DIR") or ROOT / "var" / "bench").resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    os.environ["NEEDPOOL_DATA_DIR"] = str(data_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "needpool.settings"
    os.environ.setdefault("NEEDPOOL_LOG_LEVEL", "ERROR")
    if args.database == "sqlite":
        path = data_dir / f"bench-{args.requirements}.sqlite3"
        if not args.keep:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{path}"
        return f"SQLite {path}"
    parts = urlsplit(os.environ.get("DATABASE_URL") or PG_DEFAULT)
    if not parts.scheme.startswith("postgres"):
        parts = urlsplit(PG_DEFAULT)
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    bench_url = urlunsplit(parts._replace(path=f"/{PG_BENCH_DB}"))
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [PG_BENCH_DB]).fetchone()
        if exists and not args.keep:
            conn.execute(f"DROP DATABASE {PG_BENCH_DB} WITH (FORCE)")
            exists = None
        if not exists:
            conn.execute(f"CREATE DATABASE {PG_BENCH_DB}")
    os.environ["DATABASE_URL"] = bench_url
    return f"PostgreSQL {parts.hostname}:{parts.port or 5432}/{PG_BENCH_DB}"


def load(args: argparse.Namespace) -> None:
    from django.core.management import call_command
    from django.db import connection

    from needpool.customers.models import Customer
    from needpool.demo.examples import load_examples
    from needpool.demo.generator import generate
    from needpool.demo.users import DEMO_SALES, demo_users_ensure
    from needpool.requirements.models import Requirement

    started = time.monotonic()
    call_command("migrate", verbosity=0)
    generated = Requirement.objects.filter(created_by__username=DEMO_SALES, code__startswith="DEM").count()
    if args.keep and generated >= args.requirements:
        log(f"reusing the loaded database ({generated:,} requirements)")
        return
    users = demo_users_ensure()
    load_examples(users=users)
    missing = args.requirements - generated
    have = Customer.objects.filter(created_by__username=DEMO_SALES).count()
    customers = max(20, args.customers - have)
    log(f"loading {missing:,} requirements, {customers:,} customers …")
    generate(requirements=missing, customers=customers, users=users, seed=args.seed)
    log("ANALYZE …")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    log(f"loaded in {time.monotonic() - started:,.0f} s")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ============================================================== measuring


@dataclass
class Result:
    name: str
    orm_label: str
    orm: list[float]
    raw: list[float]
    queries: int = 0
    notes: list[str] = field(default_factory=list)


def explain_queries(connection: Any, title: str, queries: list[str]) -> None:
    """Log the plan of each SELECT in ``queries`` (EXPLAIN ANALYZE on PostgreSQL, EXPLAIN QUERY PLAN on SQLite)."""
    prefix = "EXPLAIN ANALYZE " if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN "
    log(f"\n### {title}")
    for sql in queries:
        if not sql.lstrip().upper().startswith("SELECT"):
            continue
        log(f"-- {sql[:300]}{'…' if len(sql) > 300 else ''}")
        try:
            with connection.cursor() as cursor:
                cursor.execute(prefix + sql)
                for row in cursor.fetchall():
                    log("   " + " | ".join(str(c) for c in row))
        except Exception as exc:
            log(f"   (no plan: {exc})")


def timed(fn: Callable[[], Any], repeat: int, warmup: int, budget: float) -> list[float]:
    """``repeat`` timed runs in ms after ``warmup`` untimed ones; fewer (at least 5) when one run is so slow
    that ``repeat`` of them would take more than ``budget`` seconds."""
    took = 0.0
    for _i in range(max(1, warmup)):
        start = time.perf_counter()
        fn()
        took = time.perf_counter() - start
    runs = min(repeat, max(5, int(budget / max(took, 1e-6))))
    out = []
    for _i in range(runs):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def p50(values: list[float]) -> float:
    return statistics.median(values)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


# ============================================================== the bench


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        from django.db import connection
        from django.test import Client

        from needpool.accounts.models import User
        from needpool.accounts.roles import Role
        from needpool.requirements.models import ClassOption, Requirement

        self.args = args
        self.connection = connection
        self.vendor = connection.vendor
        self.manager = User.objects.filter(username="bench_manager").first() or User.objects.create_user(
            username="bench_manager", password=None, role=Role.MANAGER
        )
        self.client = Client()
        self.client.force_login(self.manager)
        self.urgency = ClassOption.objects.get(dimension="urgency", key="important")
        self.status_key = "in_progress"
        self.filters = {"urgency": str(self.urgency.pk), "status": self.status_key, "sort": "-submitted_at"}
        self.total = Requirement.objects.count()
        # Detail pages of requirements spread over the table (old and new, few and many status moves).
        ids = list(Requirement.objects.order_by("id").values_list("id", flat=True)[:: max(1, self.total // 40)])
        self.detail_ids = ids[:40] or [0]
        self.results: list[Result] = []
        self.notes: list[str] = []

    # ---------------------------------------------------------- helpers

    def url(self, names: tuple[str, ...], *args: Any) -> str | None:
        from django.urls import NoReverseMatch, reverse

        for name in names:
            try:
                return reverse(name, args=args)
            except NoReverseMatch:
                continue
            except Exception as exc:  # a half-built urls module: fall back, but say why
                self.notes.append(f"reverse({name}) failed: {type(exc).__name__}: {exc}")
                return None
        return None

    def page_fn(self, url: str | None, params: dict[str, str] | None, what: str) -> Callable[[], Any] | None:
        """A GET of ``url`` if it answers 200 now; None (and a note) otherwise."""
        if url is None:
            self.notes.append(f"{what}: no URL found; measured the selector instead")
            return None
        target = url + ("?" + urlencode(params) if params else "")
        try:
            response = self.client.get(target)
        except Exception as exc:
            self.notes.append(f"{what}: GET {target} raised {type(exc).__name__}: {exc}; measured the selector")
            return None
        if response.status_code != 200:
            self.notes.append(f"{what}: GET {target} answered {response.status_code}; measured the selector")
            return None

        def get() -> Any:
            response = self.client.get(target)
            assert response.status_code == 200
            return response.content

        return get

    def raw(self, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def count_queries(self, fn: Callable[[], Any]) -> int:
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(self.connection) as ctx:
            fn()
        self._last_queries = [q["sql"] for q in ctx.captured_queries]
        return len(ctx.captured_queries)

    def explain(self, title: str, queries: list[str]) -> None:
        if self.args.explain:
            explain_queries(self.connection, title, queries)

    def measure(self, title: str, fn: Callable[[], Any]) -> tuple[list[float], int]:
        queries = self.count_queries(fn)
        self.explain(title, self._last_queries)
        return timed(fn, self.args.repeat, self.args.warmup, self.args.budget), queries

    def run(self, name: str, candidates: list[tuple[str, Callable[[], Any]]], raw: Callable[[], Any]) -> list[Result]:
        """Time each way of doing ``name`` (page / API / selector) and the raw SQL; one table row each."""
        raw_times = timed(raw, self.args.repeat, self.args.warmup, self.args.budget)
        rows = []
        for label, fn in candidates:
            times, queries = self.measure(f"{name} — {label}", fn)
            rows.append(Result(name, label, times, raw_times, queries))
            log(f"{name}: {label} p50 {p50(times):.1f} ms (raw SQL p50 {p50(raw_times):.1f} ms)")
        self.results += rows
        return rows

    # ---------------------------------------------------------- raw SQL of the same rows

    def _list_sql(self, where: str, *, full: bool = False) -> str:
        columns = (
            "r.id, r.code, r.title, r.priority, r.customer_value, r.submitted_at, r.expected_date, "
            "r.first_response_due, r.sla_breached, r.updated_at, t.id, t.label, u.id, u.label, s.id, s.key, "
            "s.label, s.category, o.id, o.username, o.display_name"
        )
        joins = (
            "FROM requirements_requirement r "
            "JOIN requirements_workflowstatus s ON s.id = r.status_id "
            "LEFT JOIN requirements_classoption t ON t.id = r.type_id "
            "LEFT JOIN requirements_classoption u ON u.id = r.urgency_id "
            "LEFT JOIN accounts_user o ON o.id = r.owner_id "
        )
        if full:
            columns += (
                ", r.description, r.background, r.concrete_ask, r.created_by_id, r.first_responded_at, "
                "na.label, so.label, ca.label"
            )
            joins += (
                "LEFT JOIN requirements_classoption na ON na.id = r.nature_id "
                "LEFT JOIN requirements_classoption so ON so.id = r.source_id "
                "LEFT JOIN requirements_classoption ca ON ca.id = r.category_id "
            )
        return f"SELECT {columns} {joins} WHERE {where} ORDER BY r.submitted_at DESC, r.id DESC LIMIT 25"

    def _related(self, ids: list[int]) -> None:
        """The two lookups every list row shows: its tags and its customers (from its feedback)."""
        if not ids:
            return
        marks = ", ".join(["%s"] * len(ids))
        self.raw(
            "SELECT rt.requirement_id, c.id, c.label, c.label_en FROM requirements_requirement_tags rt "
            f"JOIN requirements_classoption c ON c.id = rt.classoption_id WHERE rt.requirement_id IN ({marks})",
            ids,
        )
        self.raw(
            "SELECT f.id, f.requirement_id, f.customer_id, c.id, c.name, c.code FROM requirements_feedback f "
            f"LEFT JOIN customers_customer c ON c.id = f.customer_id WHERE f.requirement_id IN ({marks}) "
            "ORDER BY f.received_at, f.id",
            ids,
        )

    def raw_list(self, where: str, params: list[Any], *, full: bool = False) -> Callable[[], Any]:
        sql = self._list_sql(where, full=full)
        count_sql = (
            "SELECT COUNT(*) FROM requirements_requirement r "
            f"JOIN requirements_workflowstatus s ON s.id = r.status_id WHERE {where}"
        )

        def go() -> Any:
            rows = self.raw(sql, params)
            self.raw(count_sql, params)
            self._related([row[0] for row in rows])
            return rows

        return go

    def search_where(self) -> str:
        if self.vendor == "postgresql":
            return "r.search_vector @@ plainto_tsquery('simple', %s)"
        return "r.id IN (SELECT rowid FROM requirements_fts WHERE requirements_fts MATCH %s)"

    def search_param(self, query: str) -> str:
        from needpool.core.text import query_terms

        terms = query_terms(query)
        if self.vendor == "postgresql":
            return " ".join(terms)
        return " AND ".join('"' + t.replace('"', '""') + '"' for t in terms)

    # ---------------------------------------------------------- operations

    def selector_page(self, filters: dict[str, str]) -> Callable[[], Any]:
        """What the list page and API do with the database: one page of the filtered list, and its count."""
        from needpool.requirements.selectors import requirement_list

        def go() -> Any:
            qs = requirement_list(user=self.manager, filters=filters)
            return list(qs[:25]), qs.count()

        return go

    def ways(self, what: str, url: str | None, params: dict[str, str] | None, label: str = "page") -> list[Any]:
        page = self.page_fn(url, params, what)
        ways: list[tuple[str, Callable[[], Any]]] = [(label, page)] if page else []
        return [*ways, ("selector", self.selector_page(params or {}))]

    def bench_list(self) -> None:
        list_url = self.url(("requirements:list",))
        raw = self.raw_list("r.urgency_id = %s AND s.key = %s", [self.urgency.pk, self.status_key])
        self.run("list: urgency + status, newest first", self.ways("list page", list_url, self.filters), raw)
        self.run("list: no filter", self.ways("list page (no filter)", list_url, None), self.raw_list("1 = 1", []))

    def bench_api(self) -> None:
        url = self.url(("requirement-list", "api:requirement-list", "v1:requirement-list"))
        raw = self.raw_list("r.urgency_id = %s AND s.key = %s", [self.urgency.pk, self.status_key], full=True)
        ways = [w for w in self.ways("list API", url, self.filters, label="API") if w[0] == "API"]
        if not ways:
            ways = [("selector", self.selector_page(self.filters))]
        self.run("API: urgency + status, newest first", ways, raw)

    def bench_search(self) -> None:
        list_url = self.url(("requirements:list",))
        merged: dict[str, Result] = {}
        for query in SEARCHES:
            raw = self.raw_list(self.search_where(), [self.search_param(query)])
            rows = self.run(f"search 「{query}」", self.ways(f"search {query}", list_url, {"q": query}), raw)
            for row in rows:
                into = merged.setdefault(
                    row.orm_label, Result(f"search: all {len(SEARCHES)} queries", row.orm_label, [], [])
                )
                into.orm += row.orm
                into.raw += row.raw
            if len(rows) > 1:  # keep the table short: per query, the page row only
                self.results.remove(rows[-1])
        self.results += list(merged.values())

    def bench_code_lookup(self) -> None:
        """Search by an exact code (the first thing ``q`` tries)."""
        from needpool.requirements.models import Requirement

        code = Requirement.objects.order_by("-id").values_list("code", flat=True)[self.total // 2]
        raw = self.raw_list("r.code = %s", [code])
        self.run("search by exact code", self.ways("code search", self.url(("requirements:list",)), {"q": code}), raw)

    def bench_detail(self) -> None:
        from django.contrib.contenttypes.models import ContentType
        from django.urls import reverse

        from needpool.requirements.models import Requirement
        from needpool.requirements.selectors import requirement_get, requirement_history

        ids = self.detail_ids
        state = {"i": 0}

        def next_id() -> int:
            state["i"] = (state["i"] + 1) % len(ids)
            return ids[state["i"]]

        def page() -> Any:
            response = self.client.get(reverse("requirements:detail", args=[next_id()]))
            assert response.status_code == 200
            return response.content

        def selector() -> Any:
            requirement = requirement_get(user=self.manager, pk=next_id())
            return requirement, requirement_history(requirement)

        ct = ContentType.objects.get_for_model(Requirement).pk

        def raw() -> Any:
            pk = next_id()
            main = self.raw(
                "SELECT r.*, t.label, u.label, s.key, s.label, s.category, s.is_initial, w.id, w.name, "
                "na.label, so.label, ca.label, o.username, o.display_name, cb.username, cb.display_name "
                "FROM requirements_requirement r "
                "JOIN requirements_workflowstatus s ON s.id = r.status_id "
                "JOIN requirements_workflow w ON w.id = s.workflow_id "
                "LEFT JOIN requirements_classoption t ON t.id = r.type_id "
                "LEFT JOIN requirements_classoption u ON u.id = r.urgency_id "
                "LEFT JOIN requirements_classoption na ON na.id = r.nature_id "
                "LEFT JOIN requirements_classoption so ON so.id = r.source_id "
                "LEFT JOIN requirements_classoption ca ON ca.id = r.category_id "
                "LEFT JOIN accounts_user o ON o.id = r.owner_id "
                "LEFT JOIN accounts_user cb ON cb.id = r.created_by_id WHERE r.id = %s",
                [pk],
            )
            self.raw(
                "SELECT c.* FROM requirements_requirement_tags rt JOIN requirements_classoption c "
                "ON c.id = rt.classoption_id WHERE rt.requirement_id = %s",
                [pk],
            )
            self.raw(
                "SELECT f.*, c.code, c.name, c.value_tier, ct.name, ct.title, u.username "
                "FROM requirements_feedback f LEFT JOIN customers_customer c ON c.id = f.customer_id "
                "LEFT JOIN customers_contact ct ON ct.id = f.contact_id "
                "LEFT JOIN accounts_user u ON u.id = f.created_by_id "
                "WHERE f.requirement_id = %s ORDER BY f.received_at, f.id",
                [pk],
            )
            self.raw(
                "SELECT sc.*, a.label, b.label, u.username FROM requirements_statuschange sc "
                "LEFT JOIN requirements_workflowstatus a ON a.id = sc.source_id "
                "JOIN requirements_workflowstatus b ON b.id = sc.target_id "
                "LEFT JOIN accounts_user u ON u.id = sc.actor_id "
                "WHERE sc.requirement_id = %s ORDER BY sc.at DESC, sc.id DESC",
                [pk],
            )
            self.raw(
                "SELECT cm.*, u.username FROM requirements_comment cm LEFT JOIN accounts_user u "
                "ON u.id = cm.author_id WHERE cm.requirement_id = %s ORDER BY cm.created_at, cm.id",
                [pk],
            )
            self.raw("SELECT * FROM requirements_attachment WHERE requirement_id = %s", [pk])
            self.raw(
                "SELECT a.*, u.username FROM core_auditentry a LEFT JOIN accounts_user u ON u.id = a.actor_id "
                "WHERE a.content_type_id = %s AND a.object_id = %s ORDER BY a.at DESC, a.id DESC LIMIT 200",
                [ct, pk],
            )
            self.raw(
                "SELECT s.id, s.key, s.label FROM requirements_workflowtransition tr "
                "JOIN requirements_workflowstatus s ON s.id = tr.target_id "
                "WHERE tr.source_id = (SELECT status_id FROM requirements_requirement WHERE id = %s) "
                'ORDER BY s."order"',
                [pk],
            )
            return main

        probe = self.page_fn(self.url(("requirements:detail",), ids[0]), None, "detail page")
        ways: list[tuple[str, Callable[[], Any]]] = [("page", page)] if probe else []
        self.run("detail: requirement + history", [*ways, ("selector", selector)], raw)

    # ---------------------------------------------------------- report

    def table(self, database: str) -> str:
        lines = [
            f"Measured on {dt.date.today():%Y-%m-%d} on this {os.cpu_count()}-core machine "
            f"({platform.python_implementation()} {platform.python_version()}), {database}, "
            f"{self.total:,} requirements; up to {self.args.repeat} runs per operation after "
            f"{self.args.warmup} warm-up (fewer when {self.args.repeat} would exceed {self.args.budget:.0f} s).",
            "",
            "| operation | measured | ORM/page p50 ms | p95 ms | raw SQL p50 | p95 | ratio (p50/p50) "
            "| queries | runs |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for r in self.results:
            ratio = p50(r.orm) / p50(r.raw) if p50(r.raw) > 0 else float("nan")
            lines.append(
                f"| {r.name} | {r.orm_label} | {p50(r.orm):.1f} | {p95(r.orm):.1f} | {p50(r.raw):.1f} | "
                f"{p95(r.raw):.1f} | {ratio:.1f}× | {r.queries or ''} | {len(r.orm)} |"
            )
        if self.notes:
            lines += ["", *[f"- {note}" for note in dict.fromkeys(self.notes)]]
        return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sys.path.insert(0, str(ROOT / "src"))
    database = configure(args)
    import django

    django.setup()
    load(args)
    bench = Bench(args)
    bench.bench_list()
    bench.bench_api()
    bench.bench_search()
    bench.bench_code_lookup()
    bench.bench_detail()
    table = bench.table(database)
    print(table)
    if args.output:
        Path(args.output).write_text(table + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
