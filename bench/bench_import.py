"""Importing and exporting a 100,000-row sheet, against a raw SQL insert of the same rows.

Builds a fresh database (SQLite file, or PostgreSQL via DATABASE_URL / --database postgres), some
customers with contacts, and an .xlsx in the 客户需求信息表 layout (one requirement per row: code,
customer, contact, source, type, description, expected date in mixed text formats, tags, submitted at).
Then measures, in one run:

* reading the file and finding its header (calamine);
* the preview: the whole import in a transaction that is rolled back (every row through the services);
* the import itself (one transaction, committed);
* a second preview of the same file, now "unchanged" on every row (lookups and comparisons only);
* exporting the imported rows to XLSX and to CSV;
* the baseline, as the import issue defines it: read the same sheet with calamine, then plain ``INSERT``
  statements (executemany, one transaction) of the same requirement (index text included, as the import
  stored it), feedback and tag rows with every foreign key already resolved — no parsing, no validation, no
  audit, no history, no segmenting.

"end to end" is the preview plus the import (the upload only stores the file); its rows/s as a share of the
baseline's is the issue's measure (goal ≥ 50 %).

    .venv/bin/python bench/bench_import.py                       # 100,000 rows, SQLite
    .venv/bin/python bench/bench_import.py --rows 10000 --database postgres

Prints a markdown table; nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

PG_DEFAULT = "postgres://postgres@127.0.0.1:5432/postgres"
PG_BENCH_DB = "needpool_bench_import"
CUSTOMERS = 500
DATE_FORMATS = ("{d:%Y-%m-%d}", "{d.year}/{d.month}/{d.day}", "{d.year}年{d.month}月{d.day}日", "{d.year}年Q{q}")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def configure(args: argparse.Namespace) -> str:
    data_dir = Path(args.data_dir or os.environ.get("NEEDPOOL_DATA_DIR") or ROOT / "var" / "bench").resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    os.environ["NEEDPOOL_DATA_DIR"] = str(data_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "needpool.settings"
    os.environ.setdefault("NEEDPOOL_LOG_LEVEL", "ERROR")
    database = args.database or ("postgres" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite")
    if database == "sqlite":
        path = data_dir / "bench-import.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{path}"
        return "SQLite"
    parts = urlsplit(os.environ.get("DATABASE_URL") or PG_DEFAULT)
    if not parts.scheme.startswith("postgres"):
        parts = urlsplit(PG_DEFAULT)
    import psycopg

    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {PG_BENCH_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {PG_BENCH_DB}")
    os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{PG_BENCH_DB}"))
    return "PostgreSQL"


def prepare(rows: int, path: Path) -> tuple[object, list[tuple[int, str, int]]]:
    """Users, customers with a contact each, and the sheet.

    Returns the importing user and [(customer id, customer name, contact id)].
    """
    from django.core.management import call_command
    from openpyxl import Workbook

    from needpool.accounts.models import User
    from needpool.customers.models import Contact, Customer
    from needpool.customers.services import contact_create, customer_create
    from needpool.intake.transfer.imports.layouts import INTAKE

    call_command("migrate", verbosity=0)
    user = User.objects.create_user(username="bench-pm", password="x", role="product_manager")  # noqa: S106
    for i in range(CUSTOMERS):
        customer = customer_create(actor=user, name=f"导入客户{i:04d}", industry="制造", yearly_purchase=i * 20_000)
        contact_create(actor=user, customer=customer, name=f"联系人{i % 7}", phone="010-62345678")
    customers = [
        (c.pk, c.name, Contact.objects.filter(customer=c).values_list("pk", flat=True)[0])
        for c in Customer.objects.order_by("pk")
    ]
    types = ["功能", "功能优化", "体验", "问题反馈", "服务"]
    tags = ["批量操作/效率提升", "功能建议", "", "服务投诉", "价格咨询/批量操作"]
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("客户需求信息表")
    sheet.append(INTAKE.headers("zh-hans"))
    start = dt.date(2024, 1, 1)
    for i in range(rows):
        _pk, name, _contact = customers[i % len(customers)]
        day = start + dt.timedelta(days=i % 700)
        expected = DATE_FORMATS[i % len(DATE_FORMATS)].format(d=day, q=(day.month - 1) // 3 + 1)
        sheet.append(
            [
                f"IMP{i:07d}",
                name,
                f"联系人{(i // len(customers)) % 7}" if i % 3 else "",
                "销售沟通",
                types[i % len(types)],
                f"客户希望批量导出第 {i} 号报表，并按部门细分权限，减少每月人工对账时间",
                expected,
                tags[i % len(tags)],
                dt.datetime(2024, 1, 1, 9, 0) + dt.timedelta(minutes=i),
            ]
        )
    workbook.save(path)
    return user, customers


def raw_insert(
    rows: int, user_id: int, customers: list[tuple[int, str, int]], path: Path, index_texts: list[str]
) -> None:
    """Read the same sheet with calamine, then insert the same rows as plain INSERTs (executemany, one
    transaction), every id resolved beforehand and the index text taken from what the import stored: the
    database's and the file reader's own share of the work."""
    from django.db import connection, transaction
    from django.utils import timezone

    from needpool.intake.transfer.imports.reading import data_rows, find_header, read_file
    from needpool.requirements.models import ClassOption, WorkflowStatus
    from needpool.requirements.services import active_workflow

    sheet = read_file(path)
    assert sum(1 for _row in data_rows(sheet, find_header(sheet))) == rows

    status_id = WorkflowStatus.objects.get(workflow=active_workflow(), is_initial=True).pk
    type_ids = list(ClassOption.objects.filter(dimension="type").values_list("pk", flat=True))
    tag_ids = list(ClassOption.objects.filter(dimension="tag").values_list("pk", flat=True))
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM requirements_requirement")
        first = cursor.fetchone()[0] + 1
        requirement_rows = []
        feedback_rows = []
        tag_rows = []
        for i in range(rows):
            pk = first + i
            customer, _name, contact = customers[i % len(customers)]
            text = f"客户希望批量导出第 {i} 号报表，并按部门细分权限，减少每月人工对账时间"
            submitted = now - dt.timedelta(minutes=i)
            requirement_rows.append(
                (pk, f"RAW{i:07d}", text[:60], text, "", "", dt.date(2024, 6, 30), type_ids[i % len(type_ids)],
                 status_id, "", "high", user_id, user_id, submitted, False, index_texts[i % len(index_texts)], now, now,
                 1)
            )  # fmt: skip
            feedback_rows.append((customer, contact, "sales", text, submitted, "", 1, pk, user_id, now, now, False))
            tag_rows.append((pk, tag_ids[i % len(tag_ids)]))
        cursor.executemany(
            "INSERT INTO requirements_requirement (id, code, title, description, background, concrete_ask, "
            "expected_date, type_id, status_id, priority, customer_value, owner_id, created_by_id, submitted_at, "
            "sla_breached, search_text, created_at, updated_at, version) VALUES "
            "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            requirement_rows,
        )
        cursor.executemany(
            "INSERT INTO requirements_feedback (customer_id, contact_id, channel, raw_text, received_at, sentiment, "
            "importance, requirement_id, created_by_id, created_at, updated_at, scope_vote) VALUES "
            "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            feedback_rows,
        )
        cursor.executemany(
            "INSERT INTO requirements_requirement_tags (requirement_id, classoption_id) VALUES (%s, %s)", tag_rows
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default=None)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--output", default=None)
    args = parser.parse_args(argv)
    where = configure(args)
    import django

    django.setup()
    from django.db import connection

    from needpool.intake.transfer import exports
    from needpool.intake.transfer.imports.layouts import INTAKE
    from needpool.intake.transfer.imports.reading import count_data_rows, find_header, read_file
    from needpool.intake.transfer.services import run_import
    from needpool.requirements.models import Requirement

    path = Path(os.environ["NEEDPOOL_DATA_DIR"]) / f"bench-import-{args.rows}.xlsx"
    log(f"preparing {where} and a {args.rows:,}-row sheet …")
    user, customers = prepare(args.rows, path)
    log(f"sheet: {path.stat().st_size / 1024 / 1024:.1f} MB")
    timings: list[tuple[str, float, str]] = []

    def timed(name: str, action, note: str = "") -> object:  # type: ignore[no-untyped-def]
        log(f"{name} …")
        started = time.perf_counter()
        value = action()
        seconds = time.perf_counter() - started
        timings.append((name, seconds, note))
        log(f"  {seconds:.1f} s")
        return value

    sheet = timed("read the file and find the header (calamine)", lambda: read_file(path))
    assert count_data_rows(sheet, find_header(sheet)) == args.rows  # type: ignore[arg-type]

    def report(done: int, total: int) -> None:
        if done % 10_000 == 0:
            log(f"  {done:,} / {total:,}")

    preview = timed(
        "preview: dry run, rolled back", lambda: run_import(actor=user, path=path, dry_run=True, on_progress=report)
    )
    assert preview.counts["create"] == args.rows, (preview.counts, preview.errors[:5])  # type: ignore[attr-defined]
    result = timed(
        "import: one transaction, committed",
        lambda: run_import(actor=user, path=path, dry_run=False, on_progress=report),
    )
    assert result.counts["create"] == args.rows  # type: ignore[attr-defined]
    assert Requirement.objects.filter(code__startswith="IMP").count() == args.rows
    again = timed(
        "preview again: every row unchanged",
        lambda: run_import(actor=user, path=path, dry_run=True, on_progress=report),
    )
    assert again.counts["unchanged"] == args.rows, again.counts  # type: ignore[attr-defined]

    def export_xlsx() -> None:
        target = path.with_name("bench-export.xlsx")
        exports.write_xlsx(INTAKE, exports.requirement_records(user=user, filters={}, layout="intake"), target)

    def export_csv() -> None:
        response = exports.csv_response(INTAKE, exports.requirement_records(user=user, filters={}, layout="intake"))
        for _chunk in response.streaming_content:
            pass

    timed("export XLSX (write-only openpyxl)", export_xlsx)
    timed("export CSV (streamed)", export_csv)
    index_texts = list(
        Requirement.objects.filter(code__startswith="IMP").order_by("code").values_list("search_text", flat=True)
    )
    timed(
        "raw: read with calamine + SQL INSERT of the same rows (baseline)",
        lambda: raw_insert(args.rows, user.pk, customers, path, index_texts),  # type: ignore[attr-defined]
    )

    raw = timings[-1][1]
    end_to_end = timings[1][1] + timings[2][1]
    timings.insert(3, ("end to end: preview + import", end_to_end, ""))
    version = connection.vendor
    lines = [
        f"Import / export of {args.rows:,} rows (客户需求信息表), {where} ({version}), {len(customers)} customers",
        "",
        "| operation | seconds | rows/s | × raw | rows/s as % of raw |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name, seconds, _note in timings:
        share = 100 * raw / seconds
        lines.append(f"| {name} | {seconds:.1f} | {args.rows / seconds:,.0f} | {seconds / raw:.1f}× | {share:.1f} % |")
    table = "\n".join(lines)
    print(table)
    if args.output:
        Path(args.output).write_text(table + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
