"""A bulk edit tells each requirement's people, per requirement, and its queries stay bounded: each row costs
the same whatever the size of the selection, and its watchers are read once for the whole selection."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from needpool.accounts.models import User
from needpool.notify.kinds import EventKind
from needpool.notify.models import Event
from needpool.requirements.models import Requirement
from needpool.requirements.services.bulk import requirements_bulk_edit

pytestmark = pytest.mark.django_db


def _bulk(actor: User, requirements: list[Requirement], action: str, value: Any) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        rows = requirements_bulk_edit(actor=actor, ids=[r.pk for r in requirements], action=action, value=value)
    assert all(row.ok for row in rows), [row.message for row in rows if not row.ok]
    return [q["sql"] for q in queries.captured_queries]


def _watcher_reads(sql: list[str]) -> int:
    table = Requirement.watchers.through._meta.db_table
    return sum(1 for q in sql if table in q and q.lstrip().upper().startswith("SELECT"))


@pytest.fixture
def watchers(make_user: Any) -> list[User]:
    return [make_user("engineer", f"watcher{i}") for i in range(3)]


def test_a_bulk_owner_change_tells_each_requirements_people(
    make_requirements: Any, users: dict[str, User], watchers: list[User]
) -> None:
    chosen = make_requirements(4)
    for requirement in chosen:
        requirement.watchers.add(*watchers)
    _bulk(users["manager"], chosen, "owner", str(users["service"].pk))
    for requirement in chosen:
        assigned = Event.objects.get(kind=EventKind.ASSIGNED, subject__id=requirement.pk)
        assert assigned.recipients == [users["service"].pk]
        owner = Event.objects.get(kind=EventKind.OWNER, subject__id=requirement.pk)
        expected = {w.pk for w in watchers} | ({requirement.owner_id} if requirement.owner_id else set())
        assert set(owner.recipients) == expected - {users["manager"].pk, users["service"].pk}


def test_a_bulk_status_move_tells_each_requirements_owner_and_watchers(
    make_requirements: Any, users: dict[str, User], watchers: list[User]
) -> None:
    chosen = make_requirements(3)
    for requirement in chosen:
        requirement.watchers.add(watchers[0])
    _bulk(users["product_manager"], chosen, "status", "in_progress")
    for requirement in chosen:
        status = Event.objects.get(kind=EventKind.STATUS, subject__id=requirement.pk)
        assert watchers[0].pk in status.recipients and users["product_manager"].pk not in status.recipients


@pytest.mark.parametrize("action", ["owner", "status"])
def test_a_bulk_edit_of_50_costs_the_same_per_row_and_watchers_add_no_query(
    make_requirements: Any, users: dict[str, User], watchers: list[User], action: str
) -> None:
    value = {"owner": str(users["service"].pk), "status": "in_progress"}[action]
    small, again, large = make_requirements(5), make_requirements(5), make_requirements(50)
    Requirement.objects.update(owner=users["sales"])  # the same people around every row
    for requirement in again + large:
        requirement.watchers.add(*watchers)
    unwatched = _bulk(users["manager"], small, action, value)
    watched = _bulk(users["manager"], again, action, value)
    assert len(watched) == len(unwatched)  # more people to tell costs no query
    fifty = _bulk(users["manager"], large, action, value)
    per_row = len(unwatched) / 5
    assert len(fifty) <= 50 * per_row, (len(fifty), per_row)  # no cost grows with the size of the selection
    assert _watcher_reads(fifty) == 1  # the watchers of all 50 are read once, with the selection
    assert Event.objects.filter(kind=EventKind.STATUS if action == "status" else EventKind.ASSIGNED).count() == 60
