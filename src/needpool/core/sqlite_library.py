"""Which SQLite library this process writes with, and whether it has the WAL-reset bug.

SQLite 3.7.0 to 3.51.2 can lose committed transactions and corrupt a database in WAL mode when two
connections write and checkpoint at the same moment (sqlite.org/wal.html#walresetbug; fixed in 3.51.3, and in
the 3.44.6 and 3.50.7 patch releases). Needpool's web workers and job worker are such connections. Debian 12's
3.40.1 lost acknowledged creates in four of nine 20-second runs of two clients (``bench/bench_load.py``).
``scripts/build-sqlite`` builds a fixed SQLite into pysqlite3 and ``needpool/__init__.py`` uses it; this module
lets ``manage.py check`` (and so every start) say when a process runs without it.
"""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Warning
from django.db import connections
from django.utils.translation import gettext as _

#: The first release of each line that has the fix.
FIXED_IN = ((3, 44, 6), (3, 50, 7), (3, 51, 3))
AFFECTED_FROM = (3, 7, 0)


def has_wal_reset_bug(version: tuple[int, ...]) -> bool:
    """Whether a SQLite of this version (major, minor, patch) has the WAL-reset bug."""
    version = tuple(version[:3])
    if version < AFFECTED_FROM or version >= FIXED_IN[-1]:
        return False
    return not any(version[:2] == fixed[:2] and version >= fixed for fixed in FIXED_IN)


def library_version(alias: str = "default") -> tuple[int, ...] | None:
    """The version of the SQLite library the database ``alias`` is written with (None: not SQLite)."""
    connection = connections[alias]
    if connection.vendor != "sqlite":
        return None
    version: tuple[int, ...] = getattr(connection, "Database").sqlite_version_info  # noqa: B009 - not in the stubs
    return version


def check_sqlite_library(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    version = library_version()
    if version is None or not has_wal_reset_bug(version):
        return []
    return [
        Warning(
            _("SQLite %(version)s 有 WAL 重置缺陷：多个进程同时写入时可能丢失已提交的数据并损坏数据库。")
            % {"version": ".".join(map(str, version))},
            hint=_("运行 scripts/run 以构建修复后的 SQLite（需要 C 编译器与 npm），或改用 PostgreSQL。"),
            id="needpool.W001",
        )
    ]
