"""Needpool (需求池): one pool for every customer need."""

import sys as _sys

# The SQLite the project builds (scripts/build-sqlite: pysqlite3 linked with a SQLite that has the WAL-reset
# fix) replaces the one the interpreter was linked with, before Django or the job queue import ``sqlite3``.
# Without it (a machine that could not build it) the interpreter's own is used and ``manage.py check`` warns
# when that one has the bug (``needpool.core.sqlite_library``).
try:
    import pysqlite3 as _pysqlite3
    import pysqlite3.dbapi2 as _pysqlite3_dbapi2
except ImportError:  # pragma: no cover - depends on the machine's build
    pass
else:
    _sys.modules["sqlite3"] = _pysqlite3
    _sys.modules["sqlite3.dbapi2"] = _pysqlite3_dbapi2

__version__ = "0.1.0"
