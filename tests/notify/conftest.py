"""Shared helpers of the notification tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone
from django.utils.translation import gettext_noop

from needpool.notify.kinds import EventKind
from needpool.notify.models import Event
from needpool.notify.services import emit

#: The sentence the notification tests emit, and its English: the catalogue holds the product's own sentences,
#: so the tests give this one its translation themselves (rendering per recipient language is what they prove).
TEST_SENTENCE = "%(actor)s 把需求 %(code)s 指派给你"
TEST_SENTENCE_EN = "%(actor)s assigned requirement %(code)s to you"


@pytest.fixture(autouse=True)
def _english_for_the_test_sentence() -> None:
    """Adds the test sentence to the process's English catalogue (a msgid no product code uses, so it can stay)."""
    from django.utils.translation import trans_real

    trans_real.translation("en")._catalog[TEST_SENTENCE] = TEST_SENTENCE_EN  # type: ignore[attr-defined]


@pytest.fixture
def send_event(django_capture_on_commit_callbacks: Any) -> Callable[..., Event | None]:
    """Emit one event (after-commit work included); ``at`` back-dates it."""
    counter = {"n": 0}

    def make(
        recipients: list[Any],
        *,
        kind: str = EventKind.ASSIGNED,
        actor: Any = None,
        at: dt.datetime | None = None,
        code: str = "DEM20240301001",
        url: str = "/requirements/1/",
    ) -> Event | None:
        counter["n"] += 1
        with django_capture_on_commit_callbacks(execute=True):
            event = emit(
                kind=kind,
                key=f"test:{counter['n']}",
                message=gettext_noop("%(actor)s 把需求 %(code)s 指派给你"),
                params={"actor": "张三", "code": code},
                url=url,
                actor=actor,
                recipients=recipients,
            )
        if event is not None and at is not None:
            Event.objects.filter(pk=event.pk).update(created_at=at)
            event.refresh_from_db()
        return event

    return make


def at_local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """``day`` at ``hour:minute`` site time, as an aware datetime."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))
