"""Two people deciding the same agenda item at once (real threads, PostgreSQL row locks): one decision wins,
the other gets a clear conflict, and the requirement moves once."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from needpool.core.concurrency import StaleVersion
from needpool.requirements.models import StatusChange
from needpool.reviews.models import AgendaItem
from tests.races import at_once as _at_once

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are proven on PostgreSQL"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_two_deciders_one_wins_one_conflict_one_move():
    from needpool.accounts.models import User
    from needpool.customers.services import customer_create
    from needpool.requirements.services import requirement_create
    from needpool.reviews.services import agenda_add, decide, meeting_create

    one, two = (
        User.objects.create_user(username=f"pm-review-{i}", password="x-9-long-enough", role="product_manager")
        for i in range(2)
    )
    for round_ in range(3):
        customer = customer_create(actor=one, name=f"评审并发客户{round_}")
        req = requirement_create(
            actor=one,
            customer=customer,
            title="并发决策",
            background="背景",
            concrete_ask="诉求",
            expected_date=dt.date(2030, 1, 1),
        )
        start = timezone.now() + dt.timedelta(days=3)
        meeting = meeting_create(
            actor=one, title=f"并发评审{round_}", starts_at=start, ends_at=start + dt.timedelta(hours=1), chair=one
        )
        item = agenda_add(actor=one, meeting=meeting, requirement_ids=[req.pk])[0]

        def accept(item: AgendaItem = item) -> Any:
            return decide(actor=one, item=item, decision="accepted", expected_version=1)

        def reject(item: AgendaItem = item) -> Any:
            return decide(actor=two, item=item, decision="rejected", note="不做", expected_version=1)

        results, errors = _at_once([accept, reject])
        assert len(results) == 1 and len(errors) == 1, (results, errors)
        assert isinstance(errors[0], StaleVersion) and "已被他人处理" in str(errors[0])
        item.refresh_from_db()
        assert item.decision == results[0].decision and item.version == 2
        moves = StatusChange.objects.filter(requirement=req).count() - 1
        assert moves == 1
        req.refresh_from_db()
        assert req.status.key == ("in_progress" if item.decision == "accepted" else "rejected")
