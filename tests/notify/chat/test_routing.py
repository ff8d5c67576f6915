"""Which routes carry an event: active ones whose kinds include its kind (none chosen: all) and whose team is one
of the event's teams (none: every team) — exactly those, each once."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from needpool.accounts.models import Team
from needpool.notify.chat.models import ChatRoute, PersonalBot
from needpool.notify.chat.services import personal_bot_save, route_targets
from needpool.notify.kinds import EventKind
from needpool.notify.models import Delivery, Event
from needpool.notify.services import event_dispatch_now, event_targets

pytestmark = pytest.mark.django_db

KINDS = [EventKind.ASSIGNED, EventKind.STATUS, EventKind.SLA, EventKind.LOW_SCORE]
route_specs = st.lists(
    st.tuples(
        st.none() | st.integers(0, 2),  # team index
        st.sets(st.sampled_from(KINDS), max_size=3),  # kinds
        st.booleans(),  # active
    ),
    max_size=8,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(specs=route_specs, event_teams=st.sets(st.integers(0, 3), max_size=3), kind=st.sampled_from(KINDS))
def test_an_event_reaches_exactly_the_matching_routes_once(
    specs: list[tuple[int | None, set[str], bool]], event_teams: set[int], kind: str, db: Any
) -> None:
    teams = [Team.objects.get_or_create(name=f"团队 {i}")[0] for i in range(4)]
    routes = [
        ChatRoute.objects.create(
            name=f"r{i}",
            platform="slack",
            webhook_url="https://hooks.example.com/x",
            team=None if team is None else teams[team],
            kinds=sorted(kinds),
            active=active,
        )
        for i, (team, kinds, active) in enumerate(specs)
    ]
    event = Event.objects.create(key="k", kind=kind, message="m", teams=sorted(teams[i].pk for i in event_teams))
    try:
        wanted = [
            f"chat:{route.pk}"
            for route, (team, kinds, active) in zip(routes, specs, strict=True)
            if active and (not kinds or kind in kinds) and (team is None or team in event_teams)
        ]
        assert route_targets(event) == wanted
        chat_targets = [t for t in event_targets(event) if t.startswith("chat:")]
        assert chat_targets == wanted
        event_dispatch_now(event.pk)
        event_dispatch_now(event.pk)  # a second dispatch adds nothing
        delivered = list(Delivery.objects.filter(event=event).values_list("target", flat=True))
        assert sorted(delivered) == sorted(wanted)
    finally:
        Delivery.objects.all().delete()
        Event.objects.all().delete()
        ChatRoute.objects.all().delete()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_saves_of_ones_own_bot_at_once_keep_one_row(make_user: Any) -> None:
    user = make_user("sales", "twice")
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def save(platform: str) -> None:
        try:
            barrier.wait(timeout=10)
            personal_bot_save(user=user, platform=platform, webhook_url=f"https://hooks.example.com/{platform}")
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=save, args=(p,)) for p in ("slack", "wecom")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    if connection.vendor == "sqlite":
        # SQLite serialises writers: a busy database may refuse one save outright, never leave two rows.
        errors = [e for e in errors if "locked" not in str(e)]
    assert not errors
    bots = list(PersonalBot.objects.filter(user=user))
    assert len(bots) == 1 and bots[0].platform in ("slack", "wecom")
