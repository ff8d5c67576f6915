"""The inbox page and API (own notifications only), the preferences API, and the admins' delivery log."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from needpool.core.models import Notification
from needpool.notify import registry
from needpool.notify.kinds import Channel, EventKind
from needpool.notify.models import Delivery, Event, Preference
from tests.conftest import count_queries

pytestmark = pytest.mark.django_db

INBOX = "/notifications/"
API = "/api/v1/notifications/"


def _notices(user: Any, n: int, kind: str = EventKind.MENTION, actor: Any = None, read: bool = False) -> None:
    from django.utils import timezone

    Notification.objects.bulk_create(
        Notification(
            recipient=user,
            kind=kind,
            text=f"{kind} {i}",
            url=f"/requirements/{i}/",
            actor=actor,
            read_at=timezone.now() if read else None,
        )
        for i in range(n)
    )


# ---------------------------------------------------------------- the page


def test_inbox_filters_by_kind_and_unread_and_keeps_them_when_paging(client: Any, users: dict[str, Any]) -> None:
    me = users["engineer"]
    _notices(me, 30, EventKind.TASK)
    _notices(me, 2, EventKind.SLA, read=True)
    _notices(me, 1, EventKind.SLA)
    client.force_login(me)
    response = client.get(INBOX, {"kind": "sla"})
    assert len(response.context["items"]) == 3
    assert {n.kind for n in response.context["items"]} == {"sla"}
    response = client.get(INBOX, {"kind": "sla", "unread": "1"})
    assert [n.text for n in response.context["items"]] == ["sla 0"]
    html = client.get(INBOX, {"kind": "task", "unread": "1"}).content.decode()
    assert "kind=task&amp;unread=1&amp;page=2" in html or "unread=1&amp;kind=task&amp;page=2" in html
    assert 'href="/requirements/29/"' in html  # each notice links to its object
    assert client.get(INBOX, {"kind": "nonsense"}).status_code == 200  # an unknown kind: no filter
    assert 'href="/notify/preferences/"' in html


def test_nav_shows_the_unread_count(client: Any, users: dict[str, Any]) -> None:
    me = users["engineer"]
    _notices(me, 3)
    _notices(me, 2, read=True)
    _notices(users["viewer"], 5)
    client.force_login(me)
    html = client.get(reverse("notify:preferences")).content.decode()
    assert 'badge-notification unread-count">3</span>' in html


def test_inbox_query_count_is_constant_with_filters(client: Any, users: dict[str, Any]) -> None:
    me = users["engineer"]
    client.force_login(me)
    url = f"{INBOX}?kind=mention&unread=1"
    _notices(me, 3, actor=users["manager"])
    few = count_queries(client, url)
    _notices(me, 25, actor=users["product_manager"])
    assert count_queries(client, url) == few <= 6


# ---------------------------------------------------------------- the API


def test_api_lists_only_own_with_filters(api: Any, users: dict[str, Any]) -> None:
    me, other = users["engineer"], users["sales"]
    _notices(me, 3, EventKind.TASK, actor=users["manager"])
    _notices(me, 2, EventKind.SLA, read=True)
    _notices(other, 4, EventKind.TASK)
    client = api(me)
    body = client.get(API).json()
    assert body["count"] == 5 and {row["kind"] for row in body["results"]} == {"task", "sla"}
    row = body["results"][-1]
    assert set(row) >= {"id", "kind", "kind_label", "text", "url", "actor", "created_at", "read_at", "unread"}
    assert client.get(API, {"unread": "true"}).json()["count"] == 3
    assert client.get(API, {"unread": "false"}).json()["count"] == 2
    assert client.get(API, {"kind": "sla"}).json()["count"] == 2
    assert client.get(API, {"kind": "nonsense"}).status_code == 400
    theirs = set(Notification.objects.filter(recipient=other).values_list("pk", flat=True))
    assert not theirs & {row["id"] for row in client.get(API, {"page_size": 100}).json()["results"]}
    assert client.get(f"{API}{min(theirs)}/").status_code == 404


def test_api_list_query_count_is_constant(api: Any, users: dict[str, Any], django_assert_max_num_queries: Any) -> None:
    me = users["engineer"]
    client = api(me)
    _notices(me, 3, actor=users["manager"])
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        assert client.get(API).status_code == 200
    _notices(me, 30, actor=users["product_manager"])
    with CaptureQueriesContext(connection) as many:
        assert client.get(API).status_code == 200
    assert len(few.captured_queries) == len(many.captured_queries)
    with django_assert_max_num_queries(4):
        client.get(API)


def test_api_unread_count_and_mark_read(api: Any, users: dict[str, Any]) -> None:
    me, other = users["engineer"], users["sales"]
    _notices(me, 4)
    _notices(other, 2)
    client = api(me)
    assert client.get(f"{API}unread-count/").json() == {"count": 4}
    mine = list(Notification.objects.filter(recipient=me).values_list("pk", flat=True))
    theirs = list(Notification.objects.filter(recipient=other).values_list("pk", flat=True))
    response = client.post(f"{API}mark-read/", {"ids": [mine[0], *theirs]}, format="json")
    assert response.status_code == 200 and response.json() == {"marked": 1}
    assert Notification.objects.filter(recipient=other, read_at__isnull=True).count() == 2
    assert client.post(f"{API}mark-read/", {}, format="json").status_code == 400
    assert client.post(f"{API}mark-read/", {"ids": ["x"]}, format="json").status_code == 400
    assert client.post(f"{API}mark-read/", {"all": True}, format="json").json() == {"marked": 3}
    assert client.get(f"{API}unread-count/").json() == {"count": 0}
    assert api(None).get(f"{API}unread-count/").status_code in (401, 403)
    assert api(None).get(API).status_code in (401, 403)


def test_api_preferences_get_and_put(api: Any, users: dict[str, Any]) -> None:
    me = users["sales"]
    client = api(me)
    body = client.get("/api/v1/notify/preferences/").json()
    assert body["language"] == ""
    low = next(row for row in body["preferences"] if row["kind"] == "low_score")
    assert low["channels"] == ["inapp", "mail"] and low["saved"] is False
    answer = client.put(
        "/api/v1/notify/preferences/", {"language": "en", "channels": {"status": ["digest"]}}, format="json"
    )
    assert answer.status_code == 200
    status = next(row for row in answer.json()["preferences"] if row["kind"] == "status")
    assert status["channels"] == ["digest"] and status["saved"] is True
    me.refresh_from_db()
    assert me.language == "en"
    bad: dict[str, Any]
    for bad in (
        {"channels": {"status": ["fax"]}},
        {"channels": {"nope": []}},
        {"language": "fr", "channels": {"task": []}},
    ):
        response = client.put("/api/v1/notify/preferences/", bad, format="json")
        assert response.status_code == 400, bad
    assert dict(Preference.objects.filter(user=me).values_list("kind", "channels")) == {"status": ["digest"]}
    me.refresh_from_db()
    assert me.language == "en"


# ---------------------------------------------------------------- the delivery log


@pytest.fixture
def flaky_target() -> Any:
    outcomes: list[bool] = [False]

    def sender(delivery: Delivery) -> registry.SendResult:
        if not outcomes[-1]:
            raise registry.SendError("refused", response_status=500, response_excerpt="server error")
        return registry.SendResult(response_status=200, response_excerpt="ok")

    registry.register_sender("flaky", sender)
    yield outcomes
    registry._senders.pop("flaky", None)


def _delivery(target: str = "flaky:1") -> Delivery:
    event = Event.objects.create(key=f"k-{target}", kind=EventKind.STATUS, message="m")
    return Delivery.objects.create(event=event, target=target)


def test_delivery_log_is_for_admins_only(client: Any, users: dict[str, Any], flaky_target: Any) -> None:
    delivery = _delivery()
    for role in ("manager", "product_manager", "engineer", "sales", "viewer"):
        client.force_login(users[role])
        assert client.get("/notify/deliveries/").status_code == 404
        assert client.post(f"/notify/deliveries/{delivery.pk}/resend/").status_code == 404
    delivery.refresh_from_db()
    assert delivery.attempts == 0
    client.force_login(users["admin"])
    assert client.get("/notify/deliveries/").status_code == 200


def test_delivery_log_filters_and_resend(client: Any, users: dict[str, Any], flaky_target: Any) -> None:
    failing = _delivery("flaky:1")
    _delivery("mail:99")
    Delivery.objects.filter(pk=failing.pk).update(status=Delivery.Status.FAILED, attempts=8, error="refused")
    client.force_login(users["admin"])
    response = client.get("/notify/deliveries/", {"status": "failed"})
    assert [d.pk for d in response.context["items"]] == [failing.pk]
    assert [d.target for d in client.get("/notify/deliveries/", {"target": "mail"}).context["items"]] == ["mail:99"]
    html = response.content.decode()
    assert "refused" in html and "重新发送" in html
    flaky_target.append(True)
    response = client.post(f"/notify/deliveries/{failing.pk}/resend/", {"next": "https://evil.example/"}, follow=True)
    assert response.redirect_chain[-1][0] == "/notify/deliveries/"
    assert "已重新发送" in response.content.decode()
    failing.refresh_from_db()
    assert failing.status == Delivery.Status.SENT and failing.attempts == 9 and failing.response_excerpt == "ok"


def test_delivery_log_query_count_is_constant(client: Any, users: dict[str, Any]) -> None:
    client.force_login(users["admin"])
    for i in range(3):
        _delivery(f"mail:{i}")
    few = count_queries(client, "/notify/deliveries/")
    for i in range(3, 30):
        _delivery(f"mail:{i}")
    assert count_queries(client, "/notify/deliveries/") == few


def test_preferences_page_query_count(client: Any, users: dict[str, Any], django_assert_max_num_queries: Any) -> None:
    client.force_login(users["sales"])
    with django_assert_max_num_queries(7):
        response = client.get("/notify/preferences/")
    html = response.content.decode()
    assert response.status_code == 200 and not mail.outbox
    # The IM column needs a personal bot: the page links to where it is set up.
    assert f'href="{reverse("notify:notify_chat:mine")}" id="personal-bot-link"' in html
    assert html.count(f'value="{Channel.IM}"') == len(EventKind.values)


NAMES = st.one_of(st.sampled_from(EventKind.values), st.text(max_size=12))
VALUES = st.lists(st.one_of(st.sampled_from(Channel.values), st.text(max_size=12)), max_size=4)


@given(channels=st.dictionaries(NAMES, VALUES, max_size=5), language=st.one_of(st.none(), st.text(max_size=8)))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_property_api_preferences_store_only_known_choices(
    api: Any, users: dict[str, Any], channels: dict[str, list[str]], language: str | None
) -> None:
    me = users["engineer"]
    before = sorted(Preference.objects.values_list("user_id", "kind", "channels"))
    body: dict[str, Any] = {"channels": channels}
    if language is not None:
        body["language"] = language
    response = api(me).put("/api/v1/notify/preferences/", body, format="json")
    for kind, chosen in Preference.objects.values_list("kind", "channels"):
        assert kind in EventKind.values and set(chosen) <= set(Channel.values)
    assert not Preference.objects.exclude(user=me).exists()
    if response.status_code != 200:
        assert response.status_code == 400
        assert sorted(Preference.objects.values_list("user_id", "kind", "channels")) == before
