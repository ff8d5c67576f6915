"""``emit_many`` leaves exactly what ``emit`` called once per occurrence leaves: the same events, the same in-app
notices, the same events dispatched after commit; and it costs a fixed number of statements."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from needpool.core.models import Notification
from needpool.notify import services
from needpool.notify import tasks as notify_tasks
from needpool.notify.kinds import Channel, EventKind
from needpool.notify.models import Event, Preference
from needpool.notify.services import Emission, emit, emit_many, emit_one

pytestmark = pytest.mark.django_db

KINDS = [EventKind.PRIORITY, EventKind.SLA, EventKind.STATUS]
KEYS = ["k1", "k2", "k3", "k4", "before"]  # "before" is emitted ahead of each run: its occurrences tell nobody


class _Undo(Exception):
    pass


@pytest.fixture
def people(users: dict[str, Any], make_user: Any) -> list[Any]:
    """Active users of several roles (one prefers English, one hears priorities by mail only), an inactive one and
    one deactivated after the caller read it (its object still says active)."""
    gone = make_user("engineer", "gone")
    gone.is_active = False
    gone.save()
    stale = make_user("engineer", "stale")
    type(stale).objects.filter(pk=stale.pk).update(is_active=False)
    users["engineer"].language = "en"
    users["engineer"].save()
    Preference.objects.create(user=users["sales"], kind=EventKind.PRIORITY, channels=[Channel.MAIL])
    Preference.objects.create(user=users["manager"], kind=EventKind.SLA, channels=[])
    return [users["sales"], users["manager"], users["engineer"], users["product_manager"], gone, stale]


def _emissions(people: list[Any]) -> st.SearchStrategy[list[Emission]]:
    who = st.sampled_from([*people, None])
    one = st.builds(
        lambda kind, key, actor, recipients, mailed, title: Emission(
            kind=kind,
            key=key,
            message="需求 %(code)s「%(title)s」的优先级从 %(from)s 改为 %(to)s",
            params={"code": "REQ-1", "title": title, "from": "P1", "to": "P0"},
            url="/requirements/1/",
            actor=actor,
            recipients=recipients,
            teams=[p.team_id for p in recipients if p is not None and p.team_id],
            subject={"type": "requirement", "id": 1},
            data={"title": title},
            mailed=[p for p in mailed if p is not None],
        ),
        st.sampled_from(KINDS),
        st.sampled_from(KEYS),
        who,
        st.lists(who, max_size=5),
        st.lists(who, max_size=2),
        st.text(alphabet="订单导出报表ab", max_size=6),
    )
    return st.lists(one, max_size=8)


def _left(run: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[int]]:
    """Run ``run`` in a transaction that is rolled back: the events and notices it wrote (without ids or times)
    and the events it dispatched after commit, as positions in the order they were written."""
    dispatched: list[int] = []
    original = (notify_tasks.event_dispatch, notify_tasks.event_dispatch_many)
    notify_tasks.event_dispatch = lambda pk: dispatched.append(pk)  # type: ignore[assignment]
    notify_tasks.event_dispatch_many = lambda pks: dispatched.extend(pks)  # type: ignore[assignment]
    events: list[dict[str, Any]] = []
    notices: list[dict[str, Any]] = []
    try:
        with transaction.atomic():
            mark_event = Event.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
            mark_notice = Notification.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
            emit(kind=EventKind.PRIORITY, key="before", message="x")
            callbacks_before = len(connection.run_on_commit)
            run()
            rows = list(
                Event.objects.filter(pk__gt=mark_event)
                .exclude(key="before")
                .order_by("pk")
                .values("pk", "key", "kind", "message", "params", "url", "actor_id", "recipients", "mailed", "teams")
            )
            ids = [row.pop("pk") for row in rows]
            events = rows
            notices = list(
                Notification.objects.filter(pk__gt=mark_notice)
                .order_by("pk")
                .values("recipient_id", "kind", "text", "url", "actor_id")
            )
            for _savepoints, callback, _robust in connection.run_on_commit[callbacks_before:]:
                callback()
            raise _Undo
    except _Undo:
        pass
    finally:
        notify_tasks.event_dispatch, notify_tasks.event_dispatch_many = original
    return events, notices, [ids.index(pk) for pk in dispatched]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_emit_many_leaves_what_emit_once_per_occurrence_leaves(people, data):
    items = data.draw(_emissions(people))
    one_by_one = _left(lambda: [emit_one(item) for item in items])
    at_once = _left(lambda: emit_many(items))
    assert at_once == one_by_one


def test_emit_many_returns_each_items_event_or_none_for_a_key_told_before(people):
    emit(kind=EventKind.SLA, key="told", message="x", recipients=[people[0]])
    items = [Emission(kind=EventKind.SLA, key=k, message="m", recipients=[people[1]]) for k in ("a", "told", "a", "b")]
    found = emit_many(items)
    assert [e.key if e else None for e in found] == ["a", None, None, "b"]
    assert Event.objects.filter(key__in=["a", "b"]).count() == 2


def test_emit_many_costs_the_same_statements_for_ten_or_two_hundred_occurrences(people):
    def statements(count: int, prefix: str) -> int:
        items = [
            Emission(kind=EventKind.PRIORITY, key=f"{prefix}{i}", message="m", recipients=people[:4])
            for i in range(count)
        ]
        with CaptureQueriesContext(connection) as queries:
            emit_many(items)
        return len(queries.captured_queries)

    small, large = statements(10, "s"), statements(200, "l")
    assert large == small, (small, large)
    assert Notification.objects.filter(kind=EventKind.PRIORITY).count() == 10 * 3 + 200 * 3  # sales: mail only


def test_a_key_taken_meanwhile_falls_back_to_one_at_a_time(people, monkeypatch):
    """Another process emitted one of the keys between the look-up and the insert: nothing is told twice."""
    real_filter = Event.objects.filter

    def stale_lookup(*args: Any, **kwargs: Any) -> Any:
        if "key__in" in kwargs:
            emit(kind=EventKind.SLA, key="raced", message="x", recipients=[people[0]])
            return real_filter(pk__in=[])
        return real_filter(*args, **kwargs)

    monkeypatch.setattr(services.Event.objects, "filter", stale_lookup)
    items = [Emission(kind=EventKind.SLA, key=k, message="m", recipients=[people[3]]) for k in ("raced", "fresh")]
    found = emit_many(items)
    monkeypatch.undo()
    assert [e.key if e else None for e in found] == [None, "fresh"]
    assert Event.objects.filter(key="raced").count() == 1
    assert Notification.objects.filter(recipient=people[3], kind=EventKind.SLA).count() == 1  # "fresh" only


def test_the_one_job_after_commit_delivers_every_event_as_its_own_job_would(
    make_user, django_capture_on_commit_callbacks
):
    from django.core import mail

    from needpool.notify.models import Delivery

    owners = [make_user("product_manager", f"owner{i}", email=f"o{i}@example.com") for i in range(3)]
    items = [
        Emission(
            kind=EventKind.ASSIGNED,
            key=f"many:{i}",
            message="需求 %(code)s 指派给你",
            params={"code": f"R{i}"},
            recipients=[owner],
        )
        for i, owner in enumerate(owners)
    ]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        emit_many(items)
    assert len(callbacks) == 1  # one job for the three events
    assert sorted(m.to[0] for m in mail.outbox) == ["o0@example.com", "o1@example.com", "o2@example.com"]
    assert list(Delivery.objects.values_list("status", flat=True)) == [Delivery.Status.SENT] * 3


def test_a_large_batch_is_dispatched_in_jobs_of_a_bounded_size(people, monkeypatch, django_capture_on_commit_callbacks):
    jobs: list[list[int]] = []
    monkeypatch.setattr(services, "DISPATCH_BATCH", 3)
    monkeypatch.setattr(notify_tasks, "event_dispatch_many", lambda pks: jobs.append(list(pks)))
    items = [Emission(kind=EventKind.SLA, key=f"b{i}", message="m", recipients=[people[3]]) for i in range(7)]
    with django_capture_on_commit_callbacks(execute=True):
        made = emit_many(items)
    assert [len(job) for job in jobs] == [3, 3, 1]
    assert [pk for job in jobs for pk in job] == [event.pk for event in made if event is not None]
