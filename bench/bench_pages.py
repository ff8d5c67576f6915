"""Every page and endpoint a user opens, at scale: p50 / p95, size, statements, and the share of the time
the database itself took (issue: speed at scale, point 5).

Loads the pool the way ``bench_pool.py`` does (same generator, same ``--keep``), logs in as a manager (who
sees the whole pool) and requests each path of ``PATHS`` ``--repeat`` times after one warm-up, in the same
process (Django's test client: middleware, views, templates, serialisation; no network). "SQL ms" is the
database time of the statements the request ran (``connection.queries``), the baseline the request is
compared with: "× SQL" = p50 / SQL p50. A page whose own work is its statements is close to 1×; a large ratio
means rendering, serialisation or per-row Python.

    .venv/bin/python bench/bench_pages.py --keep                     # SQLite, 100,000 requirements
    .venv/bin/python bench/bench_pages.py --keep --database postgres
    .venv/bin/python bench/bench_pages.py --keep --paths /requirements/ /archive/

Nothing asserts a time; the table goes to bench/README.md.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_pool

#: Pages and endpoints, the detail pages last (``{requirement}`` is the newest requirement's id).
PATHS = [
    "/",
    "/requirements/",
    "/requirements/?status=in_progress",
    "/requirements/?q=批量折扣",
    "/requirements/board/",
    "/requirements/feedback/",
    "/customers/",
    "/analysis/",
    "/analysis/ranked/",
    "/reports/",
    "/reviews/",
    "/delivery/",
    "/delivery/plans/",
    "/loop/",
    "/loop/notices/",
    "/evaluation/all/",
    "/archive/",
    "/api/v1/requirements/",
    "/api/v1/requirements/?status=in_progress",
    "/api/v1/feedback/",
    "/api/v1/customers/",
    "/api/v1/analysis/demand/",
    "/api/v1/analysis/ranked/",
    "/api/v1/analysis/matrix/",
    "/requirements/{requirement}/",
    "/archive/requirements/{requirement}/",
    "/api/v1/requirements/{requirement}/",
]


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    paths = PATHS
    if "--paths" in argv:
        at = argv.index("--paths")
        paths = [p for p in argv[at + 1 :] if not p.startswith("--")]
        argv = argv[:at] + [p for p in argv[at + 1 :] if p.startswith("--")]
    args = bench_pool.parse_args(argv)
    where = bench_pool.configure(args)
    import django

    django.setup()
    bench_pool.load(args)

    from django.db import connection
    from django.test import Client

    from needpool.accounts.models import User
    from needpool.accounts.roles import Role
    from needpool.requirements.models import Requirement

    manager = User.objects.filter(username="bench_manager").first() or User.objects.create_user(
        username="bench_manager", password=None, role=Role.MANAGER
    )
    client = Client()
    client.force_login(manager)
    newest = Requirement.objects.order_by("-id").values_list("id", flat=True).first()
    count = Requirement.objects.count()
    rows: list[dict[str, Any]] = []
    for template in paths:
        path = template.format(requirement=newest)
        client.get(path)  # warm-up: templates, caches
        times, sql = [], []
        status, size, statements = 0, 0, 0
        for _ in range(max(1, args.repeat)):
            timer = _StatementTimer()
            with connection.execute_wrapper(timer):
                started = time.perf_counter()
                response = client.get(path)
                times.append((time.perf_counter() - started) * 1000)
            sql.append(timer.seconds * 1000)
            status, size, statements = response.status_code, len(response.content), timer.count
        if args.explain:  # the plan of every SELECT the page ran (to stderr)
            from django.test.utils import CaptureQueriesContext

            with CaptureQueriesContext(connection) as captured:
                client.get(path)
            bench_pool.explain_queries(connection, path, [q["sql"] for q in captured.captured_queries])
        p50, p95 = statistics.median(times), _p95(times)
        sql_p50 = statistics.median(sql)
        rows.append(
            {
                "path": template,
                "status": status,
                "p50": p50,
                "p95": p95,
                "sql": sql_p50,
                "ratio": p50 / sql_p50 if sql_p50 >= 0.5 else None,
                "kb": size / 1024,
                "queries": statements,
            }
        )
        bench_pool.log(f"{path}: {status} p50 {p50:.1f} ms, SQL {sql_p50:.1f} ms, {size / 1024:.0f} KB")
    print(
        f"Measured on {time.strftime('%Y-%m-%d')}, {where}, {count:,} requirements, {args.repeat} runs per path "
        "after one warm-up; signed in as a manager (sees the whole pool).\n"
    )
    print("| path | status | p50 ms | p95 ms | SQL p50 ms | × SQL | KB | statements |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        ratio = f"{r['ratio']:.1f}×" if r["ratio"] is not None else "—"
        print(
            f"| `{r['path']}` | {r['status']} | {r['p50']:.1f} | {r['p95']:.1f} | {r['sql']:.1f} | {ratio} | "
            f"{r['kb']:.0f} | {r['queries']} |"
        )
    slow = [r["path"] for r in rows if r["p50"] > 200]
    if slow:
        print(f"\nOver 200 ms p50: {', '.join(slow)}")
    return 0


class _StatementTimer:
    """Times every statement a request runs (``connection.queries`` rounds each to a millisecond)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.count = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started
            self.count += 1


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


if __name__ == "__main__":
    raise SystemExit(main())
