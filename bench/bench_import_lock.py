"""How long another write waits while a big sheet is previewed or imported (SQLite).

On SQLite a writing transaction holds the whole database's write lock; every other writer waits up to the
busy timeout (20 s), then fails with "database is locked" (a 503 page since the busy middleware). This runs
a preview or an import of an N-row 客户需求信息表 in a background thread and, meanwhile, creates a requirement
through ``requirement_create`` every 0.2 s from the main thread, recording how long each create took.

Compared, in one run on one fresh database:

* preview in the database: the dry run on the database itself (how previews ran before);
* preview on a private copy: the dry run as the preview job runs it now (``imports.snapshot``);
* import (one transaction): the real import, all or nothing (unchanged: it still holds the lock).

    .venv/bin/python bench/bench_import_lock.py --rows 2000

Prints a markdown table; nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args(argv)
    import bench_import

    args.database = "sqlite"
    bench_import.configure(args)
    import os

    import django

    django.setup()
    from django.db import OperationalError, close_old_connections, connection

    from needpool.intake.transfer.imports.snapshot import private_database
    from needpool.intake.transfer.services import run_import
    from needpool.requirements.services import requirement_create

    path = Path(os.environ["NEEDPOOL_DATA_DIR"]) / f"bench-lock-{args.rows}.xlsx"
    bench_import.log(f"preparing a {args.rows:,}-row sheet …")
    user, _customers = bench_import.prepare(args.rows, path)

    def preview_in_database() -> None:
        run_import(actor=user, path=path, dry_run=True)

    def preview_on_copy() -> None:
        with private_database() as private:
            assert private
            run_import(actor=user, path=path, dry_run=True)

    def import_for_real() -> None:
        run_import(actor=user, path=path, dry_run=False)

    rows = []
    for name, action in (
        ("preview in the database (before)", preview_in_database),
        ("preview on a private copy (now)", preview_on_copy),
        ("import, one transaction (unchanged)", import_for_real),
    ):
        bench_import.log(f"{name} …")
        done = threading.Event()

        def run(action=action, done=done) -> None:  # type: ignore[no-untyped-def]
            try:
                action()
            finally:
                close_old_connections()
                connection.close()
                done.set()

        started = time.perf_counter()
        thread = threading.Thread(target=run)
        thread.start()
        waits: list[float] = []
        failures = 0
        n = 0
        while not done.is_set():
            n += 1
            began = time.perf_counter()
            try:
                requirement_create(actor=user, title=f"并发新建 {name[:6]} {n}")
            except OperationalError:
                failures += 1
            waits.append(time.perf_counter() - began)
            time.sleep(0.2)
        thread.join()
        seconds = time.perf_counter() - started
        rows.append((name, seconds, len(waits), max(waits), statistics.median(waits), failures))
        bench_import.log(f"  {seconds:.1f} s, longest wait {max(waits):.2f} s, failed {failures}")

    lines = [
        f"Another write during the work on a {args.rows:,}-row sheet, SQLite (busy timeout 20 s)",
        "",
        "| work running | its seconds | writes tried | longest write ms | median write ms | failed (locked) |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, seconds, tried, longest, median, failures in rows:
        lines.append(f"| {name} | {seconds:.1f} | {tried} | {longest * 1000:.0f} | {median * 1000:.0f} | {failures} |")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
