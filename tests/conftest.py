"""Shared fixtures: one user per role, a customer with a contact, and a requirement."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from needpool.accounts.models import Team, User
from needpool.accounts.roles import Role
from needpool.customers.models import Customer
from needpool.requirements.models import ClassOption, Requirement

PASSWORD = "correct-horse-battery-9"


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
