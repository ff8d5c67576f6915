"""Fixtures for the page tests: a sales user of another team, and helpers to grow lists."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from needpool.accounts.models import Team, User
from needpool.accounts.roles import Role
from needpool.customers.models import Customer
from needpool.requirements.models import Requirement
from tests.conftest import option


@pytest.fixture
def outsider(make_user: Callable[..., User]) -> User:
    """A sales user of another team: sees none of the ``sales`` user's customers or requirements."""
    return make_user(Role.SALES, username="sales-other", team=Team.objects.create(name="销售二部"))


@pytest.fixture
def make_requirements(users: dict[str, User]) -> Callable[..., list[Requirement]]:
    """Create ``n`` varied requirements (different customers, owners, urgencies, tags)."""
    from needpool.customers.services import customer_create
    from needpool.requirements.services import requirement_create

    owners = [users["sales"], users["product_manager"], users["manager"], None]
    urgencies = ["urgent", "important", "normal"]
    tags = ["bulk_operation", "efficiency", "feature_suggestion"]

    def make(n: int, *, prefix: str = "需求", **extra: Any) -> list[Requirement]:
        made = []
        start = Requirement.objects.count()
        for i in range(start, start + n):
            customer = customer_create(
                actor=users["sales"],
                name=f"{prefix}客户{i}",
                yearly_purchase=(i % 3) * 3_000_000,
                owner=users["sales"],
            )
            fields: dict[str, Any] = {
                "customer": customer,
                "title": f"{prefix}{i} 批量导出报表",
                "description": "客户希望批量导出报表",
                "background": "每月对账",
                "concrete_ask": "支持 Excel 导出",
                "expected_date": dt.date(2025, 1, 1) + dt.timedelta(days=i),
                "urgency": option("urgency", urgencies[i % 3]),
                "type": option("type", "function"),
                "tags": [option("tag", tags[i % 3])],
                "owner": owners[i % 4],
                "submitted_at": timezone.now() - dt.timedelta(minutes=i),
            }
            fields.update(extra)
            made.append(requirement_create(actor=users["sales"], **fields))
        return made

    return make


@pytest.fixture
def make_customers(users: dict[str, User]) -> Callable[[int], list[Customer]]:
    from needpool.customers.services import customer_create

    def make(n: int) -> list[Customer]:
        start = Customer.objects.count()
        return [
            customer_create(
                actor=users["sales"],
                name=f"客户{i}",
                industry="制造",
                yearly_purchase=i * 100_000,
                owner=[users["sales"], users["service"], None][i % 3],
                next_follow_up=timezone.localdate() + dt.timedelta(days=i % 5),
            )
            for i in range(start, start + n)
        ]

    return make


def count_queries(client: Any, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    return len(ctx.captured_queries)
