"""The product keeps the planner's statistics fresh itself, and a starting process loads what requests need."""

from __future__ import annotations

import logging
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection

from needpool.core import dbstats, warmup
from needpool.core.models import BackgroundJob

pytestmark = pytest.mark.django_db


def _stat_rows(table: str) -> int:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")
            if not cursor.fetchone()[0]:
                return 0
            cursor.execute("SELECT count(*) FROM sqlite_stat1 WHERE tbl = %s", [table])
        else:
            cursor.execute("SELECT count(*) FROM pg_stats WHERE tablename = %s", [table])
        return int(cursor.fetchone()[0])


def _forget_statistics() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")
            if cursor.fetchone()[0]:
                cursor.execute("DELETE FROM sqlite_stat1")


def test_a_refresh_gathers_statistics_for_the_pool(requirement: Any) -> None:
    _forget_statistics()
    assert _stat_rows("requirements_requirement") == 0
    if connection.vendor == "sqlite":
        assert dbstats.planner_statistics_missing()
    assert dbstats.planner_statistics_refresh() >= 0
    assert _stat_rows("requirements_requirement") > 0
    assert not dbstats.planner_statistics_missing()


def test_a_failed_refresh_is_logged_not_raised(monkeypatch: Any, caplog: Any) -> None:
    from django.db import DatabaseError

    class Broken:
        vendor = connection.vendor

        def cursor(self) -> Any:
            raise DatabaseError("database is locked")

    monkeypatch.setattr(dbstats, "connections", {"default": Broken()})
    with caplog.at_level(logging.WARNING, logger="needpool.core.dbstats"):
        assert dbstats.planner_statistics_refresh() == -1.0
    assert "database is locked" in caplog.text


def test_the_demo_volume_load_refreshes_statistics(monkeypatch: Any) -> None:
    calls: list[str] = []
    monkeypatch.setattr(
        "needpool.demo.management.commands.np_demo.planner_statistics_refresh", lambda: calls.append("x") or 0.1
    )
    call_command("np_demo", "--requirements", "5", "--customers", "2", "--no-examples", "--quiet", "--seed", "1")
    assert calls == ["x"]
    calls.clear()
    call_command("np_demo", "--no-examples", "--quiet")  # nothing bulk-written: nothing to refresh
    assert calls == []


@pytest.mark.parametrize(
    ("status", "total", "refreshed"),
    [
        (BackgroundJob.Status.DONE, 1000, True),
        (BackgroundJob.Status.DONE, 999, False),
        (BackgroundJob.Status.FAILED, 5000, False),
    ],
)
def test_a_large_finished_import_refreshes_statistics(
    monkeypatch: Any, status: str, total: int, refreshed: bool
) -> None:
    from needpool.intake.transfer import tasks

    calls: list[str] = []
    monkeypatch.setattr(tasks, "import_run", lambda job_id: SimpleNamespace(status=status, total=total, params={}))
    monkeypatch.setattr(tasks, "planner_statistics_refresh", lambda: calls.append("x") or 0.1)
    tasks.import_run_job.call_local(7)
    assert bool(calls) is refreshed


def test_warm_up_runs_every_step_and_survives_a_failing_one(monkeypatch: Any, caplog: Any) -> None:
    ran: list[str] = []
    monkeypatch.setattr(warmup, "_steps", {"one": lambda: ran.append("one"), "bad": lambda: 1 / 0})
    monkeypatch.setattr(dbstats, "planner_statistics_missing", lambda: True)
    monkeypatch.setattr(dbstats, "planner_statistics_refresh", lambda: ran.append("stats") or 0.0)
    with caplog.at_level(logging.WARNING, logger="needpool.core.warmup"):
        timings = warmup.warm_up()
    assert ran == ["stats", "one"]
    assert set(timings) == {"planner statistics", "one", "bad"}
    assert "bad failed" in caplog.text


def test_the_apps_register_what_first_requests_wait_for() -> None:
    assert {"jieba", "duplicate index", "suggestions"} <= set(warmup._steps)


def test_the_registered_steps_load_without_error(requirement: Any, caplog: Any) -> None:
    with caplog.at_level(logging.WARNING, logger="needpool.core.warmup"):
        timings = warmup.warm_up()
    assert "failed" not in caplog.text
    assert {"jieba", "duplicate index", "suggestions"} <= set(timings)
    from needpool.requirements.dedup.index import get_index

    assert get_index().main is not None


@pytest.mark.parametrize(("value", "enabled"), [("0", False), ("off", False), ("1", True), ("", True)])
def test_warm_up_can_be_switched_off(monkeypatch: Any, value: str, enabled: bool) -> None:
    if value:
        monkeypatch.setenv("NEEDPOOL_WARMUP", value)
    else:
        monkeypatch.delenv("NEEDPOOL_WARMUP", raising=False)
    assert warmup.warmup_enabled() is enabled
