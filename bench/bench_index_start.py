"""How long a starting process takes to get its duplicate index, and how much memory: built from the database,
or mapped from the machine's snapshot (``requirements.dedup.snapshot``).

Each case runs in fresh processes on an existing bench database (``bench_pool.py`` / ``bench_pages.py``
``--keep``), with the sentence encoder off (the lexical index is what grows with the pool). Reported: wall
time of ``get_index().ensure_fresh()``, the process's peak RSS, and the baseline measured in the same run: the
raw ``SELECT`` of the columns the index reads (psycopg / sqlite3, no Django).

    .venv/bin/python bench/bench_index_start.py --database sqlite --file /tmp/npbench/bench-300000.sqlite3
    NEEDPOOL_BENCH_DB=needpool_bench_1m .venv/bin/python bench/bench_index_start.py --database postgres

Cases: ``build`` (no snapshot: the process reads and indexes every row, then writes the snapshot), ``map``
(the snapshot is there), ``two at once`` (no snapshot, two processes start together: one builds, the other waits
for it and maps). Nothing asserts a time; the table goes to stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import json, os, resource, sys, time
import django
django.setup()
from django.db import connection
if sys.argv[1] == "raw":
    started = time.perf_counter()
    raw = connection.connection if connection.connection else (connection.ensure_connection() or connection.connection)
    cursor = raw.cursor()
    cursor.execute("SELECT id, title, description, concrete_ask, background, updated_at FROM requirements_requirement")
    rows = cursor.fetchall()
    seconds = time.perf_counter() - started
    count = len(rows)
else:
    from needpool.requirements.dedup.index import get_index
    started = time.perf_counter()
    index = get_index()
    index.ensure_fresh()
    seconds = time.perf_counter() - started
    count = index.size
    assert (index.builds, index.loads) != (0, 0)
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "rss_mb": rss, "rows": count,
                  "how": sys.argv[1] if sys.argv[1] == "raw" else ("mapped" if index.loads else "built")}))
"""


def child_env(args: argparse.Namespace, data_dir: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "needpool.settings",
        "NEEDPOOL_DATA_DIR": str(data_dir),
        "NEEDPOOL_DEDUP_EMBEDDINGS": "0",
        "NEEDPOOL_WARMUP": "0",
        "PYTHONPATH": str(ROOT / "src"),
    }
    if args.database == "sqlite":
        env["DATABASE_URL"] = f"sqlite:///{Path(args.file).resolve()}"
    else:
        name = os.environ.get("NEEDPOOL_BENCH_DB", "needpool_bench")
        env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{name}"
    return env


def start(env: dict[str, str], mode: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, mode], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def result(process: subprocess.Popen[str]) -> dict[str, float | str]:
    out, err = process.communicate(timeout=3600)
    if process.returncode:
        raise SystemExit(err[-3000:])
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--file", default="", help="the SQLite bench database")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="np-index-start-"))
    env = child_env(args, data_dir)
    rows: list[tuple[str, dict[str, float | str]]] = []
    try:
        for _ in range(args.repeat):
            rows.append(("raw SELECT (baseline)", result(start(env, "raw"))))
            shutil.rmtree(data_dir / "cache", ignore_errors=True)
            rows.append(("build (no snapshot)", result(start(env, "index"))))
            rows.append(("map (snapshot there)", result(start(env, "index"))))
            shutil.rmtree(data_dir / "cache", ignore_errors=True)
            began = time.perf_counter()
            pair = [start(env, "index"), start(env, "index")]
            both = [result(p) for p in pair]
            wall = time.perf_counter() - began
            for one in sorted(both, key=lambda r: str(r["how"])):
                rows.append((f"two at once: {one['how']} (both ready in {wall:.1f} s)", one))
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    print(f"| case ({args.database}) | rows | seconds | peak RSS MB |")
    print("| --- | ---: | ---: | ---: |")
    for name, one in rows:
        print(f"| {name} | {int(one['rows']):,} | {float(one['seconds']):.2f} | {float(one['rss_mb']):,.0f} |")


if __name__ == "__main__":
    main()
