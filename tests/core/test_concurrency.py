"""core.concurrency: retrying a transaction the database refused for a concurrency reason, and reading If-Match."""

from __future__ import annotations

import pytest
from django.db import OperationalError, transaction
from hypothesis import given
from hypothesis import strategies as st

from needpool.core.concurrency import (
    DEFAULT_ATTEMPTS,
    StaleVersion,
    check_version,
    etag,
    expected_from_if_match,
    is_retryable,
    parse_if_match,
    retry_on_conflict,
)


class _PgError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"pg {sqlstate}")
        self.sqlstate = sqlstate


def _db_error(sqlstate: str | None = None, text: str = "boom") -> OperationalError:
    error = OperationalError(text)
    if sqlstate:
        error.__cause__ = _PgError(sqlstate)
    return error


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        (_db_error("40001"), True),  # serialization failure
        (_db_error("40P01"), True),  # deadlock
        (_db_error(text="database is locked"), True),  # SQLite busy
        (_db_error("23505"), False),  # unique violation: a real refusal
        (_db_error(text="no such table"), False),
    ],
)
def test_which_errors_are_retried(error, retryable):
    assert is_retryable(error) is retryable


def test_a_serialization_failure_is_retried_until_it_succeeds():
    calls: list[int] = []

    @retry_on_conflict()
    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise _db_error("40001")
        return "done"

    assert flaky() == "done" and len(calls) == 3


def test_retries_are_bounded():
    calls: list[int] = []

    @retry_on_conflict()
    def always() -> None:
        calls.append(1)
        raise _db_error("40P01")

    with pytest.raises(OperationalError):
        always()
    assert len(calls) == DEFAULT_ATTEMPTS


def test_other_errors_are_not_retried():
    calls: list[int] = []

    @retry_on_conflict()
    def broken() -> None:
        calls.append(1)
        raise _db_error("23505")

    with pytest.raises(OperationalError):
        broken()
    assert len(calls) == 1


def test_inside_an_outer_transaction_nothing_is_retried(db):
    calls: list[int] = []

    @retry_on_conflict()
    def flaky() -> None:
        calls.append(1)
        raise _db_error("40001")

    with pytest.raises(OperationalError), transaction.atomic():
        flaky()
    assert len(calls) == 1


def test_check_version():
    check_version(3, None)
    check_version(3, 3)
    with pytest.raises(StaleVersion) as caught:
        check_version(4, 3)
    assert caught.value.current_version == 4


@pytest.mark.parametrize(
    ("header", "versions"),
    [
        (None, None),
        ("", None),
        ("*", None),
        ('W/"3"', [3]),
        ('"3"', [3]),
        (' W/"3" , "5" ', [3, 5]),
        ("3", []),
        ('W/"x"', []),
        ('W/"3", junk', []),
    ],
)
def test_if_match_parsing(header, versions):
    assert parse_if_match(header) == versions


@given(current=st.integers(min_value=0, max_value=10**6), header=st.one_of(st.none(), st.text(max_size=30)))
def test_an_if_match_that_does_not_name_the_current_version_never_passes(current, header):
    """Whatever a caller sends as If-Match, the service is handed the current version only when the header names
    it (or None when there is no precondition); anything else is a version the service will refuse."""
    expected = expected_from_if_match(header, current)
    listed = parse_if_match(header)
    if listed is None:
        assert expected is None
    elif current in listed:
        assert expected == current
    else:
        assert expected != current


@given(st.integers(min_value=0, max_value=10**12))
def test_an_etag_reads_back_as_its_version(version):
    assert parse_if_match(etag(version)) == [version]
