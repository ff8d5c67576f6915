"""The chat bot pages: admins keep the group routes (list, add, edit, delete, 发送测试消息), every user their
own bot; secrets never shown back; every change audited; nobody else sees or changes what is not theirs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import reverse
from django.utils.translation import gettext_noop

from needpool.accounts.models import Team
from needpool.core.models import AuditEntry
from needpool.notify.chat.models import ChatRoute, PersonalBot
from needpool.notify.chat.services import chat_route_create
from needpool.notify.kinds import EventKind
from needpool.notify.models import Delivery
from needpool.notify.services import emit
from tests.notify.chat.conftest import TOKEN, Receiver

pytestmark = pytest.mark.django_db

SECRET = "SECabcdef0123456789abcdef0123456789abcdef0123456789abcdef01234567"
INDEX = "notify:notify_chat:index"
NON_ADMINS = ["manager", "product_manager", "sales", "service", "engineer", "compliance", "viewer"]


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _route(
    admin: Any, url: str = f"https://oapi.dingtalk.com/robot/send?access_token={TOKEN}", **extra: Any
) -> ChatRoute:
    options: dict[str, Any] = {"name": "产品群", "platform": "dingtalk", "webhook_url": url, "secret": SECRET}
    options.update(extra)
    return chat_route_create(actor=admin, **options)


def _form(**extra: Any) -> dict[str, Any]:
    data = {
        "name": "客服群",
        "platform": "dingtalk",
        "webhook_url": f"https://oapi.dingtalk.com/robot/send?access_token={TOKEN}",
        "secret": SECRET,
        "language": "zh-hans",
        "kinds": [EventKind.SLA, EventKind.LOW_SCORE],
        "active": "on",
    }
    data.update(extra)
    return data


# ---------------------------------------------------------------- admins


def test_admin_adds_a_route_and_it_is_audited_without_its_secret(admin_user: Any, team: Team) -> None:
    response = client_for(admin_user).post(reverse("notify:notify_chat:create"), _form(team=team.pk))
    route = ChatRoute.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("notify:notify_chat:detail", args=[route.pk])
    assert (route.team, route.kinds, route.secret, route.created_by) == (
        team,
        [EventKind.SLA, EventKind.LOW_SCORE],
        SECRET,
        admin_user,
    )
    entry = AuditEntry.objects.get(content_type=ContentType.objects.get_for_model(ChatRoute), object_id=route.pk)
    assert entry.action == AuditEntry.Action.CREATE and entry.actor == admin_user
    assert SECRET not in str(entry.changes) and TOKEN not in str(entry.changes)


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"webhook_url": "ftp://oapi.dingtalk.com/x"}, "webhook_url"),
        ({"webhook_url": "https://u:p@oapi.dingtalk.com/x"}, "webhook_url"),
        ({"webhook_url": ""}, "webhook_url"),
        ({"name": "   "}, "name"),
        ({"kinds": ["nonsense"]}, "kinds"),
        ({"platform": "telegram"}, "platform"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(admin_user: Any, extra: dict[str, Any], field: str) -> None:
    response = client_for(admin_user).post(reverse("notify:notify_chat:create"), _form(**extra))
    assert response.status_code == 200 and response.context["form"].errors[field]
    assert not ChatRoute.objects.exists() and not AuditEntry.objects.exists()


def test_list_shows_status_and_recent_failures_but_never_a_secret(
    admin_user: Any,
    team: Team,
    django_assert_max_num_queries: Any,
    django_capture_on_commit_callbacks: Any,
    receiver: Callable[..., Receiver],
) -> None:
    failing = receiver("slack", fail_times=100)
    routes = [_route(admin_user, name=f"群 {i}", team=team if i % 2 else None) for i in range(6)]
    broken = _route(admin_user, name="坏掉的群", url=failing.url, platform="slack", secret="")
    with django_capture_on_commit_callbacks(execute=True):
        emit(kind=EventKind.SLA, key="e1", message=gettext_noop("需求即将超时"), teams=[team])
    assert Delivery.objects.get(target=broken.target).error
    client = client_for(admin_user)
    with django_assert_max_num_queries(12):
        response = client.get(reverse(INDEX))
    page = response.content.decode()
    assert response.status_code == 200
    for route in [*routes, broken]:
        assert f'id="route-{route.pk}"' in page
    assert SECRET not in page and TOKEN not in page and SECRET[-4:] in page
    assert "HTTP 503" in page and "route-failure" in page and "发送失败" in page
    assert 'style="' not in page


def test_list_query_count_does_not_grow_with_routes(admin_user: Any, team: Team) -> None:
    from tests.conftest import count_queries

    client = client_for(admin_user)
    _route(admin_user, team=team)
    few = count_queries(client, reverse(INDEX))
    for i in range(10):
        _route(admin_user, name=f"群 {i}", team=team)
    assert count_queries(client, reverse(INDEX)) == few


def test_edit_keeps_the_secret_and_url_when_left_empty_and_audits_the_change(admin_user: Any, team: Team) -> None:
    route = _route(admin_user)
    client = client_for(admin_user)
    page = client.get(reverse("notify:notify_chat:detail", args=[route.pk])).content.decode()
    assert SECRET not in page and TOKEN not in page and 'value="SEC' not in page
    response = client.post(
        reverse("notify:notify_chat:detail", args=[route.pk]),
        _form(name="改名的群", webhook_url="", secret="", team=team.pk),
    )
    assert response.status_code == 302
    route.refresh_from_db()
    assert route.name == "改名的群" and route.secret == SECRET and TOKEN in route.webhook_url and route.team == team
    entry = AuditEntry.objects.filter(action=AuditEntry.Action.UPDATE).get()
    assert set(entry.changes) == {"name", "team", "kinds"}
    client.post(reverse("notify:notify_chat:detail", args=[route.pk]), _form(secret="", clear_secret="on"))
    route.refresh_from_db()
    assert route.secret == ""
    assert "secret" in AuditEntry.objects.filter(action=AuditEntry.Action.UPDATE).first().changes  # type: ignore[union-attr]


def test_wecom_and_slack_keep_no_secret(admin_user: Any) -> None:
    route = _route(admin_user, platform="wecom", url=f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={TOKEN}")
    assert route.secret == ""


def test_admin_deletes_a_route_with_an_audit_row(admin_user: Any) -> None:
    route = _route(admin_user)
    response = client_for(admin_user).post(reverse("notify:notify_chat:delete", args=[route.pk]))
    assert response.status_code == 302 and not ChatRoute.objects.exists()
    assert AuditEntry.objects.filter(action=AuditEntry.Action.DELETE, object_id=route.pk).exists()


@pytest.mark.parametrize("platform", ["dingtalk", "feishu", "wecom", "slack"])
def test_the_test_button_sends_now_and_shows_the_platforms_answer(
    platform: str, admin_user: Any, receiver: Callable[..., Receiver]
) -> None:
    bot = receiver(platform, secret=SECRET if platform in ("dingtalk", "feishu") else "")
    route = _route(admin_user, url=bot.url, platform=platform, secret=bot.secret)
    response = client_for(admin_user).post(reverse("notify:notify_chat:test", args=[route.pk]))
    page = response.content.decode()
    assert response.status_code == 200 and len(bot.accepted) == 1
    assert "测试消息已发送" in page and "HTTP 200" in page
    assert "测试消息" in str(bot.calls[0]["body"]) and "产品群" in str(bot.calls[0]["body"])
    route.refresh_from_db()
    assert route.last_ok_at is not None and not Delivery.objects.exists()


def test_the_test_button_shows_a_refusal(admin_user: Any, receiver: Callable[..., Receiver]) -> None:
    bot = receiver("feishu", secret=SECRET)
    route = _route(admin_user, url=bot.url, platform="feishu", secret="wrong-secret")
    page = client_for(admin_user).post(reverse("notify:notify_chat:test", args=[route.pk])).content.decode()
    assert "测试消息发送失败" in page and "19021" in page and "wrong-secret" not in page
    route.refresh_from_db()
    assert route.failing and "19021" in route.last_error


def test_the_test_button_refuses_a_private_address(admin_user: Any, settings: Any) -> None:
    settings.NEEDPOOL_CHAT_ALLOW_PRIVATE_HOSTS = False
    route = _route(admin_user, url="http://127.0.0.1:9/robot/send?access_token=x")
    page = client_for(admin_user).post(reverse("notify:notify_chat:test", args=[route.pk])).content.decode()
    assert "测试消息发送失败" in page and "内网" in page


# ---------------------------------------------------------------- everyone else


@pytest.mark.parametrize("role", NON_ADMINS)
def test_non_admins_cannot_list_add_change_test_or_delete_routes(
    role: str, users: dict[str, Any], admin_user: Any, receiver: Callable[..., Receiver]
) -> None:
    bot = receiver("slack")
    route = _route(admin_user, url=bot.url, platform="slack", secret="")
    client = client_for(users[role])
    assert client.get(reverse(INDEX)).status_code == 403
    assert client.get(reverse("notify:notify_chat:create")).status_code == 403
    assert client.post(reverse("notify:notify_chat:create"), _form()).status_code == 403
    for name in ("detail", "test", "delete"):
        assert client.post(reverse(f"notify:notify_chat:{name}", args=[route.pk]), _form()).status_code == 404
    assert client.get(reverse("notify:notify_chat:detail", args=[route.pk])).status_code == 404
    assert ChatRoute.objects.get().name == "产品群" and not bot.calls and AuditEntry.objects.count() == 1


def test_anonymous_visitors_are_sent_to_sign_in() -> None:
    for name in ("index", "create", "mine"):
        assert Client().get(reverse(f"notify:notify_chat:{name}")).status_code == 302


def test_a_missing_route_is_not_found(admin_user: Any) -> None:
    assert client_for(admin_user).get(reverse("notify:notify_chat:detail", args=[999])).status_code == 404


def test_services_refuse_non_admins(users: dict[str, Any]) -> None:
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        _route(users["manager"])


# ---------------------------------------------------------------- personal bots


def test_a_user_sets_tests_and_deletes_their_own_bot(make_user: Any, receiver: Callable[..., Receiver]) -> None:
    bot = receiver("dingtalk", secret=SECRET)
    user = make_user("sales", "rep")
    client = client_for(user)
    assert client.get(reverse("notify:notify_chat:mine")).status_code == 200
    response = client.post(
        reverse("notify:notify_chat:mine"),
        {"platform": "dingtalk", "webhook_url": bot.url, "secret": SECRET, "active": "on"},
    )
    assert response.status_code == 302
    saved = PersonalBot.objects.get(user=user)
    assert saved.secret == SECRET
    page = client.get(reverse("notify:notify_chat:mine")).content.decode()
    assert SECRET not in page and TOKEN not in page and SECRET[-4:] in page
    page = client.post(reverse("notify:notify_chat:mine_test")).content.decode()
    assert "测试消息已发送" in page and len(bot.accepted) == 1
    # Saving again with empty URL and secret keeps both.
    client.post(
        reverse("notify:notify_chat:mine"), {"platform": "dingtalk", "webhook_url": "", "secret": "", "active": "on"}
    )
    saved.refresh_from_db()
    assert saved.secret == SECRET and saved.webhook_url == bot.url
    client.post(reverse("notify:notify_chat:mine_delete"))
    assert not PersonalBot.objects.exists()


def test_a_user_never_sees_or_changes_another_users_bot(make_user: Any) -> None:
    owner, other = make_user("sales", "owner"), make_user("sales", "other")
    url = f"https://oapi.dingtalk.com/robot/send?access_token={TOKEN}"
    PersonalBot.objects.create(user=owner, platform="dingtalk", webhook_url=url, secret=SECRET)
    client = client_for(other)
    page = client.get(reverse("notify:notify_chat:mine")).content.decode()
    assert "oapi.dingtalk.com" not in page and SECRET[-4:] not in page
    client.post(reverse("notify:notify_chat:mine_delete"))
    client.post(reverse("notify:notify_chat:mine"), {"platform": "slack", "webhook_url": "https://hooks.slack.com/x"})
    assert PersonalBot.objects.get(user=owner).webhook_url == url
    assert PersonalBot.objects.get(user=other).platform == "slack"
    # The test button sends only to one's own bot.
    assert client_for(make_user("viewer", "third")).post(reverse("notify:notify_chat:mine_test")).status_code == 302


def test_a_personal_bot_refuses_a_bad_url(make_user: Any) -> None:
    client = client_for(make_user("viewer", "v"))
    response = client.post(
        reverse("notify:notify_chat:mine"), {"platform": "slack", "webhook_url": "file:///etc/passwd"}
    )
    assert response.status_code == 200 and response.context["form"].errors["webhook_url"]
    assert not PersonalBot.objects.exists()


def test_admins_find_the_routes_in_the_admin_menu(users: dict[str, Any]) -> None:
    home = reverse("notify:notify_chat:mine")
    assert 'id="nav-chat-routes"' in client_for(users["admin"]).get(home).content.decode()
    assert 'id="nav-chat-routes"' not in client_for(users["manager"]).get(home).content.decode()


def test_the_admin_site_never_shows_a_secret_or_url_key(admin_user: Any, make_user: Any) -> None:
    route = _route(admin_user)
    bot = PersonalBot.objects.create(
        user=make_user("sales", "rep"),
        platform="feishu",
        webhook_url=f"https://open.feishu.cn/hook/{TOKEN}",
        secret=SECRET,
    )
    client = client_for(admin_user)
    for url in (
        reverse("admin:notify_chat_chatroute_changelist"),
        reverse("admin:notify_chat_chatroute_change", args=[route.pk]),
        reverse("admin:notify_chat_personalbot_changelist"),
        reverse("admin:notify_chat_personalbot_change", args=[bot.pk]),
    ):
        response = client.get(url)
        page = response.content.decode()
        assert response.status_code == 200 and SECRET not in page and TOKEN not in page, url


def test_the_admin_site_cannot_change_or_delete_a_route_behind_the_services_back(admin_user: Any) -> None:
    route = _route(admin_user)
    client = client_for(admin_user)
    change = client.post(reverse("admin:notify_chat_chatroute_change", args=[route.pk]), {"name": "x", "kinds": "[]"})
    delete = client.post(reverse("admin:notify_chat_chatroute_delete", args=[route.pk]), {"post": "yes"})
    assert change.status_code == 403 and delete.status_code == 403
    route.refresh_from_db()
    assert route.name == "产品群"
