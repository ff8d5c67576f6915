"""The notification layer's core: an event is stored once, told in-app at once, and delivered after commit."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone
from django.utils.translation import gettext_noop

from needpool.core.models import Notification
from needpool.notify import registry
from needpool.notify.kinds import Channel, EventKind
from needpool.notify.models import Delivery, Event, Preference
from needpool.notify.services import backoff_seconds, deliveries_due, delivery_send, emit

pytestmark = pytest.mark.django_db


def _emit(actor: Any, recipients: list[Any], key: str = "k1", kind: str = EventKind.ASSIGNED) -> Event | None:
    return emit(
        kind=kind,
        key=key,
        message=gettext_noop("%(actor)s 把需求 %(code)s 指派给你"),
        params={"actor": "张三", "code": "DEM20240301001"},
        url="/requirements/1/",
        actor=actor,
        recipients=recipients,
    )


def test_emit_tells_recipients_but_not_the_actor_once_per_key(
    make_user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    actor, owner = make_user("product_manager", "pm"), make_user("product_manager", "owner", email="o@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        event = _emit(actor, [owner, actor, None])
        again = _emit(actor, [owner])
    assert event is not None and again is None
    assert event.recipients == [owner.pk]
    assert list(Notification.objects.values_list("recipient_id", "text")) == [
        (owner.pk, "张三 把需求 DEM20240301001 指派给你")
    ]
    assert [m.to for m in mail.outbox] == [["o@example.com"]]
    assert Delivery.objects.get().status == Delivery.Status.SENT


def test_mail_is_in_the_recipients_language(make_user: Any, django_capture_on_commit_callbacks: Any) -> None:
    owner = make_user("product_manager", "owner", email="o@example.com", language="en")
    with django_capture_on_commit_callbacks(execute=True):
        _emit(None, [owner])
    assert mail.outbox[0].subject.startswith("[Needpool]")


def test_preferences_off_and_digest_only_send_nothing_now(
    make_user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    quiet, digest = make_user("sales", "quiet", email="q@example.com"), make_user("sales", "dig", email="d@example.com")
    Preference.objects.create(user=quiet, kind=EventKind.ASSIGNED, channels=[])
    Preference.objects.create(user=digest, kind=EventKind.ASSIGNED, channels=[Channel.DIGEST])
    with django_capture_on_commit_callbacks(execute=True):
        _emit(None, [quiet, digest])
    assert not Notification.objects.exists() and not mail.outbox and not Delivery.objects.exists()


def test_a_failing_send_is_retried_with_backoff_then_given_up(
    make_user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    calls: list[int] = []

    def broken(delivery: Delivery) -> registry.SendResult:
        calls.append(delivery.pk)
        raise registry.SendError("boom", response_status=503, response_excerpt="busy")

    registry.register_sender("broken", broken)
    registry.register_target_source("test-broken", lambda event: ["broken:1"])
    try:
        with django_capture_on_commit_callbacks(execute=True):
            _emit(None, [])
        delivery = Delivery.objects.get(target="broken:1")
        assert delivery.status == Delivery.Status.PENDING and delivery.attempts == 1
        assert delivery.response_status == 503 and delivery.error == "boom"
        assert delivery.next_attempt_at is not None
        wait = (delivery.next_attempt_at - timezone.now()).total_seconds()
        assert backoff_seconds(1) - 5 < wait <= backoff_seconds(1)
        assert delivery.pk not in deliveries_due()
        for _ in range(10):
            Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - dt.timedelta(seconds=1))
            delivery_send(delivery.pk)
        delivery.refresh_from_db()
        assert delivery.status == Delivery.Status.FAILED and delivery.attempts == 8 and len(calls) == 8
    finally:
        registry._target_sources.pop("test-broken", None)
        registry._senders.pop("broken", None)


def test_backoff_grows_and_is_capped() -> None:
    assert [backoff_seconds(n) for n in (1, 2, 3)] == [30, 60, 120]
    assert backoff_seconds(30) == 6 * 3600
