"""A page of the requirement list picks its ids by a narrow query, then reads its rows
(``core.pagination.NarrowPageQuerySet``); the status filter names the statuses' ids.

Whatever the pool (deleted and merged requirements, equal submission moments, statuses of both flows), the
filter and the sort, every page holds the rows a plain LIMIT / OFFSET of the same query gives, in its order,
for a user who sees the whole pool and for a sales user who sees part of it; and a status key keeps the
requirements in that status of any flow (``flow:key`` of one flow), read in Python.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection, transaction
from django.db.models import QuerySet
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from needpool.core.pagination import NarrowPageQuerySet
from needpool.requirements.filters import SORTS
from needpool.requirements.models import Requirement, WorkflowStatus
from needpool.requirements.permissions import visible_requirements
from needpool.requirements.selectors import requirement_list

pytestmark = pytest.mark.django_db

N = 8
BASE = timezone.make_aware(dt.datetime(2025, 6, 1, 9, 0))


class _Rollback(Exception):
    pass


def _plain(qs: QuerySet[Requirement]) -> QuerySet[Requirement]:
    """The same query as an ordinary QuerySet: its slices are LIMIT / OFFSET of the whole query."""
    return QuerySet(model=Requirement, query=qs.query.chain(), using=qs.db)


ROWS = st.lists(
    st.tuples(
        st.integers(0, 50),  # index into the statuses of both flows (modulo their number)
        st.integers(0, 3),  # submission moment: a few values, so that ties happen
        st.sampled_from(["live", "live", "deleted", "merged"]),
    ),
    min_size=N,
    max_size=N,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=ROWS,
    status_pick=st.none() | st.integers(0, 50),
    per_flow=st.booleans(),
    sort=st.sampled_from(sorted(SORTS)),
    start=st.integers(0, N),
    size=st.integers(1, 4),
    viewer=st.sampled_from(["manager", "sales"]),
)
def test_a_page_holds_the_rows_of_the_plain_query(
    make_requirements: Any,
    users: dict[str, Any],
    rows: list[tuple[int, int, str]],
    status_pick: int | None,
    per_flow: bool,
    sort: str,
    start: int,
    size: int,
    viewer: str,
) -> None:
    statuses = list(WorkflowStatus.objects.select_related("workflow").order_by("id"))
    assert len({s.workflow_id for s in statuses}) >= 2, "both default flows are installed"
    user = users[viewer]
    try:
        with transaction.atomic():
            made = make_requirements(N)
            for requirement, (status, moment, state) in zip(made, rows, strict=True):
                changes: dict[str, Any] = {
                    "status": statuses[status % len(statuses)],
                    "submitted_at": BASE + dt.timedelta(hours=moment),
                }
                if state == "deleted":
                    changes["deleted_at"] = BASE
                elif state == "merged":
                    changes["merged_into"] = made[0] if requirement != made[0] else made[1]
                Requirement.objects.filter(pk=requirement.pk).update(**changes)
            filters: dict[str, str] = {"sort": sort}
            chosen = None
            if status_pick is not None:
                chosen = statuses[status_pick % len(statuses)]
                filters["status"] = f"{chosen.workflow.key}:{chosen.key}" if per_flow else chosen.key
            listed = requirement_list(user=user, filters=filters).filter(pk__in=[r.pk for r in made])
            assert isinstance(listed, NarrowPageQuerySet)
            page = [r.pk for r in listed[start : start + size]]
            assert page == [r.pk for r in _plain(listed)[start : start + size]]

            # The filter read in Python: live, visible, in a status of that key (of that flow).
            visible = set(visible_requirements(user).values_list("pk", flat=True))
            expected = set()
            for requirement in Requirement.all_objects.filter(pk__in=[r.pk for r in made]).select_related(
                "status__workflow"
            ):
                if requirement.deleted_at or requirement.merged_into_id or requirement.pk not in visible:
                    continue
                if chosen is not None and (
                    requirement.status.key != chosen.key
                    or (per_flow and requirement.status.workflow.key != chosen.workflow.key)
                ):
                    continue
                expected.add(requirement.pk)
            assert set(_plain(listed).values_list("pk", flat=True)) == expected
            raise _Rollback
    except _Rollback:
        pass


def test_a_page_picks_its_ids_then_reads_its_rows_by_id(make_requirements: Any, users: dict[str, Any]) -> None:
    made = make_requirements(5)
    key = made[0].status.key
    listed = requirement_list(user=users["manager"], filters={"status": key})
    with CaptureQueriesContext(connection) as captured:
        page = list(listed[1:3])
    # The page's ids, its rows, then its tags and customers for all its rows (the filter's status ids were read
    # when the list was built); no statement per row.
    statements = [q["sql"] for q in captured.captured_queries]
    assert len(statements) == 4, statements
    picked, rows = statements[0], statements[1]
    assert picked.startswith('SELECT "requirements_requirement"."id" AS "pk" FROM'), picked
    assert "LIMIT 2 OFFSET 1" in picked, picked
    assert '"requirements_workflowstatus"' not in picked, picked  # the narrow pick joins nothing it does not need
    assert "LIMIT" not in rows and '"requirements_requirement"."id" IN (' in rows, rows
    assert [r.pk for r in page] == [r.pk for r in _plain(listed)[1:3]]


def test_the_status_filter_names_ids_not_the_key(make_requirements: Any, users: dict[str, Any]) -> None:
    made = make_requirements(3)
    key = made[0].status.key
    listed = requirement_list(user=users["manager"], filters={"status": key})
    sql = str(listed.query)
    assert '"requirements_workflowstatus"."key"' not in sql.split("WHERE", 1)[1], sql
    ids = set(WorkflowStatus.objects.filter(key=key).values_list("pk", flat=True))
    assert {r.status_id for r in listed} <= ids and len(ids) >= 1


def test_an_unknown_status_lists_nothing(make_requirements: Any, users: dict[str, Any]) -> None:
    make_requirements(2)
    listed = requirement_list(user=users["manager"], filters={"status": "no_such_status"})
    assert list(listed[:10]) == []
    assert listed.count() == 0
    assert list(requirement_list(user=users["manager"], filters={"status": "nosuchflow:new"})[:10]) == []


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the plan of SQLite's planner")
def test_the_count_of_a_status_reads_the_index_alone(make_requirements: Any, users: dict[str, Any]) -> None:
    made = make_requirements(3)
    listed = requirement_list(user=users["manager"], filters={"status": made[0].status.key})
    sql, params = listed.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN SELECT COUNT(*) FROM ({sql})", params)
        plan = " ".join(str(row[-1]) for row in cursor.fetchall())
    assert "COVERING INDEX req_status_live_idx" in plan, plan
