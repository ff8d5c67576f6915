"""Races with real threads on PostgreSQL: a delete against an edit, a transition and a second delete of the
same requirement; a customer's delete against an edit. Either order gives one consistent outcome: the row is
in the bin and the loser is refused with a message (never a crash, never a write on a deleted row)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from needpool.core.models import AuditEntry
from needpool.customers.models import Customer
from needpool.requirements.models import Requirement, StatusChange
from tests.races import at_once as _at_once

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are proven on PostgreSQL"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _pm(name: str) -> Any:
    from needpool.accounts.models import User

    return User.objects.create_user(username=name, password="x-9-long-enough", role="product_manager")


def _requirement(actor: Any) -> Requirement:
    import datetime as dt

    from needpool.customers.services import customer_create
    from needpool.requirements.services import requirement_create

    customer = customer_create(actor=actor, name="并发客户")
    return requirement_create(
        actor=actor,
        customer=customer,
        title="并发删除",
        background="背景",
        concrete_ask="诉求",
        expected_date=dt.date(2030, 1, 1),
    )


@pytest.mark.parametrize("other", ["edit", "transition", "delete"])
def test_a_delete_racing_another_write(other: str) -> None:
    from needpool.requirements.services import requirement_transition, requirement_update
    from needpool.requirements.services.recycle import requirement_delete

    a, b = _pm("pm-del-a"), _pm("pm-del-b")
    req = _requirement(a)
    read = Requirement.objects.get(pk=req.pk)  # both read the same version before either writes
    calls: dict[str, Callable[[], Any]] = {
        "edit": lambda: requirement_update(
            actor=b, requirement=read, title="改过的标题", expected_version=read.version
        ),
        "transition": lambda: requirement_transition(actor=b, requirement=read, to="in_progress"),
        "delete": lambda: requirement_delete(actor=b, requirement=read, expected_version=read.version),
    }
    results, errors = _at_once(
        [lambda: requirement_delete(actor=a, requirement=read, expected_version=read.version), calls[other]]
    )
    assert all(isinstance(e, ValidationError | PermissionDenied) for e in errors), errors
    row = Requirement.all_objects.get(pk=req.pk)
    assert row.deleted_at is not None or other != "delete"
    deletes = AuditEntry.objects.filter(
        content_type__model="requirement", object_id=req.pk, action=AuditEntry.Action.DELETE
    ).count()
    if row.deleted_at is None:
        # the other write won and bumped the version: the delete opened on the old version was refused
        assert len(errors) == 1 and deletes == 0
    else:
        assert deletes == 1
        if other == "delete":
            assert len(results) == 1 and len(errors) == 1
        elif len(results) == 2:
            # the other write committed first, then the delete: it saw a newer version only if If-Match differed
            pytest.fail("both writes applied although they opened the same version")
        else:
            assert len(errors) == 1
            # nothing was written on the deleted row after its delete
            assert (
                row.title == "并发删除"
                and not StatusChange.objects.filter(requirement=row, source__isnull=False).exists()
            )


def test_a_customer_delete_racing_an_edit() -> None:
    from needpool.customers.services import customer_create, customer_delete, customer_update

    a, b = _pm("pm-cus-a"), _pm("pm-cus-b")
    customer = customer_create(actor=a, name="并发客户")
    read = Customer.objects.get(pk=customer.pk)
    results, errors = _at_once(
        [
            lambda: customer_delete(actor=a, customer=read, expected_version=read.version),
            lambda: customer_update(actor=b, customer=read, name="改名", expected_version=read.version),
        ]
    )
    assert len(results) == 1 and len(errors) == 1, (results, errors)
    assert isinstance(errors[0], ValidationError | PermissionDenied)
    row = Customer.all_objects.get(pk=customer.pk)
    assert (row.deleted_at is None) == (row.name == "改名")
