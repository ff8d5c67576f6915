"""The platforms' signatures, message shapes and answers, URL checks and masking — without a network."""

from __future__ import annotations

import base64
import hashlib
import hmac
import socket
import urllib.parse
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from needpool.notify.chat.masking import MASK, mask_secret, mask_url
from needpool.notify.chat.platforms import (
    Message,
    check_answer,
    check_destination,
    check_url,
    feishu_sign,
    payload,
    signed_request,
)
from needpool.notify.registry import SendError

SECRET = "SECa0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1"
MESSAGE = Message(
    title="需求池", text="张三 把需求 DEM001 指派给你", url="https://np.example.com/r/1/", link_label="查看详情"
)


def test_dingtalk_sign_matches_the_documented_recipe() -> None:
    # 钉钉 documentation: HmacSHA256(key=secret, data=timestamp + "\n" + secret), base64, then urlEncode.
    timestamp = 1700000000123
    expected = base64.b64encode(
        hmac.new(SECRET.encode(), f"{timestamp}\n{SECRET}".encode(), hashlib.sha256).digest()
    ).decode()
    url, body = signed_request(
        "dingtalk", "https://oapi.dingtalk.com/robot/send?access_token=x", {"a": 1}, SECRET, now=timestamp / 1000
    )
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    assert query["timestamp"] == [str(timestamp)] and query["sign"] == [expected]
    assert f"sign={urllib.parse.quote_plus(expected)}" in url and body == {"a": 1}


def test_feishu_sign_uses_the_string_to_sign_as_the_key() -> None:
    timestamp = 1700000000
    expected = base64.b64encode(hmac.new(f"{timestamp}\n{SECRET}".encode(), b"", hashlib.sha256).digest()).decode()
    url, body = signed_request(
        "feishu", "https://open.feishu.cn/open-apis/bot/v2/hook/x", {"msg_type": "text"}, SECRET, now=timestamp + 0.9
    )
    assert url == "https://open.feishu.cn/open-apis/bot/v2/hook/x"
    assert body == {"timestamp": "1700000000", "sign": expected, "msg_type": "text"}


@pytest.mark.parametrize("platform", ["wecom", "slack"])
def test_wecom_and_slack_are_not_signed(platform: str) -> None:
    assert signed_request(platform, "https://h/x?key=k", {"t": 1}, SECRET) == ("https://h/x?key=k", {"t": 1})


def test_no_secret_no_signature() -> None:
    assert signed_request("dingtalk", "https://h/robot/send?access_token=t", {}, "") == (
        "https://h/robot/send?access_token=t",
        {},
    )


def test_payload_shapes_follow_each_platform() -> None:
    line = "张三 把需求 DEM001 指派给你\nhttps://np.example.com/r/1/"
    assert payload("dingtalk", MESSAGE) == {"msgtype": "text", "text": {"content": line}}
    assert payload("wecom", MESSAGE) == {"msgtype": "text", "text": {"content": line}}
    card = payload("feishu", MESSAGE)
    assert card["msg_type"] == "interactive"
    assert card["card"]["header"]["title"] == {"tag": "plain_text", "content": "需求池"}
    div, action = card["card"]["elements"]
    assert div == {"tag": "div", "text": {"tag": "plain_text", "content": MESSAGE.text}}
    assert action["actions"][0]["url"] == MESSAGE.url and action["actions"][0]["tag"] == "button"
    assert payload("slack", MESSAGE) == {"text": "张三 把需求 DEM001 指派给你\n<https://np.example.com/r/1/|查看详情>"}


def test_slack_text_cannot_inject_links() -> None:
    evil = Message(title="t", text="<https://evil.example|点我> & co")
    assert payload("slack", evil)["text"] == "&lt;https://evil.example|点我&gt; &amp; co"


@pytest.mark.parametrize(
    ("platform", "status", "text"),
    [
        ("dingtalk", 200, '{"errcode": 0, "errmsg": "ok"}'),
        ("wecom", 200, '{"errcode": 0, "errmsg": "ok"}'),
        ("feishu", 200, '{"code": 0, "msg": "success", "data": {}}'),
        ("feishu", 200, '{"StatusCode": 0, "StatusMessage": "success"}'),
        ("slack", 200, "ok"),
    ],
)
def test_platform_success_answers(platform: str, status: int, text: str) -> None:
    assert check_answer(platform, status, text).status == 200


@pytest.mark.parametrize(
    ("platform", "status", "text"),
    [
        ("dingtalk", 200, '{"errcode": 310000, "errmsg": "sign not match"}'),
        ("wecom", 200, '{"errcode": 93000, "errmsg": "invalid webhook url"}'),
        ("feishu", 200, '{"code": 19021, "msg": "sign match fail"}'),
        ("feishu", 200, "<html>gateway</html>"),
        ("dingtalk", 200, "[]"),
        ("slack", 403, "invalid_token"),
        ("slack", 302, ""),
        ("wecom", 500, "oops"),
    ],
)
def test_platform_errors_are_failures(platform: str, status: int, text: str) -> None:
    with pytest.raises(SendError) as caught:
        check_answer(platform, status, text)
    assert caught.value.response_status == status and caught.value.response_excerpt == text[:300]


@pytest.mark.parametrize(
    "url",
    [
        "",
        "ftp://h/x",
        "javascript:alert(1)",
        "http:///x",
        "https://user:pw@h/x",
        "https://h:99999/x",
        "https://h/a b",
        "https://h/" + "x" * 500,
    ],
)
def test_bad_urls_are_refused(url: str) -> None:
    with pytest.raises(ValidationError):
        check_url(url)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "192.168.0.10",
        "172.16.5.4",
        "169.254.169.254",
        "0.0.0.0",  # noqa: S104
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",
        "100.64.0.1",
        "224.0.0.1",
        "203.0.113.9",
    ],
)
def test_internal_destinations_are_refused(address: str, monkeypatch: Any, settings: Any) -> None:
    settings.NEEDPOOL_CHAT_ALLOW_PRIVATE_HOSTS = False
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: [(family, socket.SOCK_STREAM, 6, "", (address, 443))])
    with pytest.raises(SendError, match="内网"):
        check_destination("https://hooks.example.com/x")


def test_a_public_destination_passes(monkeypatch: Any, settings: Any) -> None:
    settings.NEEDPOOL_CHAT_ALLOW_PRIVATE_HOSTS = False
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: [(2, 1, 6, "", ("8.8.8.8", 443))])
    check_destination("https://oapi.dingtalk.com/robot/send?access_token=x")


def test_a_name_with_one_private_address_among_public_ones_is_refused(monkeypatch: Any, settings: Any) -> None:
    settings.NEEDPOOL_CHAT_ALLOW_PRIVATE_HOSTS = False
    answers = [(2, 1, 6, "", ("8.8.8.8", 443)), (2, 1, 6, "", ("10.0.0.1", 443))]
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: answers)
    with pytest.raises(SendError):
        check_destination("https://rebind.example.com/x")


def test_unresolvable_host_is_a_failure(monkeypatch: Any, settings: Any) -> None:
    settings.NEEDPOOL_CHAT_ALLOW_PRIVATE_HOSTS = False

    def fail(*args: Any, **kwargs: Any) -> Any:
        raise socket.gaierror("no such host")

    monkeypatch.setattr(socket, "getaddrinfo", fail)
    with pytest.raises(SendError, match="无法解析"):
        check_destination("https://nowhere.invalid/x")


@given(st.text(min_size=16, max_size=80, alphabet=st.characters(exclude_categories=["Cs"])))
def test_a_long_secret_never_shows_more_than_four_characters(secret: str) -> None:
    shown = mask_secret(secret)
    assert shown.startswith(MASK) and shown == MASK + secret[-4:]


@given(st.text(min_size=1, max_size=15))
def test_a_short_secret_shows_nothing(secret: str) -> None:
    assert mask_secret(secret) == MASK


@given(st.text(alphabet="abcdef0123456789-", min_size=16, max_size=64))
def test_url_keys_are_masked_in_path_and_query(token: str) -> None:
    for url in (
        f"https://oapi.dingtalk.com/robot/send?access_token={token}",
        f"https://open.feishu.cn/open-apis/bot/v2/hook/{token}",
    ):
        assert token not in mask_url(url) and MASK in mask_url(url)


@given(
    secret=st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=80),
    timestamp_ms=st.integers(1_000_000_000_000, 4_000_000_000_000),
)
def test_dingtalk_signature_survives_the_url_for_any_secret(secret: str, timestamp_ms: int) -> None:
    # base64 has + / =: the URL must carry them so the platform's decoder reads the exact signature back.
    url, _ = signed_request("dingtalk", "https://h/robot/send?access_token=t", {}, secret, now=timestamp_ms / 1000)
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    assert query["access_token"] == "t" and query["timestamp"] == str(timestamp_ms)
    expected = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    assert base64.b64decode(query["sign"]) == expected


@given(
    secret=st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=80),
    other=st.text(min_size=1, max_size=80),
    timestamp=st.integers(1_000_000_000, 4_000_000_000),
)
def test_feishu_signature_depends_on_secret_and_time(secret: str, other: str, timestamp: int) -> None:
    _, body = signed_request("feishu", "https://h/hook/x", {}, secret, now=timestamp)
    assert body["timestamp"] == str(timestamp)
    assert body["sign"] == feishu_sign(secret, timestamp)
    if other != secret:
        assert feishu_sign(other, timestamp) != body["sign"]
    assert feishu_sign(secret, timestamp + 1) != body["sign"]
