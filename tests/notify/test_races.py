"""Writes two workers or two tabs make at once (real threads on PostgreSQL): one digest per user and day, sent
once; two saves of the same preferences end in one row each, no error."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import mail
from django.db import connection

from needpool.notify.kinds import Channel, EventKind
from needpool.notify.models import DigestRun, Event, Preference
from needpool.notify.services import digest_send, digests_prepare, preferences_set
from tests.notify.conftest import at_local
from tests.races import at_once

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are proven on PostgreSQL"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

EIGHT = at_local(dt.date(2026, 3, 10), 8)


def _reader() -> Any:
    from needpool.accounts.models import User

    return User.objects.create_user(
        username="race-reader", password="x-9-long-enough", role="product_manager", email="race@example.com"
    )


def test_two_digest_jobs_at_once_send_one_digest() -> None:
    user = _reader()
    for i in range(3):
        event = Event.objects.create(key=f"race:{i}", kind=EventKind.STATUS, message="m", recipients=[user.pk])
        Event.objects.filter(pk=event.pk).update(created_at=EIGHT - dt.timedelta(hours=i + 1))
    made, errors = at_once([lambda: digests_prepare(now=EIGHT), lambda: digests_prepare(now=EIGHT)])
    assert not errors, errors
    assert sorted(len(ids) for ids in made) == [0, 1]
    (run,) = DigestRun.objects.all()
    mail.outbox.clear()
    sent, errors = at_once([lambda: digest_send(run.pk, now=EIGHT), lambda: digest_send(run.pk, now=EIGHT)])
    assert not errors, errors
    # The second job either finds the first one's claim (still pending) or its result (sent);
    # either way exactly one mail leaves.
    assert sorted(sent) in (["pending", "sent"], ["sent", "sent"])
    assert len(mail.outbox) == 1
    assert DigestRun.objects.get(pk=run.pk).attempts == 1


def test_two_saves_of_the_same_preferences_at_once() -> None:
    user = _reader()

    def save(channels: list[str]) -> Any:
        return lambda: preferences_set(actor=user, user=user, choices={EventKind.TASK: channels})

    _done, errors = at_once([save([Channel.MAIL]), save([Channel.DIGEST])])
    assert not errors, errors
    (row,) = Preference.objects.filter(user=user)
    assert row.channels in ([Channel.MAIL], [Channel.DIGEST])
