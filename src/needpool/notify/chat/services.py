"""Writes of the chat bots and their two senders.

Admins (``configure`` or superuser) keep the group routes: ``chat_route_create / update / delete``, each atomic
with its audit row (the secret and the URL's keys never in it). Any user keeps their own ``PersonalBot``. The
target source names ``chat:<route>`` for every active route that carries an event; the senders ``chat`` and
``im`` post it and note the outcome on the route or bot (``last_ok_at`` / ``last_error``). A failure raises
``SendError``, so the notification core retries it with backoff — a bad token included: an admin may fix the
route while the retries run.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext as _

from needpool.accounts.models import Team, User
from needpool.core.audit import audit_record, diff
from needpool.core.links import absolute
from needpool.core.models import AuditEntry
from needpool.notify.chat.masking import mask_secret, mask_url
from needpool.notify.chat.models import SIGNING_PLATFORMS, BotEndpoint, ChatRoute, Language, PersonalBot, Platform
from needpool.notify.chat.permissions import can_configure_routes
from needpool.notify.chat.platforms import Message, check_url, post
from needpool.notify.kinds import EventKind
from needpool.notify.models import Delivery, Event
from needpool.notify.registry import SendError, SendResult
from needpool.notify.services import render, user_language

logger = logging.getLogger(__name__)

MAX_NAME = 80
MAX_SECRET = 200


@dataclass(frozen=True)
class TestOutcome:
    """What a test message came back with, for the page that asked."""

    ok: bool
    response_status: int | None = None
    response_excerpt: str = ""
    error: str = ""


# ---------------------------------------------------------------- validation


def _clean_endpoint(*, platform: str, webhook_url: str, secret: str) -> tuple[str, str, str]:
    errors: dict[str, list[str]] = {}
    if platform not in Platform.values:
        errors["platform"] = [_("请选择平台。")]
    try:
        webhook_url = check_url(webhook_url)
    except ValidationError as exc:
        errors["webhook_url"] = list(exc.messages)
    secret = (secret or "").strip()
    if len(secret) > MAX_SECRET:
        errors["secret"] = [_("签名密钥不能超过 %(max)s 个字符。") % {"max": MAX_SECRET}]
    if errors:
        raise ValidationError(errors)
    if platform not in SIGNING_PLATFORMS:
        secret = ""  # 企业微信 and Slack do not sign: the key is in the URL
    return platform, webhook_url, secret


def _clean_route(*, name: str, kinds: Iterable[str], language: str) -> tuple[str, list[str], str]:
    errors: dict[str, list[str]] = {}
    name = " ".join((name or "").split())
    if not name:
        errors["name"] = [_("请填写名称。")]
    elif len(name) > MAX_NAME:
        errors["name"] = [_("名称不能超过 %(max)s 个字符。") % {"max": MAX_NAME}]
    chosen = list(dict.fromkeys(kinds))
    if any(kind not in EventKind.values for kind in chosen):
        errors["kinds"] = [_("请选择有效的事件类型。")]
    if language not in Language.values:
        errors["language"] = [_("请选择语言。")]
    if errors:
        raise ValidationError(errors)
    return name, sorted(chosen, key=EventKind.values.index), language


def _require_admin(user: Any) -> None:
    if not can_configure_routes(user):
        raise PermissionDenied(_("只有管理员可以设置群机器人。"))


def _audit_view(route: ChatRoute) -> dict[str, Any]:
    return {
        "name": route.name,
        "platform": route.get_platform_display(),
        "webhook_url": mask_url(route.webhook_url),
        "secret": mask_secret(route.secret),
        "team": str(route.team) if route.team_id else "",
        "kinds": ", ".join(str(EventKind(k).label) for k in route.kinds),
        "language": route.language,
        "active": route.active,
    }


# ---------------------------------------------------------------- routes (admin)


@transaction.atomic
def chat_route_create(
    *,
    actor: User,
    name: str,
    platform: str,
    webhook_url: str,
    secret: str = "",
    team: Team | None = None,
    kinds: Iterable[str] = (),
    language: str = Language.ZH_HANS,
    active: bool = True,
) -> ChatRoute:
    _require_admin(actor)
    name, chosen, language = _clean_route(name=name, kinds=kinds, language=language)
    platform, webhook_url, secret = _clean_endpoint(platform=platform, webhook_url=webhook_url, secret=secret)
    route = ChatRoute.objects.create(
        name=name,
        platform=platform,
        webhook_url=webhook_url,
        secret=secret,
        team=team,
        kinds=chosen,
        language=language,
        active=active,
        created_by=actor,
    )
    audit_record(actor=actor, obj=route, action=AuditEntry.Action.CREATE, changes=_audit_view(route))
    return route


@transaction.atomic
def chat_route_update(
    *,
    actor: User,
    route: ChatRoute,
    name: str,
    platform: str,
    webhook_url: str = "",
    secret: str = "",
    clear_secret: bool = False,
    team: Team | None = None,
    kinds: Iterable[str] = (),
    language: str = Language.ZH_HANS,
    active: bool = True,
) -> ChatRoute:
    """Change a route; an empty ``webhook_url`` or ``secret`` keeps the saved one (the pages never show them)."""
    _require_admin(actor)
    route = ChatRoute.objects.select_for_update(of=("self",)).select_related("team").get(pk=route.pk)
    before = _audit_view(route)
    name, chosen, language = _clean_route(name=name, kinds=kinds, language=language)
    new_secret = "" if clear_secret else (secret.strip() or route.secret)
    platform, webhook_url, new_secret = _clean_endpoint(
        platform=platform, webhook_url=webhook_url.strip() or route.webhook_url, secret=new_secret
    )
    route.name, route.platform, route.webhook_url, route.secret = name, platform, webhook_url, new_secret
    route.team, route.kinds, route.language, route.active = team, chosen, language, active
    route.save()
    changes = diff(before, _audit_view(route))
    if changes:
        audit_record(actor=actor, obj=route, action=AuditEntry.Action.UPDATE, changes=changes)
    return route


@transaction.atomic
def chat_route_delete(*, actor: User, route: ChatRoute) -> None:
    _require_admin(actor)
    route = ChatRoute.objects.select_for_update(of=("self",)).select_related("team").get(pk=route.pk)
    audit_record(actor=actor, obj=route, action=AuditEntry.Action.DELETE, changes=_audit_view(route))
    route.delete()


def chat_route_test(*, actor: User, route: ChatRoute) -> TestOutcome:
    """Send a test message to the route now (the 发送测试消息 button) and say what the platform answered."""
    _require_admin(actor)
    with translation.override(route.language):
        message = _test_message(route.name)
    return _test(route, message)


# ---------------------------------------------------------------- personal bots (each user their own)


def personal_bot_save(
    *,
    user: User,
    platform: str,
    webhook_url: str = "",
    secret: str = "",
    clear_secret: bool = False,
    active: bool = True,
) -> PersonalBot:
    """Set ``user``'s own bot; an empty ``webhook_url`` or ``secret`` keeps the saved one."""
    if not (user and user.is_authenticated and user.is_active):
        raise PermissionDenied(_("请先登录。"))
    for _attempt in range(2):
        try:
            with transaction.atomic():
                bot = PersonalBot.objects.select_for_update().filter(user=user).first()
                saved_url, saved_secret = (bot.webhook_url, bot.secret) if bot else ("", "")
                platform, url, new_secret = _clean_endpoint(
                    platform=platform,
                    webhook_url=webhook_url.strip() or saved_url,
                    secret="" if clear_secret else (secret.strip() or saved_secret),
                )
                if bot is None:
                    return PersonalBot.objects.create(
                        user=user, platform=platform, webhook_url=url, secret=new_secret, active=active
                    )
                bot.platform, bot.webhook_url, bot.secret, bot.active = platform, url, new_secret, active
                bot.save(update_fields=["platform", "webhook_url", "secret", "active"])
                return bot
        except IntegrityError:
            continue  # the same user saved twice at once: the other save made the row, update it now
    raise ValidationError(_("保存失败，请重试。"))


@transaction.atomic
def personal_bot_delete(*, user: User) -> None:
    PersonalBot.objects.filter(user=user.pk).delete()


def personal_bot_test(*, user: User) -> TestOutcome:
    bot = PersonalBot.objects.filter(user=user.pk).first()
    if bot is None:
        raise ValidationError(_("请先保存您的机器人。"))
    with translation.override(user_language(user)):
        message = _test_message(str(user))
    return _test(bot, message)


# ---------------------------------------------------------------- sending


def _test_message(name: str) -> Message:
    return Message(
        title=gettext("需求池"),
        text=gettext("这是一条来自需求池的测试消息：%(name)s 已连通。") % {"name": name},
        url=absolute("/"),
        link_label=gettext("打开需求池"),
    )


def event_message(event: Event, language: str | None) -> Message:
    """The event's sentence in ``language`` with an absolute link to what it is about."""
    with translation.override(language or None):
        return Message(
            title=gettext("需求池"),
            text=render(event, language),
            url=absolute(event.url) if event.url.startswith("/") and not event.url.startswith("//") else "",
            link_label=gettext("查看详情"),
        )


def _note(endpoint: BotEndpoint, *, error: str = "") -> None:
    """Keep the outcome on the route or bot (an operational status, not a configuration change: no audit)."""
    now = timezone.now()
    fields: dict[str, Any] = {"last_error": error[:500], "last_error_at": now} if error else {"last_ok_at": now}
    model: type[ChatRoute] | type[PersonalBot] = ChatRoute if isinstance(endpoint, ChatRoute) else PersonalBot
    model.objects.filter(pk=endpoint.pk).update(**fields)


def _send(endpoint: BotEndpoint, message: Message) -> SendResult:
    try:
        answer = post(endpoint.platform, endpoint.webhook_url, endpoint.secret, message)
    except Exception as exc:
        error = str(exc) or exc.__class__.__name__
        # The URL and secret stay out of the log: the URL carries the bot's key.
        logger.warning("%s %s (%s) failed: %s", endpoint._meta.model_name, endpoint.pk, endpoint.platform, error)
        _note(endpoint, error=error)
        raise
    _note(endpoint)
    return SendResult(response_status=answer.status, response_excerpt=answer.excerpt)


def _test(endpoint: BotEndpoint, message: Message) -> TestOutcome:
    try:
        result = _send(endpoint, message)
    except SendError as exc:
        return TestOutcome(
            ok=False, response_status=exc.response_status, response_excerpt=exc.response_excerpt, error=str(exc)
        )
    return TestOutcome(ok=True, response_status=result.response_status, response_excerpt=result.response_excerpt)


def route_targets(event: Event) -> list[str]:
    """The target source: ``chat:<id>`` of every active route carrying the event's kind for one of its teams."""
    teams = {int(t) for t in event.teams}
    routes = ChatRoute.objects.filter(active=True).only("pk", "team_id", "kinds", "active").order_by("pk")
    return [route.target for route in routes if route.carries(event.kind, teams)]


def chat_send(delivery: Delivery) -> SendResult:
    """Sender ``chat``: post the event to the route in the route's language."""
    route = ChatRoute.objects.filter(pk=int(delivery.target_id)).first() if delivery.target_id.isdigit() else None
    if route is None or not route.active:
        return SendResult(skipped=True, response_excerpt="route removed or switched off")
    return _send(route, event_message(delivery.event, route.language))


def im_send(delivery: Delivery) -> SendResult:
    """Sender ``im``: post the event to the user's own bot in the user's language."""
    if not delivery.target_id.isdigit():
        return SendResult(skipped=True, response_excerpt="no such user")
    bot = PersonalBot.objects.select_related("user").filter(user=int(delivery.target_id)).first()
    if bot is None or not bot.active or not bot.user.is_active:
        return SendResult(skipped=True, response_excerpt="no personal bot")
    return _send(bot, event_message(delivery.event, user_language(bot.user)))
