"""Human-readable codes (DEM20240301001, 202405-001, C2024001) that stay unique under concurrency.

A code is a pattern with date placeholders and one ``{seq:0Nd}`` counter. The counter is kept
per rendered prefix in ``CodeSequence`` and advanced by one atomic upsert statement, so two
transactions can never get the same number (PostgreSQL row lock, SQLite write lock).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import connection
from django.utils.translation import gettext as _

from needpool.core.models import CodeSequence

_SEQ = re.compile(r"\{seq(?::0?(\d+)d)?\}")
_ALLOWED = re.compile(r"\{(yyyy|yyyymm|yyyymmdd|seq(?::0?\d+d)?)\}")


class CodePatternError(ValueError):
    pass


def validate_pattern(pattern: str) -> None:
    if len(_SEQ.findall(pattern)) != 1:
        raise CodePatternError(_("编号格式必须且只能包含一个 {seq} 占位符，例如 {seq:03d}。"))
    if not re.fullmatch(r"[A-Za-z0-9_-]*", _ALLOWED.sub("", pattern)):
        raise CodePatternError(
            _("编号格式只能使用 {yyyy}、{yyyymm}、{yyyymmdd}、{seq:03d} 占位符以及字母、数字、- 和 _。")
        )


def render_prefix(pattern: str, day: dt.date) -> tuple[str, str, int]:
    """Return (prefix, suffix, width) around the counter for ``day``."""
    text = pattern.replace("{yyyymmdd}", day.strftime("%Y%m%d"))
    text = text.replace("{yyyymm}", day.strftime("%Y%m")).replace("{yyyy}", day.strftime("%Y"))
    match = _SEQ.search(text)
    if match is None:
        raise CodePatternError(_("编号格式必须包含 {seq} 占位符。"))
    width = int(match.group(1) or 1)
    return text[: match.start()], text[match.end() :], width


# Where counters advance when not on the default connection (see ``counters_on``).
_COUNTERS: ContextVar[Any] = ContextVar("needpool_code_counters", default=None)


@contextmanager
def counters_on(database: Any) -> Iterator[None]:
    """Within the block, counters advance on ``database`` (a connection in autocommit), whatever the default is.

    An import that works on a private copy of the database (``intake.transfer.imports.staging``) still takes
    its numbers from the real counters: a code handed out meanwhile by someone else is never handed out twice,
    at the price of a gap in the numbers when the import fails.
    """
    token = _COUNTERS.set(database)
    try:
        yield
    finally:
        _COUNTERS.reset(token)


def reserve_numbers(key: str, count: int) -> int:
    """Advance the counter for ``key`` by ``count`` atomically; return the first number of the reserved block."""
    table = CodeSequence._meta.db_table
    database = _COUNTERS.get() or connection
    with database.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (prefix, value) VALUES (%s, %s) "
            f"ON CONFLICT (prefix) DO UPDATE SET value = {table}.value + %s RETURNING value",
            [key, count, count],
        )
        row = cursor.fetchone()
    assert row is not None
    return int(row[0]) - count + 1


def next_number(key: str) -> int:
    """Advance the counter for ``key`` by one and return the new value, atomically."""
    return reserve_numbers(key, 1)


def next_code(pattern: str, day: dt.date, *, namespace: str, taken: Callable[[str], bool] | None = None) -> str:
    """The next code for ``day``, skipping codes for which ``taken`` is true (entered by hand, imported)."""
    prefix, suffix, width = render_prefix(pattern, day)
    while True:
        number = next_number(f"{namespace}:{prefix}|{suffix}")
        code = f"{prefix}{number:0{width}d}{suffix}"
        if taken is None or not taken(code):
            return code


def codes_block(
    *, pattern: str, day: dt.date, namespace: str, count: int, taken: Callable[[list[str]], set[str]]
) -> list[str]:
    """``count`` fresh codes for ``day`` from one counter, skipping codes already taken (as next_code does)."""
    prefix, suffix, width = render_prefix(pattern, day)
    key = f"{namespace}:{prefix}|{suffix}"
    out: list[str] = []
    while len(out) < count:
        need = count - len(out)
        first = reserve_numbers(key, need)
        codes = [f"{prefix}{n:0{width}d}{suffix}" for n in range(first, first + need)]
        used = taken(codes)
        out.extend(c for c in codes if c not in used)
    return out
