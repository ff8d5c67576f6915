"""Webhook deliveries end to end against loopback receivers: the signed payload, rotation, retries with growing
backoff, one delivery per event × endpoint, the kinds filter, resend, 410 Gone and the private-address refusal."""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import json
from collections.abc import Callable
from typing import Any
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext_noop
from hypothesis import given
from hypothesis import strategies as st
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from needpool.core.models import AuditEntry
from needpool.notify.kinds import EventKind
from needpool.notify.models import Delivery, Event
from needpool.notify.services import backoff_seconds, delivery_send, emit, event_dispatch_now
from needpool.notify.webhooks.models import WebhookEndpoint, WebhookSecret
from needpool.notify.webhooks.sending import address_allowed, signed_headers, webhook_targets
from needpool.notify.webhooks.services import (
    new_secret,
    webhook_delivery_resend,
    webhook_endpoint_create,
    webhook_endpoint_ping,
    webhook_endpoint_rotate_secret,
    webhook_endpoint_update,
)
from tests.notify.webhooks.conftest import Receiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def fire(django_capture_on_commit_callbacks: Any) -> Callable[..., Event]:
    """Emit one requirement status event and run what happens after commit (dispatch and the first send)."""

    def fire(key: str = "status:1", kind: str = EventKind.STATUS, actor: Any = None) -> Event:
        with django_capture_on_commit_callbacks(execute=True):
            event = emit(
                kind=kind,
                key=key,
                message=gettext_noop("%(actor)s 把需求 %(code)s 指派给你"),
                params={"actor": "张三", "code": "DEM20240301001"},
                url="/requirements/1/",
                actor=actor,
                subject={"type": "requirement", "id": 1, "code": "DEM20240301001", "title": "批量折扣"},
                data={"from": "待评审", "to": "开发中"},
            )
        assert event is not None
        return event

    return fire


def _delivery(endpoint: WebhookEndpoint) -> Delivery:
    return Delivery.objects.get(target=endpoint.target)


def test_an_event_reaches_the_endpoint_as_signed_json(receiver: Receiver, make_endpoint: Any, fire: Any, admin: Any):
    endpoint, secret = make_endpoint(receiver)
    event = fire(actor=admin)
    assert len(receiver.got) == 1
    got = receiver.got[0]
    assert got.verified_by == [secret]
    delivery = _delivery(endpoint)
    assert got.headers["webhook-id"] == f"msg_{delivery.pk}"
    assert got.headers["content-type"] == "application/json"
    assert "Needpool" in got.headers["user-agent"]
    assert "张三".encode() in got.body  # UTF-8, not \u escapes
    payload = Webhook(secret).verify(got.body, got.headers)
    assert payload["type"] == "requirement.status"
    assert payload["timestamp"] == event.created_at.isoformat()
    assert payload["data"] == {
        "event_id": event.pk,
        "kind": "status",
        "key": "status:1",
        "message": "张三 把需求 DEM20240301001 指派给你",
        "url": "http://localhost:8000/requirements/1/",
        "actor": {"id": admin.pk, "name": str(admin)},
        "subject": {"type": "requirement", "id": 1, "code": "DEM20240301001", "title": "批量折扣"},
        "data": {"from": "待评审", "to": "开发中"},
        "occurred_at": event.created_at.isoformat(),
    }
    assert delivery.status == Delivery.Status.SENT and delivery.attempts == 1
    assert delivery.response_status == 200 and delivery.response_excerpt == '{"ok":true}'
    assert delivery.latency_ms is not None


@given(body=st.binary(min_size=1, max_size=200), data=st.data())
def test_a_tampered_body_or_header_never_verifies(body: bytes, data: Any) -> None:
    secret = new_secret()
    headers = signed_headers(msg_id="msg_1", body=body, secrets=[secret])
    Webhook(secret).verify(body, headers, json_parse=False)
    index = data.draw(st.integers(0, len(body) - 1))
    flip = data.draw(st.integers(1, 255))
    tampered = body[:index] + bytes([body[index] ^ flip]) + body[index + 1 :]
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(tampered, headers, json_parse=False)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body, {**headers, "webhook-id": "msg_2"}, json_parse=False)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(body, headers, json_parse=False)


def test_secrets_are_24_random_bytes_and_shown_masked(admin: Any, receiver: Receiver) -> None:
    endpoint, secret = webhook_endpoint_create(actor=admin, name="A", url=receiver.url)
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 24
    row = WebhookSecret.objects.get(endpoint=endpoint)
    assert row.masked == f"whsec_…{secret[-4:]}" and secret not in row.masked
    entry = AuditEntry.objects.get(object_id=endpoint.pk, action=AuditEntry.Action.CREATE)
    assert secret not in json.dumps(entry.changes, ensure_ascii=False)


def test_rotation_signs_with_both_secrets_during_the_grace_period_then_only_the_new(
    receiver: Receiver, make_endpoint: Any, fire: Any, admin: Any
):
    endpoint, old = make_endpoint(receiver)
    _row, new = webhook_endpoint_rotate_secret(actor=admin, endpoint=endpoint)
    receiver.secrets.append(new)
    fire(key="during")
    during = receiver.got[-1]
    assert during.verified_by == [old, new]  # a receiver holding either secret accepts it
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    previous = WebhookSecret.objects.get(secret=old)
    assert previous.expires_at is not None
    assert dt.timedelta(hours=23, minutes=59) < previous.expires_at - timezone.now() <= dt.timedelta(hours=24)

    WebhookSecret.objects.filter(pk=previous.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    fire(key="after")
    after = receiver.got[-1]
    assert after.verified_by == [new]
    assert len(after.headers["webhook-signature"].split(" ")) == 1
    assert AuditEntry.objects.filter(object_id=endpoint.pk, changes__has_key="secret").count() == 2


def test_rotation_without_grace_stops_the_old_secret_at_once(receiver: Receiver, make_endpoint: Any, fire: Any, admin):
    endpoint, _old = make_endpoint(receiver)
    _row, new = webhook_endpoint_rotate_secret(actor=admin, endpoint=endpoint, grace=dt.timedelta(0))
    receiver.secrets.append(new)
    fire()
    assert receiver.got[-1].verified_by == [new]
    with pytest.raises(ValidationError):
        webhook_endpoint_rotate_secret(actor=admin, endpoint=endpoint, grace=dt.timedelta(days=30))
    assert WebhookSecret.objects.filter(endpoint=endpoint).count() == 2


def test_a_failing_receiver_is_retried_with_growing_backoff_and_the_same_id(
    receiver_factory: Any, make_endpoint: Any, fire: Any
):
    receiver = receiver_factory(fail_times=3, reply=b"busy")
    endpoint, _secret = make_endpoint(receiver)
    frozen = timezone.now()
    with mock.patch("django.utils.timezone.now", return_value=frozen):
        fire()
        delivery = _delivery(endpoint)
        waits: list[float] = []
        while True:
            delivery.refresh_from_db()
            if delivery.status != Delivery.Status.PENDING:
                break
            assert delivery.response_status == 500 and delivery.response_excerpt == "busy"
            assert delivery.error
            assert delivery.next_attempt_at is not None
            waits.append((delivery.next_attempt_at - frozen).total_seconds())
            # Not due yet: nothing is sent.
            assert delivery_send(delivery.pk) == Delivery.Status.PENDING
            assert len(receiver.got) == delivery.attempts
            Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=frozen - dt.timedelta(seconds=1))
            delivery_send(delivery.pk)
    assert waits == [backoff_seconds(1), backoff_seconds(2), backoff_seconds(3)]
    assert waits == sorted(waits) and len(set(waits)) == 3
    assert delivery.status == Delivery.Status.SENT and delivery.attempts == 4 and delivery.error == ""
    assert len(receiver.got) == 4
    assert {r.headers["webhook-id"] for r in receiver.got} == {f"msg_{delivery.pk}"}
    assert all(r.verified_by for r in receiver.got)


def test_an_event_is_delivered_once_per_endpoint_even_when_dispatched_again(
    receiver_factory: Any, make_endpoint: Any, fire: Any
):
    first, second = receiver_factory(), receiver_factory()
    make_endpoint(first, name="一")
    make_endpoint(second, name="二")
    event = fire()
    assert event_dispatch_now(event.pk) == []
    for pk in Delivery.objects.filter(event=event).values_list("pk", flat=True):
        delivery_send(pk)
    assert len(first.got) == len(second.got) == 1
    assert Delivery.objects.filter(event=event).count() == 2


def test_endpoints_get_only_the_kinds_they_chose(receiver_factory: Any, make_endpoint: Any, fire: Any) -> None:
    all_kinds, status_only, sla_only = receiver_factory(), receiver_factory(), receiver_factory()
    make_endpoint(all_kinds, name="全部")
    make_endpoint(status_only, kinds=[EventKind.STATUS], name="状态")
    make_endpoint(sla_only, kinds=[EventKind.SLA], name="SLA")
    fire(kind=EventKind.STATUS)
    assert (len(all_kinds.got), len(status_only.got), len(sla_only.got)) == (1, 1, 0)


KIND_SETS = st.lists(
    st.tuples(st.lists(st.sampled_from(EventKind.values), unique=True, max_size=4), st.booleans()), max_size=5
)


@given(endpoints=KIND_SETS, kind=st.sampled_from(EventKind.values))
def test_targets_are_exactly_the_active_endpoints_that_want_the_kind(
    endpoints: list[tuple[list[str], bool]], kind: str
) -> None:
    WebhookEndpoint.objects.all().delete()
    made = [
        WebhookEndpoint.objects.create(name=f"e{i}", url="https://example.com/h", kinds=kinds, active=active)
        for i, (kinds, active) in enumerate(endpoints)
    ]
    expected = [e.target for e in made if e.active and (not e.kinds or kind in e.kinds)]
    assert webhook_targets(Event(kind=kind, key="x")) == expected
    # A ping names only its own endpoint, whatever it chose.
    if made:
        assert webhook_targets(Event(kind="ping", key="p", data={"endpoint": made[0].pk})) == [made[0].target]


def test_kinds_are_checked(admin: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        webhook_endpoint_create(actor=admin, name="A", url="https://example.com/h", kinds=["status", "nope"])
    assert "nope" in str(exc.value)
    assert not WebhookEndpoint.objects.exists()


def test_the_test_event_goes_to_that_endpoint_only(
    receiver_factory: Any, make_endpoint: Any, admin: Any, django_capture_on_commit_callbacks: Any
):
    mine, other = receiver_factory(), receiver_factory()
    endpoint, secret = make_endpoint(mine, kinds=[EventKind.SLA])
    make_endpoint(other, name="其他")
    with django_capture_on_commit_callbacks(execute=True):
        webhook_endpoint_ping(actor=admin, endpoint=endpoint)
    assert len(mine.got) == 1 and not other.got
    payload = Webhook(secret).verify(mine.got[0].body, mine.got[0].headers)
    assert payload["type"] == "webhook.ping" and payload["data"]["subject"]["id"] == endpoint.pk


def test_resend_sends_the_same_message_again(receiver: Receiver, make_endpoint: Any, fire: Any, admin: Any) -> None:
    endpoint, _secret = make_endpoint(receiver)
    fire()
    delivery = _delivery(endpoint)
    again = webhook_delivery_resend(actor=admin, endpoint=endpoint, delivery=delivery)
    assert again.status == Delivery.Status.SENT and again.attempts == 2
    assert len(receiver.got) == 2 and receiver.got[0].headers["webhook-id"] == receiver.got[1].headers["webhook-id"]
    assert AuditEntry.objects.filter(object_id=endpoint.pk, changes__resend=delivery.pk).exists()


def test_resend_is_for_admins_and_for_the_endpoints_own_deliveries(
    receiver_factory: Any, make_endpoint: Any, fire: Any, make_user: Any
):
    first, second = receiver_factory(), receiver_factory()
    one, _ = make_endpoint(first, name="一")
    two, _ = make_endpoint(second, name="二")
    fire()
    with pytest.raises(PermissionDenied):
        webhook_delivery_resend(actor=make_user("manager"), endpoint=one, delivery=_delivery(one))
    with pytest.raises(ValidationError):
        webhook_delivery_resend(actor=make_user("admin", "a2"), endpoint=one, delivery=_delivery(two))
    assert len(first.got) == len(second.got) == 1


def test_410_gone_switches_the_endpoint_off_and_says_why(receiver_factory: Any, make_endpoint: Any, fire: Any) -> None:
    receiver = receiver_factory(status=410, reply=b"gone")
    endpoint, _secret = make_endpoint(receiver)
    fire(key="one")
    delivery = _delivery(endpoint)
    endpoint.refresh_from_db()
    assert not endpoint.active
    assert delivery.status == Delivery.Status.SKIPPED and delivery.response_status == 410
    entry = AuditEntry.objects.filter(object_id=endpoint.pk, changes__has_key="reason").get()
    assert entry.actor is None and "410" in entry.changes["reason"] and entry.changes["active"] == [True, False]
    fire(key="two")
    assert len(receiver.got) == 1 and Delivery.objects.filter(target=endpoint.target).count() == 1


def test_private_addresses_are_refused_unless_allowed(
    receiver: Receiver, make_endpoint: Any, fire: Any, settings: Any
) -> None:
    settings.NEEDPOOL_WEBHOOKS_ALLOW_PRIVATE_HOSTS = False
    endpoint, _secret = make_endpoint(receiver)
    fire()
    delivery = _delivery(endpoint)
    assert not receiver.got
    assert delivery.status == Delivery.Status.PENDING and "127.0.0.1" in delivery.error
    settings.NEEDPOOL_WEBHOOKS_ALLOW_PRIVATE_HOSTS = True
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - dt.timedelta(seconds=1))
    assert delivery_send(delivery.pk) == Delivery.Status.SENT and len(receiver.got) == 1


PRIVATE_NETWORKS = [
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "100.64.0.0/10",
    "0.0.0.0/8",
    "224.0.0.0/4",
    "240.0.0.0/4",
]


@given(network=st.sampled_from(PRIVATE_NETWORKS), offset=st.integers(min_value=0))
def test_no_private_loopback_or_link_local_address_is_allowed(network: str, offset: int) -> None:
    net = ipaddress.ip_network(network)
    address = net[offset % net.num_addresses]
    assert not address_allowed(str(address))
    assert not address_allowed(f"::ffff:{address}")  # the same address written as IPv6


@pytest.mark.parametrize("address", ["::1", "fe80::1", "fe80::1%eth0", "fc00::1", "::", "not an address"])
def test_private_ipv6_and_garbage_are_refused(address: str) -> None:
    assert not address_allowed(address)


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert address_allowed(address)


@pytest.mark.parametrize(
    "url", ["ftp://example.com/h", "file:///etc/passwd", "javascript:alert(1)", "example.com/h", "https://u:p@ex.com/"]
)
def test_only_plain_http_and_https_urls_are_accepted(admin: Any, url: str) -> None:
    with pytest.raises(ValidationError) as exc:
        webhook_endpoint_create(actor=admin, name="A", url=url)
    assert "url" in exc.value.error_dict
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("role", ["manager", "product_manager", "sales", "engineer", "viewer"])
def test_only_admins_write(make_user: Any, role: str, admin: Any) -> None:
    user = make_user(role)
    with pytest.raises(PermissionDenied):
        webhook_endpoint_create(actor=user, name="A", url="https://example.com/h")
    endpoint, _secret = webhook_endpoint_create(actor=admin, name="A", url="https://example.com/h")
    for call in (
        lambda: webhook_endpoint_update(actor=user, endpoint=endpoint, name="B"),
        lambda: webhook_endpoint_rotate_secret(actor=user, endpoint=endpoint),
        lambda: webhook_endpoint_ping(actor=user, endpoint=endpoint),
    ):
        with pytest.raises(PermissionDenied):
            call()
    endpoint.refresh_from_db()
    assert endpoint.name == "A" and WebhookSecret.objects.filter(endpoint=endpoint).count() == 1
