"""Two follow-up reminder runs at once on the same day remind each owner once (PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection, connections
from django.utils import timezone

from needpool.accounts.models import User
from needpool.core.models import Notification
from needpool.customers import cadence
from needpool.customers.models import Customer


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers are proven on PostgreSQL")
def test_two_reminder_runs_at_once_remind_once() -> None:
    from needpool.customers.services import customer_create

    owner = User.objects.create_user(username="sales-race", password="x-9-long-enough", role="sales")
    customer = customer_create(actor=owner, name="并发跟进客户", owner=owner)
    Customer.objects.filter(pk=customer.pk).update(next_follow_up=timezone.localdate() - dt.timedelta(days=1))
    now = timezone.now()
    barrier = threading.Barrier(2)
    results: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            results.append(cadence.follow_up_reminders_send(now=now))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert sorted(results) == [0, 1]
    assert Notification.objects.filter(recipient=owner, kind=Notification.Kind.FOLLOW_UP).count() == 1
