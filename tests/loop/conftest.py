from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from needpool.customers.models import Contact, Customer
from needpool.requirements.models import ClassOption, Requirement
from needpool.requirements.services import requirement_transition


def _option(dimension: str, key: str) -> ClassOption:
    return ClassOption.objects.get(dimension=dimension, key=key)


@pytest.fixture
def move(users: dict[str, Any], django_capture_on_commit_callbacks: Any) -> Any:
    """Move a requirement through statuses, running the after-commit listeners and jobs (immediate mode)."""

    def go(requirement: Requirement, *targets: str, note: str = "") -> Requirement:
        for target in targets:
            with django_capture_on_commit_callbacks(execute=True):
                requirement_transition(actor=users["product_manager"], requirement=requirement, to=target, note=note)
            requirement.refresh_from_db()
        return requirement

    return go


@pytest.fixture
def contact(customer: Customer) -> Contact:
    return customer.contacts.get()


@pytest.fixture
def make_asked(users: dict[str, Any]) -> Any:
    """A requirement asked for by ``customer`` through ``contact`` (standardised, so it may leave 待处理)."""
    from needpool.requirements.services import requirement_create

    def make(customer: Customer, contact: Contact | None, title: str = "批量订单折扣规则") -> Requirement:
        return requirement_create(
            actor=users["product_manager"],
            customer=customer,
            contact=contact,
            title=title,
            description=f"{customer.name} 希望按客户等级自动计算批量下单折扣",
            background="批量订单多",
            concrete_ask="支持按客户等级配置批量折扣规则",
            expected_date=dt.date(2024, 6, 30),
            type=_option("type", "function_improvement"),
            urgency=_option("urgency", "important"),
        )

    return make


@pytest.fixture
def other_customer(users: dict[str, Any]) -> Customer:
    from needpool.customers.services import contact_create, customer_create

    c = customer_create(
        actor=users["product_manager"], name="B制造企业", industry="制造", owner=users["product_manager"]
    )
    contact_create(actor=users["product_manager"], customer=c, name="李经理", email="li@b-make.com.cn")
    return c


@pytest.fixture
def asked(make_asked: Any, customer: Customer, contact: Contact) -> Requirement:
    return make_asked(customer, contact)
