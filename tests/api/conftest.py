"""API test helpers: clients per user, a second sales team, and a small pool to filter."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient

from needpool.accounts.models import Team, User
from needpool.accounts.roles import Role
from needpool.customers.models import Customer
from needpool.requirements.models import Requirement
from tests.conftest import option

ALL_ROLES = [r.value for r in Role]
#: roles with customer.write (and feedback.write, requirement.create)
WRITERS = ["admin", "manager", "product_manager", "sales", "service"]
NON_WRITERS = ["engineer", "compliance", "viewer"]


@pytest.fixture(autouse=True)
def _fresh_throttle_cache() -> None:
    """The token endpoint is throttled per address through the cache; tests must not share counts."""
    cache.clear()


@pytest.fixture
def api() -> Callable[[User | None], APIClient]:
    def make(user: User | None = None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return make


@pytest.fixture
def other_sales(make_user: Callable[..., User]) -> User:
    """A sales user of another team: must not see the fixture customer (owned by team 销售一部)."""
    return make_user(Role.SALES, username="sales-b", team=Team.objects.create(name="销售二部"))


@pytest.fixture
def customer_b(users: dict[str, User]) -> Customer:
    from needpool.customers.services import customer_create

    return customer_create(
        actor=users["product_manager"],
        name="B制造企业",
        industry="制造",
        yearly_purchase=800_000,
        owner=users["product_manager"],
        segment="potential",
    )


@pytest.fixture
def pool(users: dict[str, User], customer: Customer, customer_b: Customer, requirement: Requirement) -> dict[str, Any]:
    """Three requirements that differ in every filterable attribute.

    r1 (fixture): customer A, 功能优化, 重要, tag 批量操作, expected 2024-06-30, owner sales, submitted now.
    r2: customer B, 服务, 紧急, P0, tag 服务投诉, expected 2024-09-01, submitted 2024-01-10 (SLA breached),
        moved to 处理中, owner product manager.
    r3: no customer, 体验, P3, no expected date, submitted 2023-06-01, owner product manager.
    """
    from needpool.requirements.services import requirement_create, requirement_transition, sla_mark_breaches

    pm = users["product_manager"]
    r2 = requirement_create(
        actor=pm,
        customer=customer_b,
        title="交付速度慢的投诉",
        background="交付周期长",
        concrete_ask="缩短交付周期",
        expected_date=dt.date(2024, 9, 1),
        type=option("type", "service"),
        urgency=option("urgency", "urgent"),
        priority="P0",
        tags=[option("tag", "service_complaint")],
        submitted_at=timezone.make_aware(dt.datetime(2024, 1, 10, 9, 0)),
    )
    requirement_transition(actor=pm, requirement=r2, to="in_progress")
    r3 = requirement_create(
        actor=pm,
        title="界面配色不够清晰",
        type=option("type", "experience"),
        priority="P3",
        submitted_at=timezone.make_aware(dt.datetime(2023, 6, 1, 9, 0)),
    )
    sla_mark_breaches()
    return {"r1": requirement, "r2": r2, "r3": r3}
