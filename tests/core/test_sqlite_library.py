"""The SQLite library the product writes with: the WAL-reset bug is detected, and the build used has the fix."""

from __future__ import annotations

import sys

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import connection
from hypothesis import given
from hypothesis import strategies as st

from needpool.core import sqlite_library
from needpool.core.sqlite_library import check_sqlite_library, has_wal_reset_bug


@pytest.mark.parametrize(
    ("version", "bug"),
    [
        ((3, 6, 23), False),  # before WAL existed
        ((3, 7, 0), True),
        ((3, 40, 1), True),  # Debian 12
        ((3, 44, 5), True),
        ((3, 44, 6), False),  # patch release with the fix
        ((3, 45, 0), True),
        ((3, 50, 4), True),
        ((3, 50, 7), False),  # patch release with the fix
        ((3, 51, 2), True),
        ((3, 51, 3), False),
        ((3, 54, 1), False),
        ((4, 0, 0), False),
    ],
)
def test_the_releases_with_the_bug_are_known(version: tuple[int, int, int], bug: bool) -> None:
    assert has_wal_reset_bug(version) is bug


@given(st.tuples(st.just(3), st.integers(0, 60), st.integers(0, 20)))
def test_a_version_has_the_bug_exactly_when_it_is_affected_and_not_a_fixed_release_of_its_line(
    version: tuple[int, int, int],
) -> None:
    affected = (3, 7, 0) <= version < (3, 51, 3)
    patched = (version[:2] == (3, 44) and version >= (3, 44, 6)) or (version[:2] == (3, 50) and version >= (3, 50, 7))
    assert has_wal_reset_bug(version) is (affected and not patched)


def test_a_library_with_the_bug_is_named_by_the_system_check(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlite_library, "library_version", lambda alias="default": (3, 40, 1))
    [warning] = check_sqlite_library()
    assert warning.id == "needpool.W001"
    assert "3.40.1" in warning.msg


def test_a_fixed_library_or_another_database_gives_no_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlite_library, "library_version", lambda alias="default": (3, 54, 1))
    assert check_sqlite_library() == []
    monkeypatch.setattr(sqlite_library, "library_version", lambda alias="default": None)
    assert check_sqlite_library() == []


def test_the_check_runs_with_every_manage_py_check(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlite_library, "library_version", lambda alias="default": (3, 40, 1))
    with pytest.raises(SystemCheckError, match=r"needpool\.W001"):
        call_command("check", fail_level="WARNING")


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the database under test is not SQLite")
def test_the_product_writes_with_the_sqlite_the_project_builds() -> None:
    """scripts/build-sqlite built pysqlite3 with a fixed SQLite and needpool/__init__.py put it in place."""
    import pysqlite3

    assert sys.modules["sqlite3"] is pysqlite3
    assert connection.Database.__name__ == "pysqlite3.dbapi2"
    assert not has_wal_reset_bug(connection.Database.sqlite_version_info)


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "sqlite", reason="the database under test is not SQLite")
def test_deleted_rows_are_overwritten_on_disk() -> None:
    """secure_delete, which Debian's SQLite had on by default and the SQLite the project builds has not."""
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA secure_delete")
        assert cursor.fetchone()[0] == 1


@pytest.mark.parametrize(("given", "kept"), [(None, 60), ("0", 0), ("5", 5)])
def test_sqlite_connections_are_kept_between_requests_as_postgresql_ones_are(
    tmp_path, given: str | None, kept: int
) -> None:
    """A connection per request cost ~2 ms and made the last one out delete the WAL (bench/README.md)."""
    import json
    import os
    import subprocess

    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "NEEDPOOL_DB_CONN_MAX_AGE")}
    env["NEEDPOOL_DATA_DIR"] = str(tmp_path)
    if given is not None:
        env["NEEDPOOL_DB_CONN_MAX_AGE"] = given
    code = (
        "import json, needpool.settings as s; d = s.DATABASES['default']; "
        "print(json.dumps([d['ENGINE'], d['CONN_MAX_AGE']]))"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert json.loads(out.strip().splitlines()[-1]) == ["django.db.backends.sqlite3", kept]


def test_the_warning_reads_in_english_too(monkeypatch: pytest.MonkeyPatch) -> None:
    from django.utils import translation

    monkeypatch.setattr(sqlite_library, "library_version", lambda alias="default": (3, 40, 1))
    with translation.override("en"):
        [warning] = check_sqlite_library()
    assert warning.msg.startswith("SQLite 3.40.1 has the WAL-reset bug")
    assert warning.hint is not None and warning.hint.startswith("Run scripts/run")
