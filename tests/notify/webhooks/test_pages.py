"""The webhook pages: admins only, the secret shown once, the delivery log with its filter and query count,
resend, the test event, rotation, edit and delete."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.translation import gettext_noop

from needpool.core.models import AuditEntry
from needpool.notify.kinds import EventKind
from needpool.notify.models import Delivery, Event
from needpool.notify.webhooks.models import WebhookEndpoint, WebhookSecret
from tests.notify.webhooks.conftest import Receiver

pytestmark = pytest.mark.django_db

LIST = reverse("notify:notify_webhooks:list")


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _url(name: str, *args: Any) -> str:
    return reverse(f"notify:notify_webhooks:{name}", args=args)


def _events(endpoint: WebhookEndpoint, n: int, status: str = Delivery.Status.SENT) -> None:
    start = Event.objects.count()
    for i in range(start, start + n):
        event = Event.objects.create(key=f"log:{endpoint.pk}:{i}", kind=EventKind.STATUS, message="变更")
        Delivery.objects.create(event=event, target=endpoint.target, status=status, attempts=1, response_status=200)


@pytest.mark.parametrize("role", ["manager", "product_manager", "sales", "viewer"])
def test_non_admins_are_refused_and_see_no_endpoint(make_user: Any, make_endpoint: Any, receiver: Receiver, role: str):
    endpoint, _secret = make_endpoint(receiver)
    client = _client(make_user(role))
    assert client.get(LIST).status_code == 403
    assert client.get(_url("create")).status_code == 403
    assert client.post(_url("create"), {"name": "X", "url": "https://example.com/h"}).status_code == 403
    for name in ("endpoint", "edit", "delete"):
        assert client.get(_url(name, endpoint.pk)).status_code == 404
    for name in ("rotate", "ping", "delete"):
        assert client.post(_url(name, endpoint.pk)).status_code == 404
    assert WebhookEndpoint.objects.count() == 1 and WebhookSecret.objects.count() == 1
    assert 'id="nav-webhooks"' not in client.get(reverse("home:home")).content.decode()


def test_anonymous_is_sent_to_sign_in(client: Client) -> None:
    response = client.get(LIST)
    assert response.status_code == 302 and "login" in response["Location"]


def test_create_shows_the_secret_once_then_masked(admin: Any) -> None:
    client = _client(admin)
    assert 'id="nav-webhooks"' in client.get(reverse("home:home")).content.decode()
    form = {"name": "工单系统", "url": "https://example.com/hooks", "kinds": ["status", "sla"], "active": "on"}
    response = client.post(_url("create"), form)
    assert response.status_code == 200 and response["Cache-Control"] == "private, no-store"
    endpoint = WebhookEndpoint.objects.get()
    secret = WebhookSecret.objects.get(endpoint=endpoint).secret
    assert endpoint.kinds == ["status", "sla"] and endpoint.created_by == admin
    assert secret in response.content.decode()
    html = client.get(_url("endpoint", endpoint.pk)).content.decode()
    assert secret not in html and f"whsec_…{secret[-4:]}" in html
    assert AuditEntry.objects.filter(object_id=endpoint.pk, action=AuditEntry.Action.CREATE).exists()


def test_bad_input_gets_a_message_and_writes_nothing(admin: Any) -> None:
    response = _client(admin).post(_url("create"), {"name": "坏地址", "url": "ftp://example.com/h"})
    assert response.status_code == 200
    assert "http:// 或 https://" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_edit_and_delete(admin: Any, make_endpoint: Any, receiver: Receiver) -> None:
    endpoint, _secret = make_endpoint(receiver)
    client = _client(admin)
    response = client.post(_url("edit", endpoint.pk), {"name": "改名", "url": receiver.url, "kinds": ["sla"]})
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.name == "改名" and endpoint.kinds == ["sla"] and not endpoint.active
    assert AuditEntry.objects.filter(object_id=endpoint.pk, action=AuditEntry.Action.UPDATE).exists()
    assert client.get(_url("delete", endpoint.pk)).status_code == 200
    assert client.post(_url("delete", endpoint.pk)).status_code == 302
    assert not WebhookEndpoint.objects.exists() and not WebhookSecret.objects.exists()
    assert AuditEntry.objects.filter(object_id=endpoint.pk, action=AuditEntry.Action.DELETE).exists()


def test_list_shows_last_status_and_failures_with_few_queries(
    admin: Any, make_endpoint: Any, receiver_factory: Any, django_assert_max_num_queries: Any
):
    client = _client(admin)
    first, _ = make_endpoint(receiver_factory(), name="A 端点")
    _events(first, 2)
    _events(first, 3, Delivery.Status.FAILED)
    client.get(LIST)
    with django_assert_max_num_queries(6):
        response = client.get(LIST)
    html = response.content.decode()
    assert html.count('class="endpoint-row"') == 1 and "发送失败" in html
    assert '<span class="text-danger">3</span>' in html
    for i in range(12):
        endpoint, _ = make_endpoint(receiver_factory(), name=f"端点 {i:02d}")
        _events(endpoint, 2, Delivery.Status.FAILED)
    with django_assert_max_num_queries(6):
        response = client.get(LIST)
    assert response.content.decode().count('class="endpoint-row"') == 13


def test_delivery_log_is_paginated_filtered_and_counted(
    admin: Any, make_endpoint: Any, receiver: Receiver, django_assert_max_num_queries: Any
):
    endpoint, _secret = make_endpoint(receiver)
    _events(endpoint, 1)
    client = _client(admin)
    client.get(_url("endpoint", endpoint.pk))
    with django_assert_max_num_queries(10) as few:
        client.get(_url("endpoint", endpoint.pk))
    _events(endpoint, 30)
    _events(endpoint, 2, Delivery.Status.FAILED)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(_url("endpoint", endpoint.pk))
    assert response.content.decode().count('class="delivery-row"') == 20
    failed = client.get(_url("endpoint", endpoint.pk), {"status": "failed"}).content.decode()
    assert failed.count('class="delivery-row"') == 2


def test_resend_button_sends_again(
    admin: Any, make_endpoint: Any, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    endpoint, _secret = make_endpoint(receiver)
    with django_capture_on_commit_callbacks(execute=True):
        from needpool.notify.services import emit

        emit(kind=EventKind.STATUS, key="r1", message=gettext_noop("状态变化"))
    delivery = Delivery.objects.get(target=endpoint.target)
    client = _client(admin)
    assert "重新发送" in client.get(_url("endpoint", endpoint.pk)).content.decode()
    response = client.post(_url("resend", endpoint.pk, delivery.pk))
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.attempts == 2 and len(receiver.got) == 2
    other, _ = make_endpoint(receiver, name="另一个")
    assert client.post(_url("resend", other.pk, delivery.pk)).status_code == 404


def test_test_event_button(
    admin: Any, make_endpoint: Any, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    endpoint, _secret = make_endpoint(receiver)
    client = _client(admin)
    assert "发送测试事件" in client.get(_url("endpoint", endpoint.pk)).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(_url("ping", endpoint.pk)).status_code == 302
    assert len(receiver.got) == 1
    assert Delivery.objects.get(target=endpoint.target).status == Delivery.Status.SENT


def test_rotate_button_shows_the_new_secret_once(admin: Any, make_endpoint: Any, receiver: Receiver) -> None:
    endpoint, old = make_endpoint(receiver)
    client = _client(admin)
    response = client.post(_url("rotate", endpoint.pk), {"grace_hours": "24"})
    assert response.status_code == 200
    new = WebhookSecret.objects.get(endpoint=endpoint, expires_at__isnull=True).secret
    html = response.content.decode()
    assert new in html and old not in html and "过渡期至" in html
    assert client.post(_url("rotate", endpoint.pk), {"grace_hours": "1000"}).status_code == 400
    assert WebhookSecret.objects.filter(endpoint=endpoint).count() == 2
