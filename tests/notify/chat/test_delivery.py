"""Events reach the group bots and personal bots on loopback receivers that check them like the platforms do:
signatures recomputed, platform error codes counted as failures, retries with backoff on a frozen clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone
from django.utils.translation import gettext_noop

from needpool.accounts.models import Team
from needpool.notify.chat.models import ChatRoute, PersonalBot
from needpool.notify.chat.services import chat_route_create
from needpool.notify.kinds import Channel, EventKind
from needpool.notify.models import Delivery, Event, Preference
from needpool.notify.services import backoff_seconds, delivery_send, emit
from tests.notify.chat.conftest import Receiver

pytestmark = pytest.mark.django_db

SECRET = "SEC0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd"


def _emit(teams: list[Any], key: str = "k1", kind: str = EventKind.STATUS, url: str = "/requirements/7/") -> Event:
    event = emit(
        kind=kind,
        key=key,
        message=gettext_noop("%(actor)s 把需求 %(code)s 指派给你"),
        params={"actor": "张三", "code": "DEM20240301001"},
        url=url,
        teams=teams,
    )
    assert event is not None
    return event


def _route(admin: Any, receiver: Receiver, team: Team | None = None, **extra: Any) -> ChatRoute:
    return chat_route_create(
        actor=admin,
        name=f"{receiver.platform} 群",
        platform=receiver.platform,
        webhook_url=receiver.url,
        secret=receiver.secret,
        team=team,
        **extra,
    )


@pytest.mark.parametrize(
    ("platform", "secret"),
    [("dingtalk", SECRET), ("dingtalk", ""), ("feishu", SECRET), ("feishu", ""), ("wecom", ""), ("slack", "")],
)
def test_an_event_reaches_the_teams_bot_signed(
    platform: str,
    secret: str,
    receiver: Callable[..., Receiver],
    admin_user: Any,
    team: Team,
    django_capture_on_commit_callbacks: Any,
) -> None:
    bot = receiver(platform, secret=secret)
    route = _route(admin_user, bot, team)
    with django_capture_on_commit_callbacks(execute=True):
        _emit([team])
    delivery = Delivery.objects.get(target=f"chat:{route.pk}")
    assert delivery.status == Delivery.Status.SENT and delivery.attempts == 1 and delivery.response_status == 200
    assert len(bot.calls) == 1 and bot.accepted
    call = bot.calls[0]
    assert call["content_type"].startswith("application/json")
    text = str(call["body"])
    assert "张三 把需求 DEM20240301001 指派给你" in text
    assert "https://needpool.example.com/requirements/7/" in text
    route.refresh_from_db()
    assert route.last_ok_at is not None and route.last_error == ""


@pytest.mark.parametrize("platform", ["dingtalk", "feishu"])
def test_a_wrong_secret_is_refused_by_the_platform_and_recorded(
    platform: str, receiver: Callable[..., Receiver], admin_user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    bot = receiver(platform, secret=SECRET)
    route = chat_route_create(
        actor=admin_user, name="错误密钥", platform=platform, webhook_url=bot.url, secret=SECRET[:-1] + "X"
    )
    with django_capture_on_commit_callbacks(execute=True):
        _emit([])
    delivery = Delivery.objects.get(target=route.target)
    assert delivery.status == Delivery.Status.PENDING and delivery.next_attempt_at is not None
    assert "sign" in delivery.response_excerpt and delivery.error
    assert len(bot.calls) == 1 and not bot.accepted
    route.refresh_from_db()
    assert (route.failing and "19021" in route.last_error) or "310000" in route.last_error


def test_a_missing_signature_is_refused_when_the_bot_signs(
    receiver: Callable[..., Receiver], admin_user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    bot = receiver("dingtalk", secret=SECRET)
    route = chat_route_create(actor=admin_user, name="无签名", platform="dingtalk", webhook_url=bot.url)
    with django_capture_on_commit_callbacks(execute=True):
        _emit([])
    assert not bot.accepted and Delivery.objects.get(target=route.target).status == Delivery.Status.PENDING


@pytest.mark.parametrize("platform", ["wecom", "slack"])
def test_a_wrong_key_is_a_failure(
    platform: str, receiver: Callable[..., Receiver], admin_user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    bot = receiver(platform)
    route = chat_route_create(
        actor=admin_user, name="错误 key", platform=platform, webhook_url=bot.url.replace("a1b2", "ffff")
    )
    with django_capture_on_commit_callbacks(execute=True):
        _emit([])
    delivery = Delivery.objects.get(target=route.target)
    assert delivery.status == Delivery.Status.PENDING and delivery.error
    assert delivery.response_excerpt in ("invalid_token", '{"errcode": 93000, "errmsg": "invalid webhook url"}')


def test_failures_are_retried_with_backoff_on_a_frozen_clock_then_succeed(
    receiver: Callable[..., Receiver], admin_user: Any, monkeypatch: Any, django_capture_on_commit_callbacks: Any
) -> None:
    clock = [timezone.now().replace(microsecond=0)]
    monkeypatch.setattr(timezone, "now", lambda: clock[0])
    bot = receiver("dingtalk", secret=SECRET, fail_times=3)
    route = _route(admin_user, bot)
    with django_capture_on_commit_callbacks(execute=True):
        _emit([])
    delivery = Delivery.objects.get(target=route.target)
    for attempt in (1, 2, 3):
        delivery.refresh_from_db()
        assert delivery.status == Delivery.Status.PENDING and delivery.attempts == attempt
        assert delivery.response_status == 503 and delivery.response_excerpt == "busy"
        assert delivery.next_attempt_at == clock[0] + dt.timedelta(seconds=backoff_seconds(attempt))
        clock[0] += dt.timedelta(seconds=backoff_seconds(attempt) - 1)
        assert delivery_send(delivery.pk) == Delivery.Status.PENDING  # not due yet: nothing sent
        assert len(bot.calls) == attempt
        clock[0] += dt.timedelta(seconds=1)
        delivery_send(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT and delivery.attempts == 4 and len(bot.calls) == 4
    assert len(bot.accepted) == 1
    route.refresh_from_db()
    assert route.last_ok_at == clock[0] and not route.failing and route.last_error_at is not None


def test_a_route_switched_off_or_removed_after_dispatch_is_skipped(
    receiver: Callable[..., Receiver], admin_user: Any, monkeypatch: Any, django_capture_on_commit_callbacks: Any
) -> None:
    bot = receiver("slack", fail_times=1)
    route = _route(admin_user, bot)
    with django_capture_on_commit_callbacks(execute=True):
        _emit([])
    ChatRoute.objects.filter(pk=route.pk).update(active=False)
    delivery = Delivery.objects.get(target=route.target)
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - dt.timedelta(seconds=1))
    assert delivery_send(delivery.pk) == Delivery.Status.SKIPPED and len(bot.calls) == 1


def test_routes_use_their_own_language(
    receiver: Callable[..., Receiver], admin_user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    bot = receiver("wecom")
    _route(admin_user, bot, language="en")
    with django_capture_on_commit_callbacks(execute=True):
        _emit([])
    content = bot.calls[0]["body"]["text"]["content"]
    assert "张三" in content and "指派给你" not in content  # the English sentence, the Chinese name


def test_a_link_that_is_not_a_site_path_is_not_sent(
    receiver: Callable[..., Receiver], admin_user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    bot = receiver("wecom")
    _route(admin_user, bot)
    with django_capture_on_commit_callbacks(execute=True):
        _emit([], url="//evil.example/x")
    assert "evil" not in bot.calls[0]["body"]["text"]["content"]


def test_a_users_im_choice_reaches_their_personal_bot_in_their_language(
    receiver: Callable[..., Receiver], make_user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    bot = receiver("feishu", secret=SECRET)
    owner = make_user("product_manager", "owner", language="en")
    PersonalBot.objects.create(user=owner, platform="feishu", webhook_url=bot.url, secret=SECRET)
    Preference.objects.create(user=owner, kind=EventKind.ASSIGNED, channels=[Channel.IM])
    with django_capture_on_commit_callbacks(execute=True):
        emit(
            kind=EventKind.ASSIGNED,
            key="im1",
            message=gettext_noop("%(actor)s 把需求 %(code)s 指派给你"),
            params={"actor": "张三", "code": "DEM1"},
            url="/requirements/1/",
            recipients=[owner],
        )
    delivery = Delivery.objects.get(target=f"im:{owner.pk}")
    assert delivery.status == Delivery.Status.SENT and len(bot.accepted) == 1
    card = bot.calls[0]["body"]["card"]
    assert "指派给你" not in card["elements"][0]["text"]["content"]
    assert card["elements"][1]["actions"][0]["url"] == "https://needpool.example.com/requirements/1/"


def test_im_without_a_personal_bot_is_skipped(make_user: Any, django_capture_on_commit_callbacks: Any) -> None:
    owner = make_user("product_manager", "owner")
    Preference.objects.create(user=owner, kind=EventKind.ASSIGNED, channels=[Channel.IM])
    with django_capture_on_commit_callbacks(execute=True):
        emit(kind=EventKind.ASSIGNED, key="im2", message="x", recipients=[owner])
    assert Delivery.objects.get(target=f"im:{owner.pk}").status == Delivery.Status.SKIPPED


def test_a_private_address_is_refused_at_send_time(
    receiver: Callable[..., Receiver], admin_user: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    bot = receiver("slack")
    route = _route(admin_user, bot)
    settings.NEEDPOOL_CHAT_ALLOW_PRIVATE_HOSTS = False
    with django_capture_on_commit_callbacks(execute=True):
        _emit([])
    delivery = Delivery.objects.get(target=route.target)
    assert not bot.calls and delivery.status == Delivery.Status.PENDING and "内网" in delivery.error
    route.refresh_from_db()
    assert route.failing and "内网" in route.last_error


def test_a_failure_is_logged_without_the_bots_key(
    receiver: Callable[..., Receiver], admin_user: Any, caplog: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from tests.notify.chat.conftest import TOKEN

    bot = receiver("dingtalk", secret=SECRET)
    route = chat_route_create(actor=admin_user, name="坏签名", platform="dingtalk", webhook_url=bot.url, secret="bad")
    caplog.set_level("WARNING", logger="needpool.notify.chat.services")
    with django_capture_on_commit_callbacks(execute=True):
        _emit([])
    lines = [r.getMessage() for r in caplog.records if r.name == "needpool.notify.chat.services"]
    assert lines == [f"chatroute {route.pk} (dingtalk) failed: 平台拒绝了消息：310000 sign not match"]
    assert TOKEN not in caplog.text and "bad" not in lines[0].split("failed")[0]
