"""The rankings' queries against a straightforward computation on generated pools.

``demand_ranking`` joins the customers instead of listing them, leaves out the deleted and merged requirements
instead of listing the live ones, and reads an opt-in index; ``ranked`` reads a page by a narrow query of
its ids. Whatever the pool — deleted, merged, rejected requirements, deleted customers, several votes of one
customer, ties — they give what a plain reading of the rules gives, for a user who sees the whole pool and for
sales users who see part of it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from needpool.analysis import scoring
from needpool.analysis.models import RequirementAnalysis
from needpool.analysis.selectors import RankedQuerySet, demand_of, demand_ranking, ranked
from needpool.customers.models import Customer
from needpool.customers.permissions import visible_customers
from needpool.customers.services import customer_create
from needpool.requirements.choices import StatusCategory
from needpool.requirements.models import Feedback, Requirement, WorkflowStatus
from needpool.requirements.permissions import visible_requirements
from tests.analysis.helpers import make_requirement

N_REQUIREMENTS = 6
N_CUSTOMERS = 4
TIERS = ["high", "medium", "low", ""]  # "" is no tier: weight 1, like an unknown one
PRIORITIES = ["", "P0", "P1", "P2", "P3"]
WORD = "导出"


@pytest.fixture
def pool(users, other_sales) -> dict[str, Any]:
    """Customers of both sales teams and nobody's; requirements by a product manager and by each team."""
    sales, pm = users["sales"], users["product_manager"]
    customers = [
        customer_create(actor=sales, name="甲客户", owner=sales),
        customer_create(actor=other_sales, name="乙客户", owner=other_sales),
        customer_create(actor=pm, name="丙客户"),  # nobody's: every sales user sees it
        customer_create(actor=sales, name="丁客户", owner=sales),
    ]
    actors = [pm, sales, other_sales, pm, sales, pm]
    requirements = [
        make_requirement(actor, f"需求{i}{WORD if i % 2 else '导入'}", None) for i, actor in enumerate(actors)
    ]
    return {"customers": customers, "requirements": requirements}


@pytest.fixture
def viewers(users, other_sales) -> list[Any]:
    return [users["product_manager"], users["sales"], other_sales]


def _rolled_back(check: Any) -> None:
    """Run ``check`` in a transaction that is rolled back: each generated pool starts from the fixture's."""
    with transaction.atomic():
        check()
        transaction.set_rollback(True)


# ---------------------------------------------------------------- weighted demand

VOTES = st.lists(
    st.tuples(
        st.integers(0, N_REQUIREMENTS - 1),
        st.none() | st.integers(0, N_CUSTOMERS - 1),
        st.integers(0, 3),  # importance
        st.booleans(),  # deleted
        st.booleans(),  # a vote from outside the scope (scope_vote)
    ),
    max_size=25,
)
REQUIREMENT_STATES = st.lists(st.sampled_from(["live", "live", "deleted", "merged"]), min_size=N_REQUIREMENTS)
CUSTOMER_STATES = st.lists(st.tuples(st.sampled_from(TIERS), st.booleans()), min_size=N_CUSTOMERS)


def _shape_pool(pool: dict[str, Any], requirement_states: list[str], customer_states: list[Any]) -> None:
    requirements, customers = pool["requirements"], pool["customers"]
    now = timezone.now()
    for i, (requirement, state) in enumerate(zip(requirements, requirement_states, strict=False)):
        if state == "deleted":
            Requirement.all_objects.filter(pk=requirement.pk).update(deleted_at=now)
        elif state == "merged":
            survivor = requirements[(i + 1) % len(requirements)]
            Requirement.all_objects.filter(pk=requirement.pk).update(merged_into=survivor, merged_at=now)
    for customer, (tier, deleted) in zip(customers, customer_states, strict=False):
        Customer.all_objects.filter(pk=customer.pk).update(value_tier=tier, deleted_at=now if deleted else None)


def _expected_demand(user: Any, base: QuerySet[Requirement] | None) -> dict[int, tuple[int, int]]:
    """requirement id → (demand, customers), summed in Python from every live feedback row."""
    seen_customers = set(visible_customers(user).values_list("pk", flat=True))
    if base is None:
        scope = set(visible_requirements(user).filter(merged_into__isnull=True).values_list("pk", flat=True))
    else:
        scope = set(base.values_list("pk", flat=True))
    tiers = dict(Customer.all_objects.values_list("pk", "value_tier"))
    best: dict[tuple[int, int], int] = {}
    for requirement_id, customer_id, importance in Feedback.objects.values_list(
        "requirement_id", "customer_id", "importance"
    ):
        if requirement_id in scope and customer_id in seen_customers:
            key = (requirement_id, customer_id)
            best[key] = max(best.get(key, 0), importance)
    totals: dict[int, tuple[int, int]] = {}
    for (requirement_id, customer_id), importance in best.items():
        demand, count = totals.get(requirement_id, (0, 0))
        totals[requirement_id] = (demand + scoring.TIER_WEIGHTS.get(tiers[customer_id], 1) * importance, count + 1)
    return totals


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    votes=VOTES,
    requirement_states=REQUIREMENT_STATES,
    customer_states=CUSTOMER_STATES,
    limit=st.sampled_from([1, 2, 3, 50]),
    base_mask=st.none() | st.lists(st.booleans(), min_size=N_REQUIREMENTS, max_size=N_REQUIREMENTS),
)
def test_demand_ranking_equals_a_plain_sum(pool, viewers, votes, requirement_states, customer_states, limit, base_mask):
    requirements, customers = pool["requirements"], pool["customers"]

    def check() -> None:
        received = timezone.now()
        Feedback.objects.bulk_create(
            Feedback(
                requirement=requirements[r],
                customer=None if c is None else customers[c],
                importance=importance,
                deleted_at=received if deleted else None,
                scope_vote=scope_vote,
                channel="sales",
                raw_text="同样的诉求",
                received_at=received,
            )
            for r, c, importance, deleted, scope_vote in votes
        )
        _shape_pool(pool, requirement_states, customer_states)
        base = None
        if base_mask is not None:
            picked = [req.pk for req, keep in zip(requirements, base_mask, strict=True) if keep]
            base = Requirement.objects.filter(pk__in=picked)
        for user in viewers:
            totals = _expected_demand(user, base)
            expected = sorted(((pk, d, n) for pk, (d, n) in totals.items()), key=lambda t: (-t[1], -t[2], -t[0]))
            got = demand_ranking(user=user, base=base, limit=limit)
            assert [(row["requirement"].pk, row["demand"], row["customers"]) for row in got] == expected[:limit]
            if base is None:  # one requirement's votes: the same numbers
                for pk, (demand, count) in totals.items():
                    score, voters = demand_of(user=user, requirement=Requirement.all_objects.get(pk=pk))
                    assert (score.score, len(voters)) == (demand, count)

    _rolled_back(check)


def test_demand_ranking_says_the_condition_of_its_index(users, pool):
    """feedback_demand_idx is partial on a condition every row meets (the column's check constraint): only a
    query that says it may read the index, and the ranking has to say it."""
    index = next(i for i in Feedback._meta.indexes if i.name == "feedback_demand_idx")
    assert index.condition == Q(importance__gte=0)
    with CaptureQueriesContext(connection) as captured:
        demand_ranking(user=users["product_manager"])
    assert '"requirements_feedback"."importance" >= 0' in captured.captured_queries[0]["sql"]


@pytest.mark.parametrize("role", ["product_manager", "sales"])
def test_demand_ranking_is_two_queries_whatever_the_pool(users, pool, role, django_assert_num_queries):
    Feedback.objects.bulk_create(
        Feedback(
            requirement=requirement,
            customer=customer,
            importance=2,
            channel="sales",
            raw_text="同样的诉求",
            received_at=timezone.now(),
        )
        for requirement in pool["requirements"]
        for customer in pool["customers"]
    )
    with django_assert_num_queries(2):  # the ranking, then the requirements it names
        rows = demand_ranking(user=users[role], limit=3)
    assert len(rows) == 3


# ---------------------------------------------------------------- ranked list

RANK_STATES = st.lists(
    st.tuples(
        st.sampled_from(PRIORITIES),
        st.none() | st.just("no analysis") | st.integers(0, 3),  # computed score (ties on purpose)
        st.integers(0, 2),  # submitted days ago (ties on purpose)
        st.sampled_from(["live", "live", "live", "rejected", "merged", "deleted"]),
    ),
    min_size=N_REQUIREMENTS,
    max_size=N_REQUIREMENTS,
)
FILTERS = st.sampled_from([None, {"q": WORD}, {"priority": "P1"}, {"status_category": "new"}])
SLICES = st.lists(st.tuples(st.integers(0, 7), st.integers(0, 4)), min_size=1, max_size=4)


def _rank_key(requirement: Requirement) -> tuple[Any, ...]:
    """The ranking's order spelled out: priority P0…P3 then none, score high to low (none last), newest."""
    order = {"P0": 0, "P1": 1, "P2": 2, "P3": 3}
    analysis = getattr(requirement, "analysis", None)
    score = analysis.computed_score if analysis is not None else None
    return (
        order.get(requirement.priority, 9),
        score is None,
        -(score or 0),
        -requirement.submitted_at.timestamp(),
        -requirement.pk,
    )


def _shown(requirement: Requirement) -> tuple[Any, ...]:
    analysis = getattr(requirement, "analysis", None)
    return requirement.pk, requirement.priority, analysis.computed_score if analysis is not None else None


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(states=RANK_STATES, filters=FILTERS, slices=SLICES)
def test_ranked_pages_equal_the_plain_order(pool, viewers, states, filters, slices):
    requirements = pool["requirements"]
    rejected = WorkflowStatus.objects.filter(category=StatusCategory.REJECTED).first()
    assert rejected is not None

    def check() -> None:
        now = timezone.now().replace(microsecond=0)
        for i, (requirement, (priority, score, days, state)) in enumerate(zip(requirements, states, strict=True)):
            change: dict[str, Any] = {"priority": priority, "submitted_at": now - dt.timedelta(days=days)}
            if state == "rejected":
                change["status"] = rejected
            elif state == "merged":
                change.update(merged_into=requirements[(i + 1) % len(requirements)], merged_at=now)
            elif state == "deleted":
                change["deleted_at"] = now
            Requirement.all_objects.filter(pk=requirement.pk).update(**change)
            if score != "no analysis":
                RequirementAnalysis.objects.update_or_create(
                    requirement=requirement, defaults={"computed_score": score}
                )
            else:
                RequirementAnalysis.objects.filter(requirement=requirement).delete()
        for user in viewers:
            qs = ranked(user=user, filters=filters)
            assert isinstance(qs, RankedQuerySet)
            whole = list(qs)
            # The rules read plainly: what the list shows, less rejected, in the ranking's order.
            shown = Requirement.objects.filter(
                pk__in=visible_requirements(user).filter(merged_into__isnull=True).values("pk")
            ).exclude(status__category=StatusCategory.REJECTED)
            if filters and "priority" in filters:
                shown = shown.filter(priority=filters["priority"])
            if filters and "status_category" in filters:
                shown = shown.filter(status__category=filters["status_category"])
            if filters and "q" in filters:
                shown = shown.filter(title__contains=filters["q"])
            expected = sorted(shown.select_related("analysis"), key=_rank_key)
            assert [r.pk for r in whole] == [r.pk for r in expected]
            assert qs.count() == len(whole)
            for start, length in slices:
                page = qs[start : start + length]
                assert [_shown(r) for r in page] == [_shown(r) for r in whole[start : start + length]]
            assert [r.pk for r in qs[2:]] == [r.pk for r in whole[2:]]

    _rolled_back(check)


def test_a_ranked_page_is_its_ids_then_its_rows_with_their_prefetches(users, pool, django_assert_num_queries):
    qs = ranked(user=users["product_manager"])
    with django_assert_num_queries(4):  # the page's ids, its rows by id, tags, evidence
        page = list(qs[1:4])
    assert [r.pk for r in page] == [r.pk for r in list(qs)[1:4]]
    assert qs[0].pk == next(iter(qs)).pk  # an index is the ordinary LIMIT 1
    assert list(qs.none()[0:5]) == []
    fresh = ranked(user=users["product_manager"])
    with django_assert_num_queries(1):
        assert fresh.count() == len(pool["requirements"])
    with django_assert_num_queries(2):  # the ids, then the count of those rows
        assert fresh[1:4].count() == 3
    with django_assert_num_queries(0):
        assert qs.count() == len(pool["requirements"])  # read already


def test_the_whole_pool_ranking_says_the_condition_of_its_index(users, pool):
    """req_ranking_idx is partial on "id IS NOT NULL": the count and the page's ids of the whole, unfiltered
    pool say it (not the page's own query, which reads rows by id); a filter or a sales user's scope on other
    columns does not, as the database would then read each row after the index anyway."""
    index = next(i for i in Requirement._meta.indexes if i.name == "req_ranking_idx")
    assert index.condition == Q(id__isnull=False)
    opted_in = '"requirements_requirement"."id" IS NOT NULL'
    for user, filters, says in [
        (users["product_manager"], None, 1),
        (users["product_manager"], {"page": "2", "sort": "-submitted_at"}, 1),
        (users["product_manager"], {"priority": "P1"}, 0),
        (users["sales"], None, 0),
    ]:
        qs = ranked(user=user, filters=filters)
        with CaptureQueriesContext(connection) as captured:
            qs.count()
            list(qs.prefetch_related(None)[0:2])
        count_sql, ids_sql, *rows_sql = (q["sql"] for q in captured.captured_queries)  # no rows read for no ids
        assert (count_sql.count(opted_in), ids_sql.count(opted_in)) == (says, says)
        assert not any(opted_in in sql for sql in rows_sql)
    projects = ranked(user=users["product_manager"], base=Requirement.objects.filter(pk=pool["requirements"][0].pk))
    assert not projects.reads_ranking_index
