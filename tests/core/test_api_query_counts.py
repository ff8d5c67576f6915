"""List endpoints do a fixed number of queries however many rows a page holds (no N+1)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.conftest import option

PAGE = {"page_size": 50}


def queries_for(client: Any, url: str, expected_rows: int) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, PAGE)
    assert response.status_code == 200, response.content
    assert len(response.json()["results"]) == expected_rows
    return len(ctx.captured_queries)


def grows_without_more_queries(
    client: Any,
    url: str,
    add: Callable[[int], None],
    *,
    small: int,
    large: int,
    bound: int,
    assert_max: Any,
    base: int = 0,
) -> None:
    add(small)
    few = queries_for(client, url, base + small)
    add(large - small)
    many = queries_for(client, url, base + large)
    assert many == few, f"{url}: {few} queries for {base + small} rows, {many} for {base + large}"
    with assert_max(bound):
        client.get(url, PAGE)


@pytest.fixture
def customers(users):
    from needpool.customers.services import customer_create

    made = []
    for i, (owner, tier) in enumerate([("sales", 6_000_000), ("service", 2_000_000), ("product_manager", 10)]):
        made.append(customer_create(actor=users[owner], name=f"客户{i}", yearly_purchase=tier, owner=users[owner]))
    return made


@pytest.mark.parametrize("role", ["manager", "sales"])
def test_requirements_list(api, users, customers, django_assert_max_num_queries, role):
    from needpool.requirements.services import feedback_create, requirement_create, requirement_transition

    def add(n: int) -> None:
        for i in range(n):
            req = requirement_create(
                actor=users["sales"],
                title=f"批量需求{i}",
                customer=customers[i % 2],
                background="背景",
                concrete_ask="诉求",
                expected_date=dt.date(2024, 6, 30),
                type=option("type", "function"),
                urgency=option("urgency", "urgent"),
                nature=option("nature", "functional"),
                source=option("source", "explicit"),
                category=option("category", "performance"),
                tags=[option("tag", "bulk_operation"), option("tag", "efficiency")],
                priority="P1",
                submitted_at=timezone.now() - dt.timedelta(minutes=i),
            )
            feedback_create(
                actor=users["sales"], raw_text="同样的诉求", channel="ticket", customer=customers[1], requirement=req
            )
            if i % 3 == 0:
                requirement_transition(actor=users["manager"], requirement=req, to="in_progress")

    grows_without_more_queries(
        api(users[role]),
        "/api/v1/requirements/",
        add,
        small=5,
        large=25,
        bound=6,
        assert_max=django_assert_max_num_queries,
    )


def test_requirements_list_with_filters(api, users, customers, django_assert_max_num_queries):
    from needpool.requirements.services import requirement_create

    def add(n: int) -> None:
        for i in range(n):
            requirement_create(
                actor=users["sales"],
                title=f"批量折扣{i}",
                customer=customers[0],
                tags=[option("tag", "bulk_operation")],
            )

    client = api(users["manager"])
    url = (
        f"/api/v1/requirements/?q=批量折扣&customer={customers[0].pk}&status=new"
        f"&tag={option('tag', 'bulk_operation').pk}&sort=submitted_at"
    )
    grows_without_more_queries(client, url, add, small=5, large=25, bound=9, assert_max=django_assert_max_num_queries)


def test_customers_list(api, users, django_assert_max_num_queries):
    from needpool.customers.services import customer_create

    def add(n: int) -> None:
        for i in range(n):
            customer_create(actor=users["sales"], name=f"客户{i}-{timezone.now().timestamp()}")

    grows_without_more_queries(
        api(users["sales"]),
        "/api/v1/customers/",
        add,
        small=5,
        large=25,
        bound=2,
        assert_max=django_assert_max_num_queries,
    )


def test_contacts_and_interactions_lists(api, users, customers, django_assert_max_num_queries):
    from needpool.customers.services import contact_create, interaction_create

    def add_contacts(n: int) -> None:
        for i in range(n):
            contact_create(actor=users["sales"], customer=customers[i % 2], name=f"联系人{i}", phone="010-62345678")

    def add_interactions(n: int) -> None:
        contact = customers[0].contacts.first()
        for i in range(n):
            interaction_create(
                actor=users["sales"],
                customer=customers[0],
                contact=contact,
                channel="phone",
                occurred_at=timezone.now() - dt.timedelta(hours=i),
                key_content=f"沟通{i}",
                key_asks="诉求一\n诉求二",
            )

    client = api(users["sales"])
    grows_without_more_queries(
        client, "/api/v1/contacts/", add_contacts, small=5, large=25, bound=2, assert_max=django_assert_max_num_queries
    )
    grows_without_more_queries(
        client,
        "/api/v1/interactions/",
        add_interactions,
        small=5,
        large=25,
        bound=2,
        assert_max=django_assert_max_num_queries,
    )


def test_feedback_list(api, users, customers, django_assert_max_num_queries):
    from needpool.requirements.services import feedback_create

    def add(n: int) -> None:
        for i in range(n):
            feedback_create(actor=users["service"], raw_text=f"反馈{i}", channel="ticket", customer=customers[i % 2])

    grows_without_more_queries(
        api(users["sales"]),
        "/api/v1/feedback/",
        add,
        small=5,
        large=25,
        bound=2,
        assert_max=django_assert_max_num_queries,
    )


def test_comments_and_history(api, users, requirement, django_assert_max_num_queries):
    from needpool.requirements.services import comment_create, requirement_transition

    def add_comments(n: int) -> None:
        for i in range(n):
            comment_create(
                actor=users[("manager", "engineer", "sales")[i % 3]], requirement=requirement, body=f"评论{i}"
            )

    moves = iter(["in_progress"] + ["testing", "in_progress"] * 20)

    def add_moves(n: int) -> None:
        for _ in range(n):
            requirement_transition(actor=users["engineer"], requirement=requirement, to=next(moves))

    client = api(users["viewer"])
    url = f"/api/v1/requirements/{requirement.pk}/"
    grows_without_more_queries(
        client, url + "comments/", add_comments, small=5, large=25, bound=10, assert_max=django_assert_max_num_queries
    )
    # the creation itself is the first history row; history also looks up requirements merged into this one
    grows_without_more_queries(
        client,
        url + "history/",
        add_moves,
        small=5,
        large=25,
        bound=12,
        assert_max=django_assert_max_num_queries,
        base=1,
    )


def test_discovery_lists(api, users, django_assert_max_num_queries):
    client = api(users["viewer"])
    client.get("/api/v1/statuses/")  # the first use creates the site configuration row
    with django_assert_max_num_queries(3):
        assert client.get("/api/v1/options/", PAGE).status_code == 200
    with django_assert_max_num_queries(3):
        assert client.get("/api/v1/options/", {"dimension": "type"}).status_code == 200
    with django_assert_max_num_queries(5):
        assert client.get("/api/v1/statuses/").status_code == 200
