"""Shared fixtures: one user per role, a customer with a contact, and a requirement; API clients, a second
sales team, a small pool to filter, helpers to grow lists, and query counting for the page tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import settings as hypothesis_settings
from rest_framework.test import APIClient

from needpool.accounts.models import Team, User
from needpool.accounts.roles import Role
from needpool.customers.models import Customer
from needpool.requirements.models import ClassOption, Requirement

PASSWORD = "correct-horse-battery-9"

# Property tests judge rules, never speed: no per-example deadline (a loaded machine is slow at times, and a
# first example pays for imports).
hypothesis_settings.register_profile("needpool", deadline=None)
hypothesis_settings.load_profile("needpool")

ALL_ROLES = [r.value for r in Role]
#: roles with customer.write (and feedback.write, requirement.create)
WRITERS = ["admin", "manager", "product_manager", "sales", "service"]
NON_WRITERS = ["engineer", "compliance", "viewer"]


@pytest.fixture(autouse=True)
def _media_and_language(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.LANGUAGE_CODE = "zh-hans"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _jobs_run_immediately() -> Any:
    """Jobs run in-process during tests (tests of the real queue switch this off themselves)."""
    from huey.contrib.djhuey import HUEY

    previous = HUEY.immediate
    HUEY.immediate = True
    yield HUEY
    HUEY.immediate = previous


@pytest.fixture
def team(db: Any) -> Team:
    return Team.objects.create(name="销售一部")


@pytest.fixture
def make_user(db: Any) -> Callable[..., User]:
    def make(role: str = Role.VIEWER, username: str | None = None, team: Team | None = None, **extra: Any) -> User:
        name = username or f"{role}-{User.objects.count() + 1}"
        return User.objects.create_user(username=name, password=PASSWORD, role=role, team=team, **extra)

    return make


@pytest.fixture
def users(make_user: Callable[..., User], team: Team) -> dict[str, User]:
    """One user per role; sales and service share a team."""
    made = {
        role.value: make_user(role.value, username=role.value)
        for role in Role
        if role not in (Role.SALES, Role.SERVICE)
    }
    made["sales"] = make_user(Role.SALES, username="sales", team=team)
    made["service"] = make_user(Role.SERVICE, username="service", team=team)
    made["admin"].is_staff = made["admin"].is_superuser = True
    made["admin"].save()
    return made


@pytest.fixture
def admin_user(users: dict[str, User]) -> User:
    return users["admin"]


def option(dimension: str, key: str) -> ClassOption:
    return ClassOption.objects.get(dimension=dimension, key=key)


@pytest.fixture
def customer(users: dict[str, User]) -> Customer:
    from needpool.customers.services import contact_create, customer_create

    c = customer_create(
        actor=users["sales"],
        name="A科技公司",
        industry="互联网",
        yearly_purchase=6_000_000,
        owner=users["sales"],
    )
    contact_create(
        actor=users["sales"],
        customer=c,
        name="王总",
        title="采购总监",
        phone="010-62345678",
        email="wang@a-tech.com.cn",
        decision_role="decision_maker",
    )
    return c


@pytest.fixture
def requirement(users: dict[str, User], customer: Customer) -> Requirement:
    from needpool.requirements.services import requirement_create

    return requirement_create(
        actor=users["sales"],
        customer=customer,
        title="按客户等级设置批量订单折扣规则",
        description="电商客户希望按客户等级自动计算批量下单折扣",
        background="客户年采购额超过 500 万，批量订单多",
        concrete_ask="支持按客户等级配置批量折扣规则",
        expected_date=dt.date(2024, 6, 30),
        type=option("type", "function_improvement"),
        urgency=option("urgency", "important"),
        tags=[option("tag", "bulk_operation")],
        submitted_at=timezone.now(),
    )


@pytest.fixture(autouse=True)
def _fresh_cache(request: Any) -> None:
    """Rate-limit and abuse counters live in the shared cache: every test that touches data starts empty."""
    uses_db = request.node.get_closest_marker("django_db") is not None or {
        "db",
        "transactional_db",
        "live_server",
    } & set(request.fixturenames)
    if not uses_db:
        return
    from django.core.cache import cache

    marker = request.node.get_closest_marker("django_db")
    transactional = "transactional_db" in request.fixturenames or "live_server" in request.fixturenames
    transactional = transactional or bool(marker and marker.kwargs.get("transaction"))
    request.getfixturevalue("transactional_db" if transactional else "db")
    cache.clear()


# API tests


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


# Page tests


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


def docs_client() -> APIClient:
    """A client signed in as a viewer: the OpenAPI document and Swagger UI need a signed-in user unless an
    admin publishes them (SiteConfig.api_docs_public)."""
    client = APIClient()
    client.force_authenticate(User.objects.get_or_create(username="docs-reader", defaults={"role": Role.VIEWER})[0])
    return client
