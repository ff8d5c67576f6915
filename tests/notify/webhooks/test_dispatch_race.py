"""Two workers dispatch and send the same event at the same moment (real threads on PostgreSQL): one delivery per
event × endpoint, one request to the receiver."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from needpool.notify.kinds import EventKind
from needpool.notify.models import Delivery, Event
from needpool.notify.services import delivery_send, event_dispatch_now
from tests.notify.webhooks.conftest import Receiver
from tests.races import at_once

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are proven on PostgreSQL"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_concurrent_dispatch_and_send_deliver_once(receiver_factory: Any, make_endpoint: Any) -> None:
    receivers: list[Receiver] = [receiver_factory(), receiver_factory()]
    endpoints = [make_endpoint(r, name=f"端点{i}")[0] for i, r in enumerate(receivers)]
    for round_ in range(3):
        # Stored directly: emit would dispatch on commit, and this test is the dispatch.
        event = Event.objects.create(key=f"race:{round_}", kind=EventKind.STATUS, message="状态变化")

        def work(event_id: int = event.pk) -> list[int]:
            event_dispatch_now(event_id)
            ids = list(Delivery.objects.filter(event_id=event_id).values_list("pk", flat=True))
            for pk in ids:
                delivery_send(pk)
            return ids

        results, errors = at_once([work, work, work])
        assert not errors, errors
        assert len(results) == 3
        for endpoint in endpoints:
            delivery = Delivery.objects.get(event=event, target=endpoint.target)
            assert delivery.status == Delivery.Status.SENT and delivery.attempts == 1
        for receiver in receivers:
            assert len(receiver.got) == round_ + 1
            assert len({r.headers["webhook-id"] for r in receiver.got}) == round_ + 1
