"""The SQLite write gate (``needpool.core.sqlite``): a transaction holds ``<database>.gate`` from its BEGIN to its end,
whatever ends it; a writer that waits longer than the timeout is told the database is locked; writers racing on
one file all get through with nothing lost."""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connections, transaction
from django.db.utils import OperationalError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from needpool.core.sqlite.base import DatabaseWrapper


def _wrapper(path: Path, alias: str, timeout: float = 5) -> DatabaseWrapper:
    return DatabaseWrapper(
        {
            "ENGINE": "needpool.core.sqlite",
            "NAME": str(path),
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": timeout},
            "TIME_ZONE": None,
            "CONN_MAX_AGE": 0,
            "CONN_HEALTH_CHECKS": False,
            "AUTOCOMMIT": True,
            "ATOMIC_REQUESTS": False,
            "USER": "",
            "PASSWORD": "",
            "HOST": "",
            "PORT": "",
            "TEST": {},
        },
        alias=alias,
    )


def _gate_taken(path: Path) -> bool:
    """Whether someone holds the gate (asked through a descriptor of our own)."""
    fd = os.open(f"{path}.gate", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


@pytest.fixture(autouse=True)
def _own_files(django_db_blocker) -> Iterator[None]:
    """These tests open SQLite files of their own, not the test database."""
    with django_db_blocker.unblock():
        yield


@pytest.fixture
def db_file(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "gate.sqlite3"
    setup = _wrapper(path, "gate_setup")
    with setup.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("CREATE TABLE counter (n INTEGER NOT NULL)")
        cursor.execute("INSERT INTO counter VALUES (0)")
    setup.close()
    yield path


@pytest.fixture
def probe(db_file: Path) -> Iterator[DatabaseWrapper]:
    """A wrapper registered as connection ``gate_probe`` of this thread, so ``transaction.atomic`` can use it."""
    wrapper = _wrapper(db_file, "gate_probe")
    connections["gate_probe"] = wrapper
    yield wrapper
    wrapper.close()
    del connections["gate_probe"]


def test_a_transaction_holds_the_gate_until_commit(db_file, probe):
    assert not _gate_taken(db_file)
    with transaction.atomic(using="gate_probe"):
        probe.cursor().execute("UPDATE counter SET n = n + 1")
        assert probe.gate_held and _gate_taken(db_file)
        with transaction.atomic(using="gate_probe"):  # a savepoint takes nothing more
            assert probe.gate_held
        assert probe.gate_held
    assert not probe.gate_held and not _gate_taken(db_file)


def test_a_rolled_back_transaction_lets_the_gate_go(db_file, probe):
    with pytest.raises(ZeroDivisionError), transaction.atomic(using="gate_probe"):
        probe.cursor().execute("UPDATE counter SET n = n + 1")
        _ = 1 / 0
    assert not _gate_taken(db_file)
    assert probe.cursor().execute("SELECT n FROM counter").fetchone() == (0,)


def test_a_writer_that_waits_too_long_is_told_the_database_is_locked(db_file, probe):
    other = _wrapper(db_file, "gate_other", timeout=0.05)
    connections["gate_other"] = other
    try:
        with transaction.atomic(using="gate_probe"):
            with pytest.raises(OperationalError, match="database is locked"), transaction.atomic(using="gate_other"):
                pass
            assert not other.gate_held and not other.in_atomic_block
        with transaction.atomic(using="gate_other"):  # free again once the first one committed
            other.cursor().execute("UPDATE counter SET n = n + 1")
    finally:
        other.close()
        del connections["gate_other"]
    assert probe.cursor().execute("SELECT n FROM counter").fetchone() == (1,)


def test_closing_a_connection_in_a_transaction_lets_the_gate_go(db_file):
    wrapper = _wrapper(db_file, "gate_closed")
    wrapper.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
    assert _gate_taken(db_file)
    wrapper.close()
    assert not _gate_taken(db_file)


def test_an_in_memory_database_has_no_gate():
    assert _wrapper(Path(":memory:"), "gate_memory").gate_path() is None


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.sampled_from(["write", "fail", "savepoint", "inner_fail", "close"]), max_size=8))
def test_the_gate_is_held_exactly_while_a_transaction_is_open(db_file, probe, steps):
    """Whatever happens inside (writes, errors, savepoints that fail, a connection closed after), the gate is
    held inside the outermost block and free after it."""
    try:
        with transaction.atomic(using="gate_probe"):
            for step in steps:
                assert probe.gate_held and _gate_taken(db_file)
                if step == "write":
                    probe.cursor().execute("UPDATE counter SET n = n + 1")
                elif step == "fail":
                    raise RuntimeError("the block fails")
                elif step == "savepoint":
                    with transaction.atomic(using="gate_probe"):
                        probe.cursor().execute("UPDATE counter SET n = n + 1")
                elif step == "inner_fail":
                    with pytest.raises(RuntimeError), transaction.atomic(using="gate_probe"):
                        raise RuntimeError("the savepoint fails")
    except RuntimeError:
        pass
    if "close" in steps:
        probe.close()
    assert not probe.gate_held and not _gate_taken(db_file)


def test_writers_racing_on_one_file_all_get_through(db_file):
    """Four threads, each with its own connection, add one 25 times in read-then-write transactions: every
    increment lands (nothing lost, no "database is locked") and the gate is free at the end."""
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def writer(i: int) -> None:
        alias = f"gate_racer_{i}"
        connections[alias] = _wrapper(db_file, alias, timeout=20)
        try:
            start.wait()
            for _ in range(25):
                with transaction.atomic(using=alias):
                    cursor = connections[alias].cursor()
                    (n,) = cursor.execute("SELECT n FROM counter").fetchone()
                    cursor.execute("UPDATE counter SET n = %s", [n + 1])
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections[alias].close()
            del connections[alias]

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    check = _wrapper(db_file, "gate_check")
    assert check.cursor().execute("SELECT n FROM counter").fetchone() == (100,)
    check.close()
    assert not _gate_taken(db_file)


def test_the_site_uses_the_gate_on_sqlite():
    default = connections["default"]
    if default.vendor != "sqlite":
        pytest.skip("the site runs on PostgreSQL here: the gate is SQLite's")
    assert isinstance(default, DatabaseWrapper)
