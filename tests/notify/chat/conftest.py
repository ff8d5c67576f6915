"""Loopback stand-ins for the four platforms: each checks a message the way the platform does (the signature
recomputed from the secret, the access key of the URL, the payload's shape) and answers with the platform's own
success or error body."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import ssl
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

TOKEN = "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6"
ONE_HOUR_MS = 3600 * 1000


@dataclass
class Receiver:
    platform: str
    secret: str = ""
    fail_times: int = 0  # answer 503 this many times first
    host: str = "127.0.0.1"
    tls: tuple[str, str] | None = None  # certificate and key files: serve HTTPS
    calls: list[dict[str, Any]] = field(default_factory=list)
    port: int = 0

    @property
    def url(self) -> str:
        base = f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"
        return {
            "dingtalk": f"{base}/robot/send?access_token={TOKEN}",
            "wecom": f"{base}/cgi-bin/webhook/send?key={TOKEN}",
            "feishu": f"{base}/open-apis/bot/v2/hook/{TOKEN}",
            "slack": f"{base}/services/T0001/B0001/{TOKEN}",
        }[self.platform]

    @property
    def accepted(self) -> list[dict[str, Any]]:
        return [c for c in self.calls if c["ok"]]

    # ------------------------------------------------------------ the platforms' checks

    def answer(self, path: str, query: dict[str, str], raw: bytes) -> tuple[int, str]:
        if self.fail_times > 0:
            self.fail_times -= 1
            return 503, "busy"
        try:
            body = json.loads(raw.decode("utf-8"))
        except ValueError:
            body = None
        return getattr(self, f"_{self.platform}")(path, query, body)

    def _dingtalk(self, path: str, query: dict[str, str], body: Any) -> tuple[int, str]:
        if path != "/robot/send" or query.get("access_token") != TOKEN:
            return 200, json.dumps({"errcode": 300001, "errmsg": "token is not exist"})
        if self.secret:
            timestamp, sign = query.get("timestamp", ""), query.get("sign", "")
            if not timestamp.isdigit() or abs(int(time.time() * 1000) - int(timestamp)) > ONE_HOUR_MS:
                return 200, json.dumps({"errcode": 310000, "errmsg": "invalid timestamp"})
            string_to_sign = f"{timestamp}\n{self.secret}"
            expected = base64.b64encode(
                hmac.new(self.secret.encode(), string_to_sign.encode(), hashlib.sha256).digest()
            ).decode()
            if not hmac.compare_digest(expected, sign):
                return 200, json.dumps({"errcode": 310000, "errmsg": "sign not match"})
        if not (isinstance(body, dict) and body.get("msgtype") == "text" and body["text"].get("content")):
            return 200, json.dumps({"errcode": 40035, "errmsg": "缺少参数 json"})
        return 200, json.dumps({"errcode": 0, "errmsg": "ok"})

    def _wecom(self, path: str, query: dict[str, str], body: Any) -> tuple[int, str]:
        if path != "/cgi-bin/webhook/send" or query.get("key") != TOKEN:
            return 200, json.dumps({"errcode": 93000, "errmsg": "invalid webhook url"})
        if not (isinstance(body, dict) and body.get("msgtype") == "text" and body["text"].get("content")):
            return 200, json.dumps({"errcode": 40008, "errmsg": "invalid message type"})
        return 200, json.dumps({"errcode": 0, "errmsg": "ok"})

    def _feishu(self, path: str, query: dict[str, str], body: Any) -> tuple[int, str]:
        if path != f"/open-apis/bot/v2/hook/{TOKEN}":
            return 200, json.dumps(
                {"code": 19001, "data": {}, "msg": "param invalid: incoming webhook access token invalid"}
            )
        if not isinstance(body, dict):
            return 400, json.dumps({"code": 9499, "data": {}, "msg": "Bad Request"})
        if self.secret:
            timestamp, sign = str(body.get("timestamp", "")), str(body.get("sign", ""))
            string_to_sign = f"{timestamp}\n{self.secret}"
            expected = base64.b64encode(hmac.new(string_to_sign.encode(), b"", hashlib.sha256).digest()).decode()
            fresh = timestamp.isdigit() and abs(int(time.time()) - int(timestamp)) <= 3600
            if not fresh or not hmac.compare_digest(expected, sign):
                return 200, json.dumps(
                    {
                        "code": 19021,
                        "data": {},
                        "msg": "sign match fail or timestamp is not within one hour from current time",
                    }
                )
        if body.get("msg_type") not in ("text", "post", "interactive") or not (body.get("card") or body.get("content")):
            return 200, json.dumps({"code": 19002, "data": {}, "msg": "params error, msg_type need"})
        return 200, json.dumps({"StatusCode": 0, "StatusMessage": "success", "code": 0, "data": {}, "msg": "success"})

    def _slack(self, path: str, query: dict[str, str], body: Any) -> tuple[int, str]:
        if path != f"/services/T0001/B0001/{TOKEN}":
            return 403, "invalid_token"
        if not (isinstance(body, dict) and isinstance(body.get("text"), str) and body["text"]):
            return 400, "invalid_payload"
        return 200, "ok"


def _accepted(text: str) -> bool:
    if text == "ok":
        return True
    data = json.loads(text)
    return data.get("errcode", data.get("code")) == 0


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # http.server's name
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            parts = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(parts.query))
            status, text = receiver.answer(parts.path, query, raw)
            receiver.calls.append(
                {
                    "path": parts.path,
                    "query": query,
                    "body": json.loads(raw.decode("utf-8")) if raw else None,
                    "status": status,
                    "ok": status == 200 and _accepted(text),
                    "content_type": self.headers.get("Content-Type", ""),
                    "host": self.headers.get("Host", ""),
                }
            )
            data = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain" if receiver.platform == "slack" else "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def receiver() -> Iterator[Callable[..., Receiver]]:
    servers: list[ThreadingHTTPServer] = []

    def start(platform: str, **options: Any) -> Receiver:
        made = Receiver(platform, **options)
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(made))
        made.port = server.server_address[1]
        if made.tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*made.tls)
            server.socket = context.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
        return made

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture(autouse=True)
def _loopback_allowed(settings: Any) -> None:
    settings.NEEDPOOL_CHAT_ALLOW_PRIVATE_HOSTS = True
    settings.NEEDPOOL_SITE_URL = "https://needpool.example.com"
