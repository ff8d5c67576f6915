"""/api/v1/webhooks/: CRUD for admins with token auth, the secret in the create and rotate answers only,
the delivery log and resend; others get 403 on the list and 404 on any one endpoint."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from needpool.notify.kinds import EventKind
from needpool.notify.models import Delivery, Event
from needpool.notify.webhooks.models import WebhookEndpoint, WebhookSecret
from tests.notify.webhooks.conftest import Receiver

pytestmark = pytest.mark.django_db

BASE = "/api/v1/webhooks/"


def _token_client(user: Any) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def test_admin_creates_reads_updates_and_deletes_with_a_token(admin: Any, receiver: Receiver) -> None:
    client = _token_client(admin)
    made = client.post(BASE, {"name": "工单", "url": receiver.url, "kinds": ["status"]}, format="json")
    assert made.status_code == 201, made.content
    body = made.json()
    secret = WebhookSecret.objects.get(endpoint_id=body["id"]).secret
    assert body["secret"] == secret and made["Cache-Control"] == "private, no-store"
    one = client.get(f"{BASE}{body['id']}/").json()
    assert "secret" not in one and one["secrets"][0]["masked"] == f"whsec_…{secret[-4:]}"
    assert secret not in str(client.get(BASE).content)
    changed = client.patch(f"{BASE}{body['id']}/", {"kinds": [], "active": False}, format="json")
    assert changed.status_code == 200 and changed.json()["kinds"] == [] and changed.json()["active"] is False
    assert client.delete(f"{BASE}{body['id']}/").status_code == 204
    assert not WebhookEndpoint.objects.exists()


def test_bad_input_is_refused_and_writes_nothing(admin: Any) -> None:
    client = _token_client(admin)
    bad_url = client.post(BASE, {"name": "x", "url": "file:///etc/passwd"}, format="json")
    bad_kind = client.post(BASE, {"name": "x", "url": "https://example.com/h", "kinds": ["nope"]}, format="json")
    assert bad_url.status_code == bad_kind.status_code == 400
    assert "url" in bad_url.json() and "kinds" in bad_kind.json()
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("role", ["manager", "product_manager", "sales", "viewer"])
def test_non_admins_get_403_on_the_list_and_404_on_an_endpoint(
    make_user: Any, make_endpoint: Any, receiver: Receiver, role: str
):
    endpoint, _secret = make_endpoint(receiver)
    client = _token_client(make_user(role))
    assert client.get(BASE).status_code == 403
    assert client.post(BASE, {"name": "x", "url": "https://example.com/h"}, format="json").status_code == 403
    for path in ("", "deliveries/"):
        assert client.get(f"{BASE}{endpoint.pk}/{path}").status_code == 404
    for path in ("rotate-secret/", "ping/"):
        assert client.post(f"{BASE}{endpoint.pk}/{path}", {}, format="json").status_code == 404
    assert client.delete(f"{BASE}{endpoint.pk}/").status_code == 404
    assert WebhookEndpoint.objects.count() == 1 and WebhookSecret.objects.count() == 1


def test_anonymous_is_refused() -> None:
    assert APIClient().get(BASE).status_code in (401, 403)


def test_rotate_ping_deliveries_and_resend(
    admin: Any, make_endpoint: Any, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    endpoint, old = make_endpoint(receiver)
    client = _token_client(admin)
    rotated = client.post(f"{BASE}{endpoint.pk}/rotate-secret/", {"grace_hours": 2}, format="json")
    assert rotated.status_code == 200
    new = rotated.json()["secret"]
    assert new != old and WebhookSecret.objects.get(endpoint=endpoint, expires_at__isnull=True).secret == new
    receiver.secrets.append(new)
    assert client.post(f"{BASE}{endpoint.pk}/rotate-secret/", {"grace_hours": -1}, format="json").status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"{BASE}{endpoint.pk}/ping/", format="json").status_code == 202
    assert len(receiver.got) == 1 and receiver.got[0].verified_by == [old, new]
    for i in range(3):
        event = Event.objects.create(key=f"api:{i}", kind=EventKind.STATUS, message="状态变化")
        Delivery.objects.create(event=event, target=endpoint.target, status=Delivery.Status.FAILED, attempts=8)
    log = client.get(f"{BASE}{endpoint.pk}/deliveries/", {"status": "failed"}).json()
    assert log["count"] == 3 and {row["status"] for row in log["results"]} == {"failed"}
    failed = log["results"][0]["id"]
    resent = client.post(f"{BASE}{endpoint.pk}/deliveries/{failed}/resend/", format="json")
    assert resent.status_code == 200 and resent.json()["status"] == "sent" and resent.json()["attempts"] == 9
    assert len(receiver.got) == 2
    other, _ = make_endpoint(receiver, name="另一个")
    assert client.post(f"{BASE}{other.pk}/deliveries/{failed}/resend/", format="json").status_code == 404
