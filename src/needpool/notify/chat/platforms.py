"""The four webhook platforms: their message shapes, their signatures and how each says "ok".

Pure functions except ``post``, which checks where the URL points (no private or loopback address unless
``NEEDPOOL_CHAT_ALLOW_PRIVATE_HOSTS``) and posts with ``requests`` (5 s, no redirects). Signing, as the platforms
document it:

- 钉钉 加签: ``string_to_sign = f"{timestamp_ms}\\n{secret}"``, HMAC-SHA256 keyed by the secret, base64,
  URL-encoded, appended to the URL as ``&timestamp=…&sign=…``.
- 飞书 签名校验: ``string_to_sign = f"{timestamp_s}\\n{secret}"`` is the HMAC-SHA256 *key* of an empty message,
  base64, sent as ``timestamp`` and ``sign`` in the JSON body.
- 企业微信 and Slack do not sign: the key is part of the URL.

Messages are plain text everywhere (DingTalk / WeCom ``msgtype: text``, Slack ``{"text"}``) except Feishu's card,
whose body is ``plain_text`` too: a requirement title typed by a customer can never become a link or formatting
in a group chat.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import socket
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from requests.adapters import HTTPAdapter

from needpool.notify.chat.models import MAX_URL_LENGTH, Platform
from needpool.notify.registry import SendError

TIMEOUT_SECONDS = 5
EXCERPT = 300


@dataclass(frozen=True)
class Message:
    """What to post: one sentence, a link to open and the label of that link, a title for cards."""

    title: str
    text: str
    url: str = ""
    link_label: str = ""


@dataclass(frozen=True)
class Answer:
    """The platform's answer to a successful post."""

    status: int
    excerpt: str


# ---------------------------------------------------------------- signing


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """钉钉 加签 (base64, not yet URL-encoded)."""
    string_to_sign = f"{timestamp_ms}\n{secret}"
    digest = hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """飞书 签名校验: the string to sign is the HMAC key, the message is empty."""
    string_to_sign = f"{timestamp_s}\n{secret}"
    digest = hmac.new(string_to_sign.encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


# ---------------------------------------------------------------- payloads


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def payload(platform: str, message: Message) -> dict[str, Any]:
    """The JSON body ``platform`` documents for a plain message with a link."""
    line = f"{message.text}\n{message.url}" if message.url else message.text
    if platform == Platform.DINGTALK:
        return {"msgtype": "text", "text": {"content": line}}
    if platform == Platform.WECOM:
        return {"msgtype": "text", "text": {"content": line}}
    if platform == Platform.FEISHU:
        elements: list[dict[str, Any]] = [{"tag": "div", "text": {"tag": "plain_text", "content": message.text}}]
        if message.url:
            elements.append(
                {
                    "tag": "action",
                    "actions": [
                        {
                            "tag": "button",
                            "text": {"tag": "plain_text", "content": message.link_label or message.url},
                            "url": message.url,
                            "type": "primary",
                        }
                    ],
                }
            )
        return {
            "msg_type": "interactive",
            "card": {
                "config": {"wide_screen_mode": True},
                "header": {"title": {"tag": "plain_text", "content": message.title}},
                "elements": elements,
            },
        }
    if platform == Platform.SLACK:
        text = _slack_escape(message.text)
        if message.url:
            text += f"\n<{message.url}|{_slack_escape(message.link_label or message.url)}>"
        return {"text": text}
    raise ValueError(platform)


def signed_request(
    platform: str, url: str, body: dict[str, Any], secret: str, *, now: float | None = None
) -> tuple[str, dict[str, Any]]:
    """The URL and body to post, signed where the platform signs and a secret is set."""
    now = time.time() if now is None else now
    if secret and platform == Platform.DINGTALK:
        timestamp = round(now * 1000)
        sign = urllib.parse.quote_plus(dingtalk_sign(secret, timestamp))
        url = f"{url}{'&' if '?' in url else '?'}timestamp={timestamp}&sign={sign}"
    elif secret and platform == Platform.FEISHU:
        timestamp = int(now)
        body = {"timestamp": str(timestamp), "sign": feishu_sign(secret, timestamp), **body}
    return url, body


# ---------------------------------------------------------------- answers


def check_answer(platform: str, status: int, text: str) -> Answer:
    """``Answer`` when the platform accepted the message, else ``SendError`` with its own error."""
    excerpt = " ".join(text.split())[:EXCERPT]
    if status >= 300:
        raise SendError(
            _("平台返回 HTTP %(status)s") % {"status": status}, response_status=status, response_excerpt=excerpt
        )
    if platform == Platform.SLACK:
        return Answer(status, excerpt)
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise SendError(_("平台的回答无法识别"), response_status=status, response_excerpt=excerpt)
    if platform in (Platform.DINGTALK, Platform.WECOM):
        code, reason = data.get("errcode"), data.get("errmsg", "")
    else:  # Feishu answers {"code": 0, …} (newer) or {"StatusCode": 0, …} (older)
        code = data["code"] if "code" in data else data.get("StatusCode")
        reason = data.get("msg") or data.get("StatusMessage", "")
    if code != 0:
        raise SendError(
            _("平台拒绝了消息：%(code)s %(reason)s") % {"code": code, "reason": reason},
            response_status=status,
            response_excerpt=excerpt,
        )
    return Answer(status, excerpt)


# ---------------------------------------------------------------- where the URL points


def check_url(url: str) -> str:
    """A webhook URL an admin may save: http(s), a host, no user info, bounded length."""
    url = (url or "").strip()
    if not url:
        raise ValidationError(_("请填写 Webhook 地址。"))
    if len(url) > MAX_URL_LENGTH:
        raise ValidationError(_("Webhook 地址不能超过 %(max)s 个字符。") % {"max": MAX_URL_LENGTH})
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018  # raises on a port that is not a number
    except ValueError as exc:
        raise ValidationError(_("Webhook 地址格式不正确。")) from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError(_("Webhook 地址必须以 http:// 或 https:// 开头并包含主机名。"))
    if parts.username or parts.password or any(c.isspace() for c in url):
        raise ValidationError(_("Webhook 地址格式不正确。"))
    return url


def _refused(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    # Only globally routable unicast: private, loopback, link-local (cloud metadata), shared (100.64/10),
    # documentation, reserved and multicast addresses are all refused.
    return not ip.is_global or ip.is_multicast


def check_destination(url: str) -> str | None:
    """Refuse a URL whose host resolves to a private, loopback or otherwise internal address (SSRF), unless
    ``NEEDPOOL_CHAT_ALLOW_PRIVATE_HOSTS``. Checked at send time, since DNS can change after the URL was saved.

    Returns the checked address to connect to (None when private hosts are allowed: no check, no pinning).
    """
    try:
        check_url(url)
    except ValidationError as exc:
        raise SendError(" ".join(exc.messages)) from exc
    if getattr(settings, "NEEDPOOL_CHAT_ALLOW_PRIVATE_HOSTS", False):
        return None
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    try:
        infos = socket.getaddrinfo(
            host, parts.port or (443 if parts.scheme == "https" else 80), proto=socket.IPPROTO_TCP
        )
    except (OSError, UnicodeError) as exc:
        raise SendError(_("无法解析主机 %(host)s") % {"host": host}) from exc
    if not infos or any(_refused(str(info[4][0])) for info in infos):
        raise SendError(_("Webhook 地址指向内网或本机地址，已拒绝发送。"))
    return str(infos[0][4][0])


class _PinnedAdapter(HTTPAdapter):
    """Connects to the address that was checked, while TLS still names (SNI) and verifies the URL's own host: a
    second DNS answer (rebinding) cannot move the request to an internal address."""

    def __init__(self, hostname: str) -> None:
        self._hostname = hostname
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["server_hostname"] = self._hostname
        kwargs["assert_hostname"] = self._hostname
        super().init_poolmanager(*args, **kwargs)


def _send(url: str, address: str | None, data: bytes) -> requests.Response:
    headers = {"Content-Type": "application/json; charset=utf-8"}
    if address is None:
        return requests.post(url, data=data, headers=headers, timeout=TIMEOUT_SECONDS, allow_redirects=False)
    parts = urllib.parse.urlsplit(url)
    hostname = (parts.hostname or "").encode("idna").decode("ascii")
    port = f":{parts.port}" if parts.port else ""
    pinned_host = f"[{address}]" if ":" in address else address
    pinned = urllib.parse.urlunsplit((parts.scheme, pinned_host + port, parts.path, parts.query, ""))
    with requests.Session() as session:
        session.mount("https://", _PinnedAdapter(hostname))
        session.mount("http://", _PinnedAdapter(hostname))
        return session.post(
            pinned,
            data=data,
            headers={**headers, "Host": hostname + port},
            timeout=TIMEOUT_SECONDS,
            allow_redirects=False,
        )


def post(platform: str, url: str, secret: str, message: Message) -> Answer:
    """Sign, post and read the answer; ``SendError`` on any failure (network, HTTP, the platform's code)."""
    address = check_destination(url)
    target, body = signed_request(platform, url, payload(platform, message), secret)
    try:
        response = _send(target, address, json.dumps(body, ensure_ascii=False).encode())
    except (requests.RequestException, UnicodeError) as exc:
        raise SendError(_("连接失败：%(error)s") % {"error": exc.__class__.__name__}) from exc
    return check_answer(platform, response.status_code, response.text)
