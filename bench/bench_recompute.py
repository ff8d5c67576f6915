"""Recomputing every priority after a model change, against one SQL UPDATE of the same column.

Reuses the database ``bench_pool.py`` loaded (same --requirements / --database / --data-dir), gives
every requirement random matrix inputs (1–5) once, then measures in one run:

* raw SQL: a single ``UPDATE analysis_requirementanalysis SET computed_priority = CASE … END`` —
  the quadrant rule written by hand, nothing else;
* Needpool: the background job a weight change queues (``analysis.tasks.recompute_priorities``):
  per range of primary keys, the requirements whose priority has to follow (one SELECT joined to the
  requirements) and one UPDATE of score, priority, "why" parts, error and version, each row's inputs
  looked up in a table of every input combination scored by the Python function; the requirements'
  effective priority kept in step (audit and notices for those that change), progress on the job row.

The first run after loading changes almost every requirement's priority (the loaded priorities are
random), so its time is mostly the audit rows and notices of those changes; run it twice and read the
second for the recompute itself. ``NEEDPOOL_BENCH_DB`` names the PostgreSQL bench database.

    scripts/bench --requirements 1000000 --keep                         # load once (bench_pool)
    .venv/bin/python bench/bench_recompute.py --requirements 1000000    # then this

Prints a markdown table; nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

import bench_pool  # noqa: E402


def seed_inputs() -> int:
    """Give every requirement an analysis row with random matrix inputs (once)."""
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM analysis_requirementanalysis")
        have = cursor.fetchone()[0]
        cursor.execute("SELECT COUNT(*) FROM requirements_requirement")
        want = cursor.fetchone()[0]
        if have >= want:
            return have
        rand = "abs(random()) % 5 + 1" if connection.vendor == "sqlite" else "floor(random() * 5 + 1)::int"
        now = "CURRENT_TIMESTAMP"
        with transaction.atomic():
            cursor.execute(
                "INSERT INTO analysis_requirementanalysis (requirement_id, urgency_score, importance_score, "
                "criteria_scores, moscow, computed_model, computed_parts, computed_error, computed_version, "
                "computed_priority, override_priority, override_reason, pain_points, value_statement, root_cause, "
                "resources, compliance_status, compliance_note, created_at, updated_at) "
                f"SELECT r.id, {rand}, {rand}, '{{}}', '', '', '{{}}', '', 0, "
                f"'', '', '', '', '', '', '', 'pending', '', {now}, {now} FROM requirements_requirement r "
                "WHERE NOT EXISTS (SELECT 1 FROM analysis_requirementanalysis a WHERE a.requirement_id = r.id)"
            )
        cursor.execute("SELECT COUNT(*) FROM analysis_requirementanalysis")
        return cursor.fetchone()[0]


RAW_UPDATE = (
    "UPDATE analysis_requirementanalysis SET computed_priority = CASE "
    "WHEN urgency_score >= %s AND importance_score >= %s THEN 'P0' "
    "WHEN importance_score >= %s THEN 'P1' "
    "WHEN urgency_score >= %s THEN 'P2' ELSE 'P3' END"
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requirements", type=int, default=100_000)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default=None)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--batch", type=int, default=None, help="rows per batch of the job (default: the service's)")
    parser.add_argument("--cutoffs", default="3,4", help="matrix cutoffs to switch to, one run each (default 3,4)")
    parser.add_argument("--output", default=None)
    args = parser.parse_args(argv)
    pool_args = bench_pool.parse_args(
        ["--requirements", str(args.requirements), "--keep"]
        + (["--database", args.database] if args.database else [])
        + (["--data-dir", args.data_dir] if args.data_dir else [])
    )
    where = bench_pool.configure(pool_args)
    import django

    django.setup()
    from django.db import connection, transaction

    from needpool.analysis import services
    from needpool.analysis.models import AnalysisSettings
    from needpool.analysis.tasks import recompute_priorities
    from needpool.core.models import BackgroundJob

    bench_pool.load(pool_args)
    rows = seed_inputs()
    bench_pool.log(f"{rows:,} analysed requirements in {where}")

    results: list[tuple[str, float]] = []
    for cutoff in (int(c) for c in args.cutoffs.split(",")):
        with connection.cursor() as cursor, transaction.atomic():
            started = time.perf_counter()
            cursor.execute(RAW_UPDATE, [cutoff] * 4)
            raw = time.perf_counter() - started
        results.append((f"raw SQL UPDATE (cutoff {cutoff})", raw))

        config = services.analysis_settings()
        AnalysisSettings.objects.filter(pk=config.pk).update(
            active_model="matrix", matrix_cutoff=cutoff, version=config.version + 1
        )
        version = config.version + 1
        job = BackgroundJob.objects.create(kind="priority_recompute", total=rows, params={"version": version})
        if args.batch:
            services.priority.RECOMPUTE_BATCH = args.batch
        started = time.perf_counter()
        recompute_priorities.call_local(job.pk)
        ours = time.perf_counter() - started
        job.refresh_from_db()
        assert job.status == BackgroundJob.Status.DONE, job.status
        results.append((f"Needpool recompute job (cutoff {cutoff}, {job.done:,} rows)", ours))

    lines = [
        f"Priority recompute, {rows:,} requirements, {where.split()[0]}",
        "",
        "| operation | seconds | rows/s | ratio to raw SQL |",
        "| --- | ---: | ---: | ---: |",
    ]
    for (raw_name, raw), (name, ours) in zip(results[::2], results[1::2], strict=True):
        lines.append(f"| {raw_name} | {raw:.2f} | {rows / raw:,.0f} | 1.0 |")
        lines.append(f"| {name} | {ours:.2f} | {rows / ours:,.0f} | {ours / raw:.1f}× |")
    table = "\n".join(lines)
    print(table)
    if args.output:
        Path(args.output).write_text(table + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
