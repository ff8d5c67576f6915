"""Loopback receivers for the webhook tests: a real HTTP server on 127.0.0.1 in a thread that checks every
request's Standard Webhooks signature with the secrets it was given and records what it got."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from needpool.accounts.models import User
from needpool.notify.webhooks.models import WebhookEndpoint
from needpool.notify.webhooks.services import webhook_endpoint_create


@dataclass
class Received:
    body: bytes
    headers: dict[str, str]
    verified_by: list[str]  # the receiver's secrets that verified this request


@dataclass
class Receiver:
    """``secrets``: what the receiver verifies with; ``fail_times`` requests answered ``fail_status`` first."""

    url: str = ""
    secrets: list[str] = field(default_factory=list)
    fail_times: int = 0
    fail_status: int = 500
    status: int = 200
    reply: bytes = b'{"ok":true}'
    got: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def verify(self, body: bytes, headers: dict[str, str]) -> list[str]:
        ok = []
        for secret in self.secrets:
            try:
                Webhook(secret).verify(body, headers)
            except WebhookVerificationError:
                continue
            ok.append(secret)
        return ok

    def answer(self, body: bytes, headers: dict[str, str]) -> int:
        with self.lock:
            verified = self.verify(body, headers)
            self.got.append(Received(body=body, headers=headers, verified_by=verified))
            if not verified:
                return 401
            if len(self.got) <= self.fail_times:
                return self.fail_status
            return self.status


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            status = receiver.answer(body, {k.lower(): v for k, v in self.headers.items()})
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(receiver.reply)))
            self.end_headers()
            self.wfile.write(receiver.reply)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


@pytest.fixture
def receiver_factory() -> Iterator[Callable[..., Receiver]]:
    servers: list[ThreadingHTTPServer] = []

    def make(**options: Any) -> Receiver:
        receiver = Receiver(**options)
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
        receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        return receiver

    yield make
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def receiver(receiver_factory: Callable[..., Receiver]) -> Receiver:
    return receiver_factory()


@pytest.fixture(autouse=True)
def _loopback_allowed(settings: Any) -> None:
    settings.NEEDPOOL_WEBHOOKS_ALLOW_PRIVATE_HOSTS = True


@pytest.fixture
def admin(make_user: Callable[..., User]) -> User:
    return make_user("admin", "hook-admin")


@pytest.fixture
def make_endpoint(admin: User) -> Callable[..., tuple[WebhookEndpoint, str]]:
    def make(receiver: Receiver, *, kinds: list[str] | None = None, name: str = "集成") -> tuple[WebhookEndpoint, str]:
        endpoint, secret = webhook_endpoint_create(actor=admin, name=name, url=receiver.url, kinds=kinds or [])
        receiver.secrets.append(secret)
        return endpoint, secret

    return make
