"""One webhook delivery on the wire: the JSON payload, the Standard Webhooks headers and signatures, the POST.

Registered in ``WebhooksConfig.ready()``: ``webhook_targets`` names the endpoints that want an event,
``webhook_send`` sends one ``notify.Delivery`` whose target is ``webhook:<endpoint id>``.

Decisions
- ``webhook-id`` is ``msg_<delivery id>``: one delivery per event × endpoint, so it is the same on every retry
  and on a resend, and a receiver can drop what it has already processed.
- Every unexpired secret signs (space-separated ``v1,`` signatures), so during a rotation's grace period a
  receiver holding either the old or the new secret verifies the request.
- SSRF: the address actually connected to is checked after DNS resolution, on the socket itself, so a host
  that resolves to a public address when saved and a private one later (DNS rebinding) is still refused;
  redirects are not followed and proxies from the environment are not used (the proxy would be the peer).
- A 410 Gone switches the endpoint off (an audit row says why) and is not retried; every other non-2xx answer
  and every network error is a ``SendError`` that the notification core retries with backoff.
"""

from __future__ import annotations

import ipaddress
import json
import socket
from typing import Any

import requests
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone
from django.utils.translation import gettext as _
from requests.adapters import HTTPAdapter
from standardwebhooks import Webhook
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from needpool.core.links import absolute
from needpool.notify.models import Delivery, Event
from needpool.notify.registry import SendError, SendResult
from needpool.notify.services import render
from needpool.notify.webhooks.models import WebhookEndpoint, WebhookSecret

TIMEOUT_SECONDS = 10
EXCERPT_CHARS = 500
USER_AGENT = "Needpool-Webhooks/1.0"
PING_KIND = "ping"

#: The payload's ``type`` for each event kind ("<what it is about>.<what happened>").
EVENT_TYPES: dict[str, str] = {
    "assigned": "requirement.assigned",
    "status": "requirement.status",
    "priority": "requirement.priority",
    "owner": "requirement.owner",
    "comment": "requirement.comment",
    "mention": "requirement.mention",
    "sla": "requirement.sla",
    "task": "delivery.task",
    "review": "review.meeting",
    "review_decision": "review.decision",
    "follow_up": "customer.follow_up",
    "merge": "requirement.merge",
    "import": "import.completed",
    "import_failed": "import.failed",
    "low_score": "survey.low_score",
    "close_loop": "loop.closed",
    "evaluation": "loop.evaluation",
    PING_KIND: "webhook.ping",
}


def event_type(kind: str) -> str:
    return EVENT_TYPES.get(kind, f"needpool.{kind}")


# ---------------------------------------------------------------- targets


def webhook_targets(event: Event) -> list[str]:
    """The active endpoints that chose ``event.kind`` (or every kind); a ping goes to its own endpoint only."""
    if event.kind == PING_KIND:
        pk = (event.data or {}).get("endpoint")
        if isinstance(pk, int) and WebhookEndpoint.objects.filter(pk=pk).exists():
            return [f"webhook:{pk}"]
        return []
    endpoints = WebhookEndpoint.objects.filter(active=True).only("pk", "kinds").order_by("pk")
    return [endpoint.target for endpoint in endpoints if endpoint.wants(event.kind)]


# ---------------------------------------------------------------- payload and signature


def event_payload(event: Event) -> dict[str, Any]:
    """The JSON body of ``event`` (the same for every endpoint)."""
    actor = event.actor
    occurred = event.created_at.isoformat()
    return {
        "type": event_type(event.kind),
        "timestamp": occurred,
        "data": {
            "event_id": event.pk,
            "kind": event.kind,
            "key": event.key,
            "message": render(event),
            "url": absolute(event.url) if event.url else "",
            "actor": {"id": actor.pk, "name": str(actor)} if actor is not None else None,
            "subject": event.subject,
            "data": event.data,
            "occurred_at": occurred,
        },
    }


def payload_bytes(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), cls=DjangoJSONEncoder).encode("utf-8")


def signing_secrets(endpoint: WebhookEndpoint) -> list[str]:
    """The current secret and those still in their grace period, newest first."""
    now = timezone.now()
    rows = WebhookSecret.objects.filter(endpoint=endpoint).exclude(expires_at__lte=now).order_by("-created_at", "-id")
    return [row.secret for row in rows]


def signed_headers(*, msg_id: str, body: bytes, secrets: list[str], at: Any = None) -> dict[str, str]:
    """The Standard Webhooks headers for ``body``: one ``v1,`` signature per secret, space-separated."""
    at = at or timezone.now()
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": " ".join(Webhook(secret).sign(msg_id, at, body) for secret in secrets),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


# ---------------------------------------------------------------- address check (SSRF)


class UnsafeAddress(Exception):
    """The endpoint's host resolved to an address webhooks may not reach."""


def address_allowed(ip: str) -> bool:
    """A public unicast address (private, loopback, link-local, shared, reserved and multicast are not)."""
    try:
        address = ipaddress.ip_address(ip.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def _check_peer(sock: socket.socket) -> None:
    if getattr(settings, "NEEDPOOL_WEBHOOKS_ALLOW_PRIVATE_HOSTS", False):
        return
    peer = sock.getpeername()[0]
    if not address_allowed(str(peer)):
        sock.close()
        raise UnsafeAddress(
            _("已拒绝：地址 %(address)s 属于内网、回环或链路本地地址（NEEDPOOL_WEBHOOKS_ALLOW_PRIVATE_HOSTS 未开启）。")
            % {"address": peer}
        )


class _CheckedHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _check_peer(sock)
        return sock


class _CheckedHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _check_peer(sock)
        return sock


class _CheckedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _CheckedHTTPConnection


class _CheckedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _CheckedHTTPSConnection


class _CheckedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _CheckedHTTPPool, "https": _CheckedHTTPSPool}


def _session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    adapter = _CheckedAdapter(max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


# ---------------------------------------------------------------- the sender


def _excerpt(response: requests.Response) -> str:
    try:
        raw = response.raw.read(4 * EXCERPT_CHARS, decode_content=True) or b""
    except Exception:  # a body that breaks off is still an answer with a status
        raw = b""
    return raw.decode(response.encoding or "utf-8", errors="replace")[:EXCERPT_CHARS]


def webhook_send(delivery: Delivery) -> SendResult:
    """POST one delivery to its endpoint, signed; 2xx is sent, 410 switches the endpoint off, else SendError."""
    from needpool.notify.webhooks.services import webhook_endpoint_gone

    endpoint = WebhookEndpoint.objects.filter(pk=delivery.target_id).first() if delivery.target_id.isdigit() else None
    if endpoint is None:
        return SendResult(skipped=True, response_excerpt="endpoint deleted")
    if not endpoint.active:
        return SendResult(skipped=True, response_excerpt="endpoint inactive")
    secrets = signing_secrets(endpoint)
    if not secrets:
        raise SendError(_("该端点没有可用的签名密钥，请轮换密钥。"))
    body = payload_bytes(event_payload(delivery.event))
    headers = signed_headers(msg_id=f"msg_{delivery.pk}", body=body, secrets=secrets)
    try:
        with _session() as session:
            response = session.post(
                endpoint.url, data=body, headers=headers, timeout=TIMEOUT_SECONDS, allow_redirects=False, stream=True
            )
            with response:
                status, excerpt = response.status_code, _excerpt(response)
    except UnsafeAddress as exc:
        raise SendError(str(exc)) from exc
    except requests.RequestException as exc:
        raise SendError(f"{exc.__class__.__name__}: {exc}"[:EXCERPT_CHARS]) from exc
    if 200 <= status < 300:
        return SendResult(response_status=status, response_excerpt=excerpt)
    if status == 410:
        webhook_endpoint_gone(endpoint=endpoint, delivery=delivery)
        return SendResult(skipped=True, response_status=status, response_excerpt=excerpt)
    raise SendError(
        _("接收方返回 HTTP %(status)s。") % {"status": status}, response_status=status, response_excerpt=excerpt
    )
