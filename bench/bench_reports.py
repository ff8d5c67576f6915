#!/usr/bin/env python
"""Speed of the report figures (``reports.metrics``) against hand-written aggregate SQL, measured in the same run.

Loads N requirements with everything a dashboard counts (``reports_data.py``: ~3 years, both flows, status
history, SLA, ~50 owners in 8 teams, ~20,000 customers, feedback, tags, CSAT / NPS answers, evaluations,
delivery tasks) into its own database — reused when already loaded — then, for two readers (the admin: the
whole pool; one sales rep: their customers' requirements) and two periods (the default 90 days, a whole year):

* each figure group (headline counts / SLA / lead times, overdue, distributions, lists, satisfaction and
  effect, trends, breakdowns, the status funnel) through the functions ``summary()`` / ``dashboard()`` call,
  next to the raw SQL that computes the same numbers; the numbers are compared (a mismatch is printed and
  makes the run exit 1);
* ``summary()`` and ``dashboard()`` whole, against the sum of the raw groups they cover;
* the dashboard page (``reports:dashboard``) through Django's test client.

    .venv/bin/python bench/bench_reports.py                              # 1,000,000 requirements, SQLite
    .venv/bin/python bench/bench_reports.py --database postgres
    .venv/bin/python bench/bench_reports.py --requirements 100000 --explain 2> plans.txt

This is a measurement, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from bench_pool import PG_DEFAULT, log, p50, p95, timed  # noqa: E402

PG_BENCH_DB = "needpool_bench_reports"


# ============================================================== setup (before Django is imported)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requirements", type=int, default=1_000_000, help="requirements (default 1000000)")
    parser.add_argument("--customers", type=int, default=20_000, help="customers (default 20000)")
    parser.add_argument("--database", choices=("sqlite", "postgres"), default=None)
    parser.add_argument("--pg-database", default=PG_BENCH_DB, help=f"PostgreSQL database (default {PG_BENCH_DB})")
    parser.add_argument("--data-dir", default=None, help="default: $NEEDPOOL_DATA_DIR, else var/bench")
    parser.add_argument("--seed", type=int, default=20240301)
    parser.add_argument("--fresh", action="store_true", help="load again even when the database is loaded")
    parser.add_argument("--repeat", type=int, default=7, help="timed runs of each operation (default 7)")
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--budget", type=float, default=40.0, help="seconds one operation may take in all")
    parser.add_argument("--explain", action="store_true", help="print the plan of every query (stderr)")
    parser.add_argument("--no-page", action="store_true", help="skip the page through the test client")
    parser.add_argument(
        "--limit", type=float, default=60.0, help="stop one run of an operation after this many seconds (default 60)"
    )
    parser.add_argument(
        "--reader", choices=("admin", "rep", "both"), default="both", help="whose figures (default both)"
    )
    parser.add_argument("--period", choices=("90", "365", "both"), default="both", help="which periods")
    parser.add_argument("--load-only", action="store_true", help="load (or check the load) and stop")
    parser.add_argument(
        "--no-analyze", action="store_true", help="reusing a load: keep the statistics taken when it was loaded"
    )
    parser.add_argument("--proposals", action="store_true", help="also measure reports_proposals.py's changes")
    parser.add_argument("--output", default=None, help="also write the table to this file")
    parser.add_argument(
        "--snapshots",
        action="store_true",
        help="also measure the dashboard snapshots: the pool estimate, a build, the page served from one",
    )
    parser.add_argument(
        "--snapshots-only",
        action="store_true",
        help="only the raw SQL of each group (not the selectors) and the snapshot rows: the quick run at 1M",
    )
    args = parser.parse_args(argv)
    if args.database is None:
        args.database = "postgres" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite"
    return args


def configure(args: argparse.Namespace) -> str:
    data_dir = Path(args.data_dir or os.environ.get("NEEDPOOL_DATA_DIR") or ROOT / "var" / "bench").resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    os.environ["NEEDPOOL_DATA_DIR"] = str(data_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "needpool.settings"
    os.environ.setdefault("NEEDPOOL_LOG_LEVEL", "ERROR")
    if args.database == "sqlite":
        path = data_dir / f"bench-reports-{args.requirements}.sqlite3"
        if args.fresh:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{path}"
        return f"SQLite {path.name}"
    parts = urlsplit(os.environ.get("DATABASE_URL") or PG_DEFAULT)
    if not parts.scheme.startswith("postgres"):
        parts = urlsplit(PG_DEFAULT)
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    name = args.pg_database
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and args.fresh:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{name}"))
    version = ""
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        row = conn.execute("SHOW server_version").fetchone()
        version = f" {row[0].split()[0]}" if row else ""
    return f"PostgreSQL{version} {parts.hostname}:{parts.port or 5432}/{name}"


def prepare(args: argparse.Namespace) -> float:
    """Migrate, load (or reuse) and analyse; returns the load's anchor time (epoch seconds)."""
    from django.core.management import call_command
    from django.db import connection

    import reports_data

    started = time.monotonic()
    call_command("migrate", verbosity=0)
    marker = reports_data.marker_read(connection)
    if marker is not None and marker[0] == args.requirements and marker[1] == args.seed:
        log(f"reusing the loaded database ({marker[0]:,} requirements, seed {marker[1]})")
        if not args.no_analyze:
            reports_data.analyze(connection)
        return marker[2]
    if marker is not None:
        raise SystemExit(f"the database holds another load ({marker}); run with --fresh")
    anchor = reports_data.load(requirements=args.requirements, customers=args.customers, seed=args.seed)
    log("ANALYZE …")
    reports_data.analyze(connection)
    log(f"loaded in {time.monotonic() - started:,.0f} s")
    return anchor


# ============================================================== the raw SQL


class RawFigures:
    """Hand-written SQL for each figure group, for one reader's scope."""

    def __init__(self, *, scope: str, now: dt.datetime, launch_ids: list[int], close_ids: list[int]) -> None:
        from django.db import connection
        from django.utils import timezone

        self.connection = connection
        self.postgres = connection.vendor == "postgresql"
        self.scope = scope
        self.now = now
        self.today = timezone.localdate(now)
        self.launch = ", ".join(str(i) for i in launch_ids) or "NULL"
        self.close = ", ".join(str(i) for i in close_ids) or "NULL"
        self.tz = timezone.get_current_timezone_name()
        offset = timezone.localtime(now).utcoffset()
        self.offset_hours = int(offset.total_seconds() // 3600) if offset else 0
        self.queries: list[tuple[str, list[Any]]] = []

    # ---------------------------------------------------------- helpers

    def p(self, value: Any) -> Any:
        """A parameter as the ORM would send it (SQLite stores times as UTC text)."""
        if self.postgres:
            return value
        if isinstance(value, dt.datetime):
            return self.connection.ops.adapt_datetimefield_value(value)
        if isinstance(value, dt.date):
            return value.isoformat()
        return value

    def secs(self, later: str, earlier: str) -> str:
        if self.postgres:
            return f"EXTRACT(EPOCH FROM ({later} - {earlier}))"
        return f"(julianday({later}) - julianday({earlier})) * 86400.0"

    def day(self, column: str) -> str:
        if self.postgres:
            return f"({column} AT TIME ZONE '{self.tz}')::date"
        return f"date({column}, '{self.offset_hours:+d} hours')"

    def sql(self, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        params = [self.p(v) for v in params]
        self.queries.append((sql, params))
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def cohort(self, start: dt.datetime, end: dt.datetime) -> tuple[str, list[Any]]:
        return f"{self.scope} AND r.submitted_at >= %s AND r.submitted_at < %s", [start, end]

    def done(self) -> str:
        return "CASE WHEN s.category = 'done' THEN 1 ELSE 0 END"

    def sla_due(self) -> str:
        return (
            "CASE WHEN r.first_response_due IS NOT NULL AND (r.first_responded_at IS NOT NULL "
            "OR r.first_response_due < %s) THEN 1 ELSE 0 END"
        )

    def sla_met(self) -> str:
        return (
            "CASE WHEN r.first_response_due IS NOT NULL AND r.first_responded_at IS NOT NULL "
            "AND r.first_responded_at <= r.first_response_due THEN 1 ELSE 0 END"
        )

    def breached(self) -> str:
        flag = "r.sla_breached" if self.postgres else "r.sla_breached = 1"
        return f"({flag} OR (r.first_responded_at IS NULL AND r.first_response_due < %s))"

    # ---------------------------------------------------------- groups

    def headline(self, start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
        where, params = self.cohort(start, end)
        first_move = (
            "(SELECT MIN(sc.at) FROM requirements_statuschange sc WHERE sc.requirement_id = r.id "
            "AND sc.target_id IN ({ids}))"
        )
        (row,) = self.sql(
            f"SELECT COUNT(*), SUM({self.done()}), SUM({self.sla_due()}), SUM({self.sla_met()}), "
            f"SUM(CASE WHEN {self.breached()} THEN 1 ELSE 0 END), COUNT(r.first_responded_at), "
            f"AVG({self.secs('r.first_responded_at', 'r.submitted_at')}), "
            f"AVG({self.secs(first_move.format(ids=self.launch), 'r.submitted_at')}), "
            f"AVG({self.secs(first_move.format(ids=self.close), 'r.submitted_at')}) "
            "FROM requirements_requirement r JOIN requirements_workflowstatus s ON s.id = r.status_id "
            f"WHERE {where}",
            [self.now, self.now, *params],
        )
        total, resolved, due, met, breached, responded, first, launch, close = row
        return {
            "total": total,
            "resolved": resolved or 0,
            "fulfilment_rate": rate(resolved or 0, total),
            "sla_due": due or 0,
            "sla_met": met or 0,
            "sla_compliance": rate(met or 0, due or 0),
            "sla_breach_count": breached or 0,
            "first_response_count": responded,
            "first_response_avg_hours": None if first is None else round(float(first) / 3600, 1),
            "lead_launch_avg_days": None if launch is None else round(float(launch) / 86400, 1),
            "lead_close_avg_days": None if close is None else round(float(close) / 86400, 1),
        }

    def overdue(self) -> dict[str, Any]:
        (row,) = self.sql(
            "SELECT COUNT(*) FROM requirements_requirement r JOIN requirements_workflowstatus s ON s.id = r.status_id "
            f"WHERE {self.scope} AND s.category IN ('new', 'active') AND r.expected_date < %s",
            [self.today],
        )
        (tasks,) = self.sql(
            "SELECT COUNT(*) FROM delivery_task t WHERE t.status <> 'done' AND t.due_date < %s AND EXISTS ("
            "SELECT 1 FROM delivery_plan_requirements pr JOIN requirements_requirement r ON r.id = pr.requirement_id "
            f"WHERE pr.plan_id = t.plan_id AND {self.scope})",
            [self.today],
        )
        return {"overdue_requirements": row[0], "overdue_tasks": tasks[0]}

    def distributions(self, start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
        where, params = self.cohort(start, end)
        out: dict[str, Any] = {}
        base = "FROM requirements_requirement r "
        for key, column, join in (
            ("by_type", "o.key", "LEFT JOIN requirements_classoption o ON o.id = r.type_id "),
            ("by_priority", "r.priority", ""),
            ("by_value_tier", "r.customer_value", ""),
            ("by_status", "s.key", "JOIN requirements_workflowstatus s ON s.id = r.status_id "),
        ):
            rows = self.sql(f"SELECT {column}, COUNT(*) {base}{join}WHERE {where} GROUP BY {column}", params)
            out[key] = {k or "": n for k, n in rows}
        feedback = (
            "FROM requirements_feedback f JOIN requirements_requirement r ON r.id = f.requirement_id {join}"
            "WHERE f.deleted_at IS NULL AND {where} GROUP BY {column}"
        )
        for key, column, join in (
            ("by_channel", "f.channel", ""),
            ("by_segment", "c.segment", "JOIN customers_customer c ON c.id = f.customer_id "),
            ("by_industry", "c.industry", "JOIN customers_customer c ON c.id = f.customer_id "),
        ):
            rows = self.sql(
                f"SELECT {column}, COUNT(DISTINCT f.requirement_id) "
                + feedback.format(join=join, where=where, column=column),
                params,
            )
            out[key] = {k or "": n for k, n in rows}
        rows = self.sql(
            "SELECT o.key, COUNT(*) FROM requirements_requirement_tags rt "
            "JOIN requirements_requirement r ON r.id = rt.requirement_id "
            "JOIN requirements_classoption o ON o.id = rt.classoption_id "
            f"WHERE {where} GROUP BY o.key, o.label ORDER BY COUNT(*) DESC, o.label LIMIT 10",
            params,
        )
        out["by_tag"] = dict(rows)
        return out

    def lists(self, start: dt.datetime, end: dt.datetime, limit: int = 100) -> dict[str, Any]:
        where, params = self.cohort(start, end)
        moves = (
            "FROM requirements_statuschange sc JOIN requirements_requirement r ON r.id = sc.requirement_id "
            f"WHERE sc.target_id IN ({self.launch}) AND sc.at >= %s AND sc.at < %s AND {self.scope} "
        )
        launched = self.sql(
            f"SELECT sc.requirement_id, r.code, r.title {moves}"
            f"GROUP BY sc.requirement_id, r.code, r.title ORDER BY MIN(sc.at), sc.requirement_id LIMIT {limit}",
            [start, end],
        )
        count = len(launched)
        if count >= limit:
            count = self.sql(f"SELECT COUNT(DISTINCT sc.requirement_id) {moves}", [start, end])[0][0]
        breaches = self.sql(
            "SELECT r.id, r.code, r.title FROM requirements_requirement r "
            f"WHERE {where} AND {self.breached()} ORDER BY r.submitted_at, r.id LIMIT {limit}",
            [*params, self.now],
        )
        return {
            "launched": [tuple(r) for r in launched],
            "launched_count": count,
            "sla_breaches": [tuple(r) for r in breaches],
        }

    def satisfaction(self, start: dt.datetime, end: dt.datetime, nps_scope: str) -> dict[str, Any]:
        (csat,) = self.sql(
            "SELECT AVG(i.score), COUNT(*) FROM loop_surveyinvitation i "
            "JOIN requirements_requirement r ON r.id = i.requirement_id "
            "WHERE i.kind = 'csat' AND i.answered_at >= %s AND i.answered_at < %s AND i.score IS NOT NULL "
            f"AND {self.scope}",
            [start, end],
        )
        (nps,) = self.sql(
            "SELECT SUM(CASE WHEN i.score >= 9 THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN i.score BETWEEN 7 AND 8 THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN i.score <= 6 THEN 1 ELSE 0 END), COUNT(*) FROM loop_surveyinvitation i "
            f"{nps_scope}i.kind = 'nps' AND i.answered_at >= %s AND i.answered_at < %s "
            "AND i.score IS NOT NULL",
            [start, end],
        )
        (effect,) = self.sql(
            "SELECT COUNT(*), "
            "SUM(CASE WHEN e.repurchased THEN 1 ELSE 0 END), COUNT(e.repurchased), "
            "SUM(CASE WHEN e.renewed THEN 1 ELSE 0 END), COUNT(e.renewed), "
            "SUM(CASE WHEN e.referred THEN 1 ELSE 0 END), COUNT(e.referred), "
            "AVG(e.complaint_drop_pct), COUNT(e.complaint_drop_pct), "
            "SUM(CASE WHEN e.met = 'yes' THEN 1 ELSE 0 END), SUM(CASE WHEN e.met = 'partly' THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN e.met <> '' THEN 1 ELSE 0 END) "
            "FROM evaluation_evaluation e JOIN requirements_requirement r ON r.id = e.requirement_id "
            f"WHERE e.completed_at >= %s AND e.completed_at < %s AND {self.scope}",
            [start, end],
        )
        promoters, passives, detractors, n = (v or 0 for v in nps)
        en, rep_yes, rep_n, ren_yes, ren_n, ref_yes, ref_n, complaint, _complaint_n, met_yes, met_partly, met_n = effect
        return {
            "csat_avg": None if csat[0] is None else round(float(csat[0]), 2),
            "csat_count": csat[1],
            "nps": round((promoters - detractors) * 100 / n, 1) if n else None,
            "promoters": promoters,
            "passives": passives,
            "detractors": detractors,
            "nps_count": n,
            "effect_count": en,
            "repurchase_rate": rate(rep_yes or 0, rep_n),
            "renewal_rate": rate(ren_yes or 0, ren_n),
            "referral_rate": rate(ref_yes or 0, ref_n),
            "complaint_drop_avg_pct": None if complaint is None else round(float(complaint), 1),
            "met_rate": rate(met_yes or 0, met_n or 0),
            "met_partly": met_partly or 0,
        }

    def trend(self, start: dt.datetime, end: dt.datetime) -> dict[Any, tuple[int, int]]:
        where, params = self.cohort(start, end)
        day = self.day("r.submitted_at")
        rows = self.sql(
            f"SELECT {day}, COUNT(*), SUM({self.done()}) FROM requirements_requirement r "
            f"JOIN requirements_workflowstatus s ON s.id = r.status_id WHERE {where} GROUP BY {day}",
            params,
        )
        return {(d if isinstance(d, dt.date) else dt.date.fromisoformat(d)): (n, done) for d, n, done in rows}

    def _group_columns(self) -> str:
        return (
            f"COUNT(*), SUM({self.done()}), SUM({self.sla_due()}), SUM({self.sla_met()}), "
            f"AVG({self.secs('r.first_responded_at', 'r.submitted_at')})"
        )

    def breakdowns(self, start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
        """Per owner, team, segment, industry: total, resolved, SLA due / met, first response; overdue per key."""
        where, params = self.cohort(start, end)
        status = "JOIN requirements_workflowstatus s ON s.id = r.status_id "
        out: dict[str, Any] = {}
        overdue = f"{self.scope} AND s.category IN ('new', 'active') AND r.expected_date < %s"
        for key, column, join in (
            ("owner", "r.owner_id", ""),
            ("team", "u.team_id", "LEFT JOIN accounts_user u ON u.id = r.owner_id "),
        ):
            rows = self.sql(
                f"SELECT {column}, {self._group_columns()} FROM requirements_requirement r {status}{join}"
                f"WHERE {where} GROUP BY {column}",
                [self.now, *params],
            )
            late = self.sql(
                f"SELECT {column}, COUNT(*) FROM requirements_requirement r {status}{join}"
                f"WHERE {overdue} GROUP BY {column}",
                [self.today],
            )
            out[key] = (group_rows(rows), dict(late))
        for key in ("segment", "industry"):
            pairs = (
                f"SELECT DISTINCT f.requirement_id AS rid, c.{key} AS v FROM requirements_feedback f "
                "JOIN customers_customer c ON c.id = f.customer_id "
                "JOIN requirements_requirement r ON r.id = f.requirement_id WHERE f.deleted_at IS NULL AND {where}"
            )
            rows = self.sql(
                f"SELECT x.v, {self._group_columns()} FROM ({pairs.format(where=where)}) x "
                f"JOIN requirements_requirement r ON r.id = x.rid {status}GROUP BY x.v",
                [self.now, *params],
            )
            late = self.sql(
                f"SELECT c.{key}, COUNT(DISTINCT f.requirement_id) FROM requirements_feedback f "
                "JOIN customers_customer c ON c.id = f.customer_id "
                f"JOIN requirements_requirement r ON r.id = f.requirement_id {status}"
                f"WHERE f.deleted_at IS NULL AND {overdue} GROUP BY c.{key}",
                [self.today],
            )
            out[key] = (group_rows(rows), dict(late))
        return out

    def funnel(self, start: dt.datetime, end: dt.datetime) -> dict[str, tuple[int, float | None]]:
        where, params = self.cohort(start, end)
        stay = self.secs("COALESCE(x.next_at, %s)", "x.at")
        rows = self.sql(
            f"SELECT s.key, COUNT(DISTINCT x.requirement_id), AVG({stay}) FROM ("
            "SELECT sc.requirement_id, sc.target_id, sc.at, "
            "LEAD(sc.at) OVER (PARTITION BY sc.requirement_id ORDER BY sc.at, sc.id) AS next_at "
            "FROM requirements_statuschange sc JOIN requirements_requirement r ON r.id = sc.requirement_id "
            f"WHERE {where}) x JOIN requirements_workflowstatus s ON s.id = x.target_id GROUP BY s.key",
            [self.now, *params],
        )
        return {k: (n, None if avg is None else round(float(avg) / 86400, 1)) for k, n, avg in rows}


def rate(part: int, whole: int) -> float | None:
    return round(part * 100 / whole, 1) if whole else None


def group_rows(rows: list[tuple[Any, ...]]) -> dict[Any, dict[str, Any]]:
    return {
        key: {
            "total": total,
            "resolved": resolved or 0,
            "sla_due": due or 0,
            "sla_met": met or 0,
            "first_response_avg_hours": None if first is None else round(float(first) / 3600, 1),
        }
        for key, total, resolved, due, met, first in rows
    }


class Stopped(Exception):
    """An operation ran past ``--limit`` and its query was interrupted."""


# ============================================================== the ORM side (what summary() / dashboard() call)


@dataclass
class Reader:
    label: str
    user: Any
    scope: str
    nps_scope: str


@dataclass
class Row:
    reader: str
    period: str
    what: str
    orm: list[float]
    raw: list[float]
    queries: int = 0
    raw_queries: int = 0


class Bench:
    def __init__(self, args: argparse.Namespace, anchor: float) -> None:
        from django.db import connection
        from django.test import Client
        from django.utils import timezone

        from needpool.accounts.models import User
        from needpool.reports import figures_queries as q
        from needpool.reports.filters import ReportFilters

        self.args = args
        self.connection = connection
        self.q = q
        self.now = timezone.now()
        self.today = timezone.localdate(self.now)
        self.total = self._count()
        self.periods = {
            "90 days": ReportFilters.default(today=self.today),
            "1 year": ReportFilters(start=self.today - dt.timedelta(days=364), end=self.today, grain="month"),
        }
        admin = User.objects.get(username="bench_admin")
        rep = User.objects.get(username="bench_sales_01")
        live = "r.deleted_at IS NULL AND r.merged_into_id IS NULL"
        visible_customer = f"(c0.owner_id = {rep.pk} OR c0.owner_id IS NULL OR o0.team_id = {rep.team_id})"
        rep_scope = (
            f"{live} AND (r.owner_id = {rep.pk} OR r.created_by_id = {rep.pk} OR EXISTS ("
            "SELECT 1 FROM requirements_feedback f0 JOIN customers_customer c0 ON c0.id = f0.customer_id "
            "LEFT JOIN accounts_user o0 ON o0.id = c0.owner_id WHERE f0.requirement_id = r.id "
            f"AND f0.deleted_at IS NULL AND {'NOT f0.scope_vote' if self._pg() else 'f0.scope_vote = 0'} "
            f"AND {visible_customer}))"
        )
        rep_nps = (
            "JOIN customers_customer c0 ON c0.id = i.customer_id AND c0.deleted_at IS NULL "
            f"LEFT JOIN accounts_user o0 ON o0.id = c0.owner_id WHERE {visible_customer} AND "
        )
        self.readers = [
            Reader("admin (whole pool)", admin, live, ""),
            Reader(f"sales rep ({rep.username})", rep, rep_scope, rep_nps),
        ]
        self.client = Client()
        self.rows: list[Row] = []
        self.mismatches: list[str] = []
        self.notes: list[str] = []

    def _pg(self) -> bool:
        return bool(self.connection.vendor == "postgresql")

    def _count(self) -> int:
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM requirements_requirement")
            return int(cursor.fetchone()[0])

    # ---------------------------------------------------------- measuring

    def limited(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn``, stopping its queries after ``--limit`` seconds (raises ``Stopped``)."""
        from django.db import OperationalError

        limit = self.args.limit
        deadline = time.monotonic() + limit
        self.connection.ensure_connection()
        raw = self.connection.connection
        if self._pg():
            with self.connection.cursor() as cursor:
                cursor.execute(f"SET statement_timeout = {int(limit * 1000)}")
        else:
            raw.set_progress_handler(lambda: 1 if time.monotonic() > deadline else 0, 100_000)
        try:
            return fn()
        except OperationalError as exc:
            if time.monotonic() >= deadline or "cancel" in str(exc) or "interrupt" in str(exc):
                raise Stopped from exc
            raise
        finally:
            if self._pg():
                with self.connection.cursor() as cursor:
                    cursor.execute("SET statement_timeout = 0")
            else:
                raw.set_progress_handler(None, 0)

    def measure(self, fn: Callable[[], Any], where: str) -> tuple[Any, list[str], list[float]]:
        """The value and queries of one run, then the timed runs; a run past ``--limit`` stops it (inf), a
        database error is noted (nan)."""
        from django.db import DatabaseError

        a = self.args
        try:
            value, queries = self.queries_of(lambda: self.limited(fn))
            self.explain(where, queries)
            return value, queries, timed(lambda: self.limited(fn), a.repeat, a.warmup, a.budget)
        except Stopped:
            self.notes.append(f"{where}: a run took longer than {a.limit:.0f} s and was stopped")
            return None, [], [float("inf")]
        except (DatabaseError, ArithmeticError) as exc:  # a figure that fails at this size is a finding too
            self.connection.close()  # a failed statement may leave the session unusable
            self.notes.append(f"{where}: failed with {type(exc).__name__}: {str(exc).strip()}")
            return None, [], [float("nan")]

    def queries_of(self, fn: Callable[[], Any]) -> tuple[Any, list[str]]:
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(self.connection) as ctx:
            value = fn()
        return value, [c["sql"] for c in ctx.captured_queries]

    def explain(self, title: str, queries: list[str]) -> None:
        if not self.args.explain:
            return
        prefix = "EXPLAIN ANALYZE " if self._pg() else "EXPLAIN QUERY PLAN "
        log(f"\n### {title}")
        for sql in queries:
            if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
                continue
            log(f"-- {sql[:600]}{'…' if len(sql) > 600 else ''}")
            try:
                with self.connection.cursor() as cursor:
                    cursor.execute(prefix + sql)
                    for row in cursor.fetchall():
                        log("   " + " | ".join(str(c) for c in row))
            except Exception as exc:
                log(f"   (no plan: {exc})")

    def explain_raw(self, title: str, raw: RawFigures) -> None:
        if not self.args.explain:
            return
        prefix = "EXPLAIN ANALYZE " if self._pg() else "EXPLAIN QUERY PLAN "
        log(f"\n### {title} (raw SQL)")
        for sql, params in raw.queries:
            log(f"-- {sql[:600]}")
            with self.connection.cursor() as cursor:
                cursor.execute(prefix + sql, params)
                for row in cursor.fetchall():
                    log("   " + " | ".join(str(c) for c in row))

    def pair(
        self,
        reader: Reader,
        period: str,
        what: str,
        orm: Callable[[], Any],
        raw_fn: Callable[[RawFigures], Any],
        check: Callable[[Any, Any, str], None],
        *,
        proposal: bool = False,
    ) -> None:
        """Time one figure group through the selectors and as raw SQL, and check they give the same numbers;
        with ``--proposals`` and ``proposal``, also through the proposed query change."""
        where = f"{reader.label} · {period} · {what}"
        a = self.args
        if a.snapshots_only:  # the raw SQL only: what a page from a snapshot is compared with
            made: list[RawFigures] = []

            def run_raw() -> Any:
                made.append(self.raw_for(reader))
                return raw_fn(made[-1])

            raw_times = timed(run_raw, a.repeat, a.warmup, a.budget)
            self.rows.append(Row(reader.label, period, what, [], raw_times, 0, len(made[-1].queries)))
            log(f"{where}: raw {p50(raw_times):.1f} ms")
            return
        raw = self.raw_for(reader)
        raw_value = raw_fn(raw)
        raw_queries = len(raw.queries)
        self.explain_raw(where, raw)
        raw_times = timed(lambda: raw_fn(self.raw_for(reader)), a.repeat, a.warmup, a.budget)
        value, queries, orm_times = self.measure(orm, where)
        if value is not None:
            check(value, raw_value, where)
        self.rows.append(Row(reader.label, period, what, orm_times, raw_times, len(queries), raw_queries))
        log(f"{where}: {p50(orm_times):.1f} ms (raw {p50(raw_times):.1f} ms, {len(queries)} / {raw_queries} queries)")
        if proposal and a.proposals:
            from reports_proposals import proposed

            with proposed():
                value, queries, times = self.measure(orm, where + " · proposed")
                if value is not None:
                    check(value, raw_value, where + " · proposed")
            row = Row(reader.label, period, what + " · proposed", times, raw_times, len(queries), raw_queries)
            self.rows.append(row)
            log(f"{where} · proposed: {p50(times):.1f} ms")

    def raw_for(self, reader: Reader) -> RawFigures:
        status_info = self.q.statuses()
        return RawFigures(
            scope=reader.scope, now=self.now, launch_ids=status_info.launch_ids, close_ids=status_info.close_ids
        )

    # ---------------------------------------------------------- checks

    def same(self, where: str, ours: Any, theirs: Any, tolerance: float = 0.0) -> None:
        """Numbers equal (rounded averages may differ by the last digit when a value sits on .x5)."""
        if isinstance(ours, float) and isinstance(theirs, float):
            if abs(ours - theirs) <= tolerance + 1e-9:
                return
        elif ours == theirs:
            return
        self.mismatches.append(f"{where}: selector {ours!r} ≠ raw SQL {theirs!r}")

    def check_dict(self, where: str, ours: dict[str, Any], theirs: dict[str, Any]) -> None:
        for key, value in theirs.items():
            if key not in ours:
                continue
            tol = 0.011 if key == "csat_avg" else 0.11 if isinstance(value, float) else 0.0
            self.same(f"{where} {key}", ours[key], value, tol)

    # ---------------------------------------------------------- the groups

    def run_reader(self, reader: Reader) -> None:
        for period, filters in self.periods.items():
            if self.args.period in ("both", period.split()[0].replace("1", "365")):
                self.run_period(reader, period, filters)

    def run_period(self, reader: Reader, period: str, filters: Any) -> None:
        from needpool.reports import metrics
        from needpool.reports.selectors import period_bounds, report_requirements, sliced_requirements

        q = self.q
        start, end = period_bounds(filters)
        user, now, today = reader.user, self.now, self.today

        def cohort() -> Any:
            return report_requirements(user, filters)

        def sliced() -> Any:
            return sliced_requirements(user, filters)

        def headline() -> Any:
            status_info = q.statuses()
            out = q.headline(cohort(), now=now, status_info=status_info)
            if hasattr(q, "lead_times"):  # lead times are their own query since they became grouped sums
                out.update(q.lead_times(cohort(), status_info=status_info))
            return out

        def check_headline(ours: Any, raw: Any, where: str) -> None:
            self.check_dict(where, ours, raw)

        self.pair(
            reader,
            period,
            "headline: counts, fulfilment, SLA, lead times",
            headline,
            lambda r: r.headline(start, end),
            check_headline,
            proposal=True,
        )

        def overdue() -> Any:
            return {
                "overdue_requirements": q.overdue_requirements(sliced(), today=today),
                "overdue_tasks": q.overdue_tasks(sliced(), today=today),
            }

        self.pair(
            reader,
            period,
            "overdue requirements and tasks",
            overdue,
            lambda r: r.overdue(),
            check_headline,
            proposal=True,
        )

        def distributions() -> Any:
            c = cohort()
            return {
                "by_type": q.by_option(c, "type", none_label="-"),
                "by_channel": q.by_feedback(c, "channel", {}, none_label="-"),
                "by_priority": q.by_field(c, "priority", {}, none_label="-"),
                "by_status": q.by_status(c, q.statuses()),
                "by_segment": q.by_feedback(c, "customer__segment", {}, none_label="-"),
                "by_industry": q.by_feedback(c, "customer__industry", None, none_label="-"),
                "by_value_tier": q.by_field(c, "customer_value", {}, none_label="-"),
                "by_tag": q.top_tags(c, metrics.TOP_TAGS),
            }

        def check_distributions(ours: Any, raw: Any, where: str) -> None:
            for key, counts in raw.items():
                mine = {k: n for k, _label, n in ours[key]}
                self.same(f"{where} {key}", mine, {k: n for k, n in counts.items() if n})

        self.pair(
            reader,
            period,
            "distributions (8 group-bys)",
            distributions,
            lambda r: r.distributions(start, end),
            check_distributions,
        )

        def lists() -> Any:
            status_info = q.statuses()
            launched, count = q.launched(
                sliced(), start=start, end=end, status_info=status_info, limit=metrics.LIST_LIMIT
            )
            breaches = q.sla_breaches(cohort(), now=now, limit=metrics.LIST_LIMIT)
            return {"launched": launched, "launched_count": count, "sla_breaches": breaches}

        self.pair(
            reader,
            period,
            "lists: launched, SLA breaches",
            lists,
            lambda r: r.lists(start, end),
            check_headline,
            proposal=True,
        )

        def satisfaction() -> Any:
            out = q.csat(sliced(), start=start, end=end)
            out.update(q.nps(user, filters, start=start, end=end))
            out.update(q.effect(sliced(), start=start, end=end))
            return out

        nps_scope = reader.nps_scope or "WHERE "
        self.pair(
            reader,
            period,
            "satisfaction: CSAT, NPS, business effect",
            satisfaction,
            lambda r: r.satisfaction(start, end, nps_scope),
            check_headline,
            proposal=True,
        )

        def check_same(ours: Any, raw: Any, where: str) -> None:
            self.same(where, ours, raw)

        self.pair(
            reader,
            period,
            "trend: per day",
            lambda: q.per_day(cohort()),
            lambda r: r.trend(start, end),
            check_same,
            proposal=True,
        )

        def breakdowns() -> Any:
            out = {}
            for key, fields in (("owner", ["owner_id"]), ("team", ["owner__team_id"])):
                out[key] = q.by_requirement_field(cohort(), sliced(), fields, now=now)
            for key in ("segment", "industry"):
                out[key] = q.by_customer_field(cohort(), sliced(), key, now=now)
            return out

        def check_breakdowns(ours: Any, raw: Any, where: str) -> None:
            for key, (groups, late) in raw.items():
                rows, their_late = ours[key]
                field = {"owner": "owner_id", "team": "owner__team_id"}.get(key, f"customer__{key}")
                mine = {
                    row[field]: {
                        "total": row["total"],
                        "resolved": row["resolved"],
                        "sla_due": row["sla_due"],
                        "sla_met": row["sla_met"],
                        "first_response_avg_hours": self.q.hours(row["first_response"]),
                    }
                    for row in rows
                }
                for group, numbers in groups.items():
                    self.check_dict(f"{where} by {key} {group}", mine.get(group, {}), numbers)
                self.same(f"{where} by {key} groups", sorted(map(str, mine)), sorted(map(str, groups)))
                self.same(f"{where} overdue by {key}", dict(their_late), late)

        self.pair(
            reader,
            period,
            "breakdowns: owner, team, segment, industry",
            breakdowns,
            lambda r: r.breakdowns(start, end),
            check_breakdowns,
            proposal=True,
        )

        def current() -> dict[str, int]:
            return {key: n for key, _label, n in q.by_status(cohort(), q.statuses())}

        counts = current()

        def check_funnel(ours: Any, raw: Any, where: str) -> None:
            for key, (n, stay) in raw.items():
                got = ours.get(key, (None, None))
                self.same(f"{where} funnel {key} reached", got[0], n)
                self.same(f"{where} funnel {key} days", got[1], stay, 0.11)

        self.pair(
            reader,
            period,
            "status funnel: reached, days in status",
            lambda: q.time_in_status(cohort(), now=now, current=counts),
            lambda r: r.funnel(start, end),
            check_funnel,
            proposal=True,
        )

        # the whole figures, as the page builds them
        if self.args.snapshots_only:
            self.snapshot_rows(reader, period, filters)
            return
        self.whole(
            reader,
            period,
            "summary()",
            lambda: metrics.summary(user=user, filters=filters, now=now),
            ("headline", "overdue", "distributions", "lists", "satisfaction"),
        )
        self.whole(reader, period, "dashboard()", lambda: metrics.dashboard(user=user, filters=filters, now=now), None)
        if not self.args.no_page:
            self.page(reader, period, filters)
        if self.args.snapshots:
            self.snapshot_rows(reader, period, filters)

    def whole(self, reader: Reader, period: str, what: str, fn: Callable[[], Any], groups: Any) -> None:
        """``summary()`` / ``dashboard()`` whole, against the sum of the raw groups it covers (p50 of each)."""
        try:
            _value, queries, times = self.measure(fn, f"{reader.label} · {period} · {what}")
        except NotImplementedError:
            self.notes.append(f"{what} is not implemented yet: not measured")
            return
        a = self.args
        mine = [
            r
            for r in self.rows
            if r.reader == reader.label
            and r.period == period
            and "·" not in r.what
            and r.raw_queries
            and (groups is None or r.what.split(":")[0].split(" ")[0] in groups)
        ]
        raw = [sum(p50(r.raw) for r in mine)] * len(times)
        self.rows.append(Row(reader.label, period, what, times, raw, len(queries), sum(r.raw_queries for r in mine)))
        log(f"{reader.label} · {period} · {what}: {p50(times):.1f} ms (raw groups {raw[0]:.1f} ms)")
        if a.proposals:
            from reports_proposals import proposed

            with proposed():
                _value, queries, times = self.measure(fn, f"{reader.label} · {period} · {what} · proposed")
            self.rows.append(
                Row(
                    reader.label,
                    period,
                    what + " · proposed",
                    times,
                    raw,
                    len(queries),
                    sum(r.raw_queries for r in mine),
                )
            )
            log(f"{reader.label} · {period} · {what} · proposed: {p50(times):.1f} ms")

    def page(self, reader: Reader, period: str, filters: Any) -> None:
        """The page computed when asked (the live path, whatever the pool's size)."""
        from django.test import override_settings

        with override_settings(NEEDPOOL_REPORTS_LIVE_MAX=10**12):
            self._page(reader, period, filters)

    def _dashboard_raw(self, reader: Reader, period: str) -> list[float]:
        """The sum of the raw SQL of every group the dashboard shows (p50 of each), as ``whole`` adds them."""
        mine = [r for r in self.rows if r.reader == reader.label and r.period == period]
        whole = [r for r in mine if r.what == "dashboard()"]
        if whole:
            return whole[0].raw
        mine = [r for r in mine if "·" not in r.what and r.raw_queries and r.what[0].isalpha()]
        mine = [r for r in mine if not r.what.startswith(("summary()", "snapshot", "page"))]
        return [sum(p50(r.raw) for r in mine)] if mine else [float("nan")]

    def snapshot_rows(self, reader: Reader, period: str, filters: Any) -> None:
        """Snapshots: the pool estimate the policy makes on every request, one build (``dashboard()``, its JSON
        and the row written), and ``GET /reports/`` served from the snapshot — against the raw SQL of the
        dashboard's numbers."""
        from django.test import override_settings
        from django.urls import reverse
        from django.utils import translation

        from needpool.reports import services, snapshots
        from needpool.reports.dashboard_views import parse_filters
        from needpool.reports.models import DashboardSnapshot

        a = self.args
        raw_sum = self._dashboard_raw(reader, period)
        cap = snapshots.live_max()
        if not any(r.what.startswith("snapshot: pool estimate") for r in self.rows):
            live = "deleted_at IS NULL AND merged_into_id IS NULL"
            sql = f"SELECT COUNT(*) FROM (SELECT 1 FROM requirements_requirement WHERE {live} LIMIT {cap + 1}) t"

            def raw_estimate() -> Any:
                with self.connection.cursor() as cursor:
                    cursor.execute(sql)
                    return cursor.fetchone()[0]

            raw_times = timed(raw_estimate, max(a.repeat, 5), 1, a.budget)
            value, queries, times = self.measure(lambda: snapshots.live_pool_size(cap), "pool estimate")
            self.rows.append(
                Row("any reader", "any", f"snapshot: pool estimate (cap {cap:,})", times, raw_times, len(queries), 1)
            )
            log(f"pool estimate: {p50(times):.1f} ms → {value:,} ({'snapshots' if value > cap else 'live'})")
        query = {"start": filters.start.isoformat(), "end": filters.end.isoformat()}
        _form, parsed = parse_filters(reader.user, query, today=self.today)
        assert parsed is not None
        snapshot, _created = DashboardSnapshot.objects.get_or_create(
            scope_key=snapshots.scope_key(reader.user),
            filters_key=snapshots.filters_key(parsed, translation.get_language() or "zh-hans"),
            defaults={"requested_at": self.now, "reader": reader.user},
        )
        DashboardSnapshot.objects.filter(pk=snapshot.pk).update(building_since=None)
        where = f"{reader.label} · {period} · snapshot build"

        def build() -> Any:
            assert services.dashboard_snapshot_build(snapshot=snapshot, user=reader.user)

        _value, queries, times = self.measure(build, where)
        what = "snapshot build: dashboard() + JSON + row"
        self.rows.append(Row(reader.label, period, what, times, raw_sum, len(queries)))
        log(f"{where}: {p50(times):.1f} ms")
        snapshot.refresh_from_db()
        if snapshot.document is None:
            self.notes.append(f"{where}: no document was stored; the page from a snapshot is not measured")
            return
        self.client.force_login(reader.user)
        url = reverse("reports:dashboard")
        # A pool below the threshold is computed live: a small run serves the snapshot anyway (threshold 0).
        threshold = cap if self.total > cap else 0
        if threshold != cap:
            self.notes.append(f"{self.total:,} requirements ≤ {cap:,}: the page from a snapshot ran with threshold 0")
        with override_settings(NEEDPOOL_REPORTS_SNAPSHOT_MAX_AGE=24 * 3600, NEEDPOOL_REPORTS_LIVE_MAX=threshold):
            first = self.client.get(url, query)
            if b'id="report-document"' not in first.content or b'id="report-stale"' not in first.content:
                self.notes.append(f"{where}: the page did not come from the snapshot; not measured")
                return

            def get() -> Any:
                answer = self.client.get(url, query)
                assert answer.status_code == 200
                return answer.content

            _value, queries, times = self.measure(get, f"{reader.label} · {period} · page from snapshot")
        self.rows.append(
            Row(reader.label, period, "**page from snapshot** GET /reports/", times, raw_sum, len(queries))
        )
        log(f"{reader.label} · {period} · page from snapshot: {p50(times):.1f} ms (raw {raw_sum[0]:.1f} ms)")

    def _page(self, reader: Reader, period: str, filters: Any) -> None:
        from django.urls import reverse

        self.client.force_login(reader.user)
        url = reverse("reports:dashboard")
        query = {"start": filters.start.isoformat(), "end": filters.end.isoformat()}
        from django.db import DatabaseError

        try:
            response = self.limited(lambda: self.client.get(url, query))
        except Stopped:
            self.notes.append(f"page for {reader.label}, {period}: took longer than {self.args.limit:.0f} s, stopped")
            return
        except (DatabaseError, ArithmeticError) as exc:
            self.connection.close()
            self.notes.append(f"page for {reader.label}, {period}: failed with {type(exc).__name__}: {exc}")
            return
        if response.status_code != 200:
            self.notes.append(f"page {url} answered {response.status_code} for {reader.label}: not measured")
            return

        def get() -> Any:
            answer = self.client.get(url, query)
            assert answer.status_code == 200
            return answer.content

        _value, queries, times = self.measure(get, f"{reader.label} · {period} · page")
        dash = [r for r in self.rows if r.reader == reader.label and r.period == period and r.what == "dashboard()"]
        dash = dash or [
            r for r in self.rows if r.reader == reader.label and r.period == period and r.what == "summary()"
        ]
        raw = dash[0].raw if dash else [float("nan")]
        self.rows.append(Row(reader.label, period, "page: GET /reports/ (test client)", times, raw, len(queries)))
        log(f"{reader.label} · {period} · page: {p50(times):.1f} ms")

    # ---------------------------------------------------------- report

    def table(self, database: str) -> str:
        lines = [
            f"Measured on {dt.date.today():%Y-%m-%d} on this {os.cpu_count()}-core machine "
            f"({platform.python_implementation()} {platform.python_version()}), {database}, "
            f"{self.total:,} requirements; p50 of up to {self.args.repeat} runs after {self.args.warmup} warm-up.",
            "",
            "| reader | period | figures | selector p50 ms | p95 | raw SQL p50 ms | ratio | queries (ORM / raw) |",
            "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        for r in self.rows:
            raw = p50(r.raw)
            if not r.orm:  # --snapshots-only: the raw SQL alone
                lines.append(f"| {r.reader} | {r.period} | {r.what} | (not run) | | {raw:.1f} | | / {r.raw_queries} |")
                continue
            if math.isinf(p50(r.orm)) or math.isnan(p50(r.orm)):
                stopped = f"> {self.args.limit * 1000:.0f} (stopped)" if math.isinf(p50(r.orm)) else "error"
                lines.append(f"| {r.reader} | {r.period} | {r.what} | {stopped} | | {raw:.1f} | | / {r.raw_queries} |")
                continue
            ratio = p50(r.orm) / raw if raw and raw == raw else float("nan")
            lines.append(
                f"| {r.reader} | {r.period} | {r.what} | {p50(r.orm):.1f} | {p95(r.orm):.1f} | {raw:.1f} | "
                f"{ratio:.1f}× | {r.queries} / {r.raw_queries or ''} |"
            )
        if self.notes:
            lines += ["", *[f"- {n}" for n in dict.fromkeys(self.notes)]]
        if self.mismatches:
            lines += ["", "Numbers that differ:", *[f"- {m}" for m in self.mismatches]]
        else:
            lines += ["", "Every number compared equal between the selectors and the raw SQL."]
        return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    database = configure(args)
    import django

    django.setup()
    anchor = prepare(args)
    if args.load_only:
        return 0
    bench = Bench(args, anchor)
    for reader in bench.readers:
        if args.reader == "both" or reader.label.startswith("admin" if args.reader == "admin" else "sales"):
            bench.run_reader(reader)
    table = bench.table(database)
    print(table)
    if args.output:
        Path(args.output).write_text(table + "\n", encoding="utf-8")
    return 1 if bench.mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
