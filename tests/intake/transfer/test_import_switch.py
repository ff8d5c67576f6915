"""An import on SQLite works on a private copy and switches its rows in with one short transaction.

The test database lives in memory: ``file_database`` hands the import a file holding the same data, as a
deployment has, while the switch writes into the test database itself.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from django.db import connection, transaction

from needpool.core.config import site_config
from needpool.core.models import BackgroundJob
from needpool.customers.models import Customer
from needpool.customers.services import customer_create
from needpool.intake.transfer.imports import snapshot, staging
from needpool.intake.transfer.services import IMPORT_RUN, import_execute
from needpool.requirements.models import Requirement
from needpool.requirements.selectors import requirement_list
from tests.intake.transfer.conftest import INTAKE_HEADERS

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def file_database(tmp_path, monkeypatch, settings):
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite write lock")
    settings.DATA_DIR = tmp_path
    name = str(connection.settings_dict["NAME"])
    path = tmp_path / "main.sqlite3"

    def as_file() -> str:
        path.unlink(missing_ok=True)
        with sqlite3.connect(name, uri=name.startswith("file:")) as source, sqlite3.connect(path) as target:
            source.backup(target)
        return str(path)

    monkeypatch.setattr(snapshot, "_sqlite_file", as_file)
    site_config()  # an installation has its settings row; made lazily, it would be one more conflict
    return path


def _other_writer() -> sqlite3.Connection:
    """Someone else on the live database, who must never wait (inside the work, ``connection`` is the copy)."""
    name = str(staging_live["connection"].settings_dict["NAME"])
    return sqlite3.connect(name, uri=name.startswith("file:"), timeout=0, isolation_level=None)


def _sequence(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def _work(actor: Any, names: list[str], during: Any = None, seen: list[str] | None = None) -> Any:
    """An import in miniature: services in one transaction, after-commit hooks held for the switch."""

    def work(hooks: staging.Hooks | None) -> dict[str, Any]:
        with transaction.atomic():
            made = [customer_create(actor=actor, name=name) for name in names]
            if seen is not None:
                transaction.on_commit(lambda: seen.append(str(Customer.objects.filter(name=names[0]).exists())))
            if during:
                during()
            if hooks is not None:
                staging.hold_after_commit(hooks)
        return {"codes": [c.code for c in made], "ids": [c.pk for c in made], "failed": False}

    return work


def test_the_rows_land_with_the_ids_codes_and_hooks_they_had_in_the_copy(users, file_database):
    seen: list[str] = []
    live_writes: list[int] = []

    def during() -> None:
        # while the import works, the live database takes a writer at once (nobody holds its lock) …
        other = _other_writer()
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            live_writes.append(1)
        finally:
            other.close()
        # … and nothing of the import is there yet
        with staging_live["connection"].cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM customers_customer WHERE name = %s", ["导入甲"])
            assert cursor.fetchone()[0] == 0
        assert seen == []  # the hook waits for the switch

    result = staging.staged_import(
        _work(users["admin"], ["导入甲", "导入乙"], during, seen), rows=2, failed=lambda r: r["failed"]
    )
    assert live_writes == [1]
    made = {c.name: c for c in Customer.objects.filter(name__in=["导入甲", "导入乙"])}
    assert sorted(c.pk for c in made.values()) == sorted(result["ids"])  # the same ids as in the copy
    assert sorted(c.code for c in made.values()) == sorted(result["codes"])
    assert seen == ["True"]  # the after-commit hook ran after the switch, against the live rows
    # the unused end of the reserved block is given back: the next id follows the imported ones
    assert _sequence("customers_customer") == max(result["ids"])
    assert not list((file_database.parent / "jobs").glob("import-*"))  # the copy is gone


def test_someone_creating_meanwhile_gets_other_ids_and_other_codes(users, file_database):
    mine: list[Customer] = []

    def during() -> None:
        # same table, same code counter, on the live database while the import works on its copy
        mine.append(_create_live(users["admin"], "同时新建"))

    result = staging.staged_import(_work(users["admin"], ["导入丙"], during), rows=1, failed=lambda r: r["failed"])
    imported = Customer.objects.get(name="导入丙")
    assert imported.pk == result["ids"][0]
    assert mine[0].pk != imported.pk and mine[0].code != imported.code
    assert Customer.objects.filter(name="同时新建").count() == 1


def _create_live(actor: Any, name: str) -> Customer:
    """Create on the real database from inside the import's work (which runs on the copy)."""
    live = staging_live["connection"]
    from django.db import connections

    saved = connections["default"]
    connections["default"] = live
    try:
        return customer_create(actor=actor, name=name)
    finally:
        connections["default"] = saved


staging_live: dict[str, Any] = {}


@pytest.fixture(autouse=True)
def _remember_live():
    from django.db import connections

    staging_live["connection"] = connections["default"]
    yield
    staging_live.clear()


def test_a_row_changed_meanwhile_is_a_conflict_and_the_import_runs_again_on_a_fresh_copy(
    users, file_database, customer
):
    runs: list[str] = []

    def work(hooks: staging.Hooks | None) -> dict[str, Any]:
        with transaction.atomic():
            target = Customer.objects.get(pk=customer.pk)
            runs.append(target.notes)
            target.notes = (target.notes + " 导入补充").strip()
            target.save(update_fields=["notes"])
            if len(runs) == 1:  # someone edits the same customer on the live database meanwhile
                other = _other_writer()
                try:
                    other.execute("UPDATE customers_customer SET notes = '同时修改' WHERE id = ?", (customer.pk,))
                finally:
                    other.close()
            if hooks is not None:
                staging.hold_after_commit(hooks)
        return {"failed": False}

    staging.staged_import(work, rows=1, failed=lambda r: r["failed"])
    assert runs == ["", "同时修改"]  # the second run saw the other person's change
    assert Customer.objects.get(pk=customer.pk).notes == "同时修改 导入补充"  # neither change is lost


def test_a_failed_import_writes_nothing_and_gives_its_reserved_ids_back(users, file_database):
    before = _sequence("customers_customer")
    result = staging.staged_import(
        lambda hooks: {**_work(users["admin"], ["失败的导入"])(hooks), "failed": True},
        rows=5,
        failed=lambda r: r["failed"],
    )
    assert result["failed"]
    assert not Customer.objects.filter(name="失败的导入").exists()
    assert _sequence("customers_customer") == before


def test_after_repeated_conflicts_the_import_runs_on_the_database_itself(users, file_database, monkeypatch):
    attempts: list[int] = []

    def conflicting(*args: Any, **kwargs: Any) -> int:
        attempts.append(1)
        raise staging.SwitchConflict("always")

    monkeypatch.setattr(staging, "_switch", conflicting)
    result = staging.staged_import(_work(users["admin"], ["直接导入"]), rows=1, failed=lambda r: r["failed"])
    assert len(attempts) == staging.ATTEMPTS
    assert Customer.objects.get(name="直接导入").pk == result["ids"][0]


def test_more_new_rows_than_reserved_meeting_someone_elses_is_a_conflict_then_a_bigger_block(
    users, file_database, monkeypatch
):
    monkeypatch.setattr(staging, "MIN_BLOCK", 1)
    monkeypatch.setattr(staging, "IDS_PER_ROW", 1)
    switches: list[int] = []
    original = staging._switch

    def counted(*args: Any, **kwargs: Any) -> int:
        switches.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(staging, "_switch", counted)
    names = [f"超出预留 {i}" for i in range(3)]
    result = staging.staged_import(
        _work(users["admin"], names, lambda: len(switches) or _create_live(users["admin"], "预留之后")),
        rows=1,
        failed=lambda r: r["failed"],
    )
    # the first switch met the other person's row on an id past the one-id block; the second had room
    assert len(switches) == 2
    imported = list(Customer.objects.filter(name__in=names))
    assert sorted(c.pk for c in imported) == sorted(result["ids"]) and len(imported) == 3
    assert Customer.objects.filter(name="预留之后").count() == 1


def test_an_import_job_switches_its_requirements_in_searchable_and_complete(users, customer, file_database, settings):
    rows = [INTAKE_HEADERS]
    rows += [
        [f"SW{i:03d}", "A科技公司", "", "销售沟通", "功能", f"切换导入第 {i} 条批量折扣需求", "", "", ""]
        for i in range(5)
    ]
    stored = settings.MEDIA_ROOT / "imports" / "switch.csv"
    stored.parent.mkdir(parents=True, exist_ok=True)
    stored.write_text("\n".join(",".join(r) for r in rows), encoding="utf-8")
    job = BackgroundJob.objects.create(
        kind=IMPORT_RUN, created_by=users["admin"], total=5, params={"file": "imports/switch.csv", "layout": ""}
    )
    done = import_execute(job_id=job.pk)
    assert done is not None and done.status == BackgroundJob.Status.DONE, done.message if done else None
    assert Requirement.objects.filter(code__startswith="SW").count() == 5
    # the full-text index of the live database followed the switch (its triggers fired)
    found = requirement_list(user=users["admin"], filters={"q": "批量折扣"})
    assert {r.code for r in found} >= {f"SW{i:03d}" for i in range(5)}
    assert all(r.feedback_items.exists() for r in Requirement.objects.filter(code__startswith="SW"))


def test_copies_a_killed_import_left_behind_are_deleted_after_a_day(settings, tmp_path):
    import os
    import time

    from needpool.intake.transfer.services import import_files_cleanup

    settings.DATA_DIR = tmp_path
    jobs = tmp_path / "jobs"
    jobs.mkdir()
    old, fresh, other = jobs / "import-a.sqlite3", jobs / "preview-b.sqlite3-wal", jobs / "import-1.json"
    for path in (old, fresh, other):
        path.write_bytes(b"x")
    two_days_ago = time.time() - 2 * 86400
    os.utime(old, (two_days_ago, two_days_ago))
    os.utime(other, (two_days_ago, two_days_ago))
    import_files_cleanup()
    assert not old.exists()
    assert fresh.exists()  # a copy in use by a running job is fresh
    assert other.exists()  # progress files are not copies
