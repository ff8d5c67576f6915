"""A bulk status change racing a single edit of the same requirement, both from the version the page showed:
exactly one applies, the other is refused (never a silent overwrite). Real threads on PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection

from needpool.core.concurrency import StaleVersion
from needpool.requirements.models import Requirement, StatusChange
from tests.races import at_once as _at_once

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are proven on PostgreSQL"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.mark.parametrize("rounds", range(3))
def test_bulk_status_change_and_single_edit_from_the_same_version(rounds):
    from needpool.accounts.models import User
    from needpool.customers.services import customer_create
    from needpool.requirements.services import requirement_create, requirement_update
    from needpool.requirements.services.bulk import requirements_bulk_edit

    pm = User.objects.create_user(username=f"pm-bulk-{rounds}", password="x-9-long-enough", role="product_manager")
    other = User.objects.create_user(username=f"mgr-bulk-{rounds}", password="x-9-long-enough", role="manager")
    customer = customer_create(actor=pm, name=f"批量并发客户{rounds}")
    req = requirement_create(
        actor=pm,
        customer=customer,
        title="批量并发",
        background="背景",
        concrete_ask="诉求",
        expected_date=dt.date(2030, 1, 1),
    )
    version = req.version

    def bulk() -> Any:
        return requirements_bulk_edit(
            actor=pm, ids=[req.pk], action="status", value="in_progress", versions={req.pk: version}
        )[0]

    def single() -> Any:
        fresh = Requirement.objects.get(pk=req.pk)
        return requirement_update(actor=other, requirement=fresh, expected_version=version, title="单条编辑")

    results, errors = _at_once([bulk, single])
    bulk_rows = [r for r in results if not isinstance(r, Requirement)]
    single_done = any(isinstance(r, Requirement) for r in results)
    assert len(bulk_rows) == 1 and len(results) + len(errors) == 2
    assert all(isinstance(e, StaleVersion) for e in errors), errors
    bulk_done = bulk_rows[0].ok
    assert bulk_done != single_done  # exactly one of the two applied
    req.refresh_from_db()
    assert req.version == version + 1
    assert (req.status.key == "in_progress") == bulk_done
    assert (req.title == "单条编辑") == single_done
    assert StatusChange.objects.filter(requirement=req, target__key="in_progress").count() == int(bulk_done)
    if not bulk_done:
        assert "已被他人修改" in bulk_rows[0].message
