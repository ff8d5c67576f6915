"""A busy database answers 503 with Retry-After and a Chinese message (page in the layout, JSON for /api/)."""

from __future__ import annotations

import sqlite3
from unittest import mock

import pytest
from django.db import connection
from django.db.utils import OperationalError
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from needpool.core.busy import is_busy
from needpool.requirements.models import Requirement
from tests.conftest import PASSWORD

LIST = "/api/v1/requirements/"
BUSY_TEXT = "系统正忙"


class _Cause(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def _wrapped(message: str, sqlstate: str | None = None) -> OperationalError:
    error = OperationalError(message)
    if sqlstate:
        error.__cause__ = _Cause(sqlstate)
    return error


@pytest.mark.parametrize(
    "error",
    [
        _wrapped("database is locked"),
        _wrapped("database table is locked: requirements_requirement"),
        _wrapped("canceling statement due to lock timeout", "55P03"),
        _wrapped("could not serialize access due to concurrent update", "40001"),
        _wrapped("deadlock detected", "40P01"),
    ],
)
def test_busy_errors_are_recognised(error):
    assert is_busy(error)


@hsettings(max_examples=60, deadline=None)
@given(
    text=st.text(max_size=40),
    sqlstate=st.one_of(st.none(), st.sampled_from(["23505", "42P01", "08006", "XX000", "22001"])),
)
def test_other_database_errors_stay_errors(text, sqlstate):
    """Only "locked" / lock timeouts / serialization failures are "busy": a real fault is never hidden."""
    if "locked" in text.lower():
        return
    assert not is_busy(_wrapped(text, sqlstate))
    assert not is_busy(ValueError("database is locked"))  # only the database's own errors


@pytest.mark.django_db
def test_a_page_that_meets_a_locked_database_answers_503_in_the_layout(users, client):
    client.login(username="sales", password=PASSWORD)
    with mock.patch("needpool.core.views.notification_list", side_effect=OperationalError("database is locked")):
        response = client.get("/notifications/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    body = response.content.decode()
    assert BUSY_TEXT in body and 'id="busy-message"' in body
    assert "navbar" in body or "<nav" in body  # in the layout


@pytest.mark.django_db
def test_the_api_answers_503_json(api, users):
    with mock.patch(
        "needpool.requirements.api.requirements.RequirementViewSet.list",
        side_effect=_wrapped("canceling statement due to lock timeout", "55P03"),
    ):
        response = api(users["sales"]).get(LIST)
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json()["code"] == "database_busy"
    assert BUSY_TEXT in response.json()["detail"]


@pytest.mark.django_db
def test_other_errors_still_fail_loudly(api, users):
    with (
        mock.patch(
            "needpool.requirements.api.requirements.RequirementViewSet.list",
            side_effect=OperationalError("no such table: x"),
        ),
        pytest.raises(OperationalError),
    ):
        api(users["sales"]).get(LIST)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_real_lock_held_by_another_connection_gives_503_and_writes_nothing(api, users, customer, settings):
    """Another connection holds the SQLite write lock (BEGIN IMMEDIATE): the create waits, then answers 503."""
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite write lock")
    name = connection.settings_dict["NAME"]
    uri = str(name).startswith("file:")
    connection.ensure_connection()
    connection.cursor().execute("PRAGMA busy_timeout = 200")  # the configured 20 s, shortened for the test
    holder = sqlite3.connect(name, uri=uri, timeout=0.2, check_same_thread=False)
    try:
        holder.execute("BEGIN IMMEDIATE")
        holder.execute("UPDATE customers_customer SET name = name WHERE id = ?", [customer.pk])
        response = api(users["sales"]).post(LIST, {"title": "锁住时新建", "type": "function"}, format="json")
    finally:
        holder.rollback()
        holder.close()
    assert response.status_code == 503, response.content[:300]
    assert response["Retry-After"] == "5"
    assert BUSY_TEXT in response.json()["detail"]
    assert not Requirement.objects.filter(title="锁住时新建").exists()
