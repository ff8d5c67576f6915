"""Pages of the chat bots: the group routes (admins) and each user's own bot."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from needpool.accounts.models import acting_user
from needpool.core.views import add_service_errors, error_text, paginate
from needpool.notify.chat import selectors, services
from needpool.notify.chat.forms import EndpointForm, RouteForm, bot_initial, route_initial
from needpool.notify.chat.masking import mask_secret, mask_url
from needpool.notify.chat.models import ChatRoute, PersonalBot
from needpool.notify.chat.services import TestOutcome

ROUTE_FIELDS = ("name", "platform", "webhook_url", "secret", "team", "kinds", "language", "active")


def _route_args(form: RouteForm) -> dict[str, Any]:
    return {field: form.cleaned_data[field] for field in ROUTE_FIELDS}


@login_required
def index(request: HttpRequest) -> HttpResponse:
    page = paginate(request, selectors.route_list(user=request.user))
    routes = list(page.object_list)
    failures = selectors.recent_failures(routes)
    rows = [
        {
            "route": r,
            "url": mask_url(r.webhook_url),
            "secret": mask_secret(r.secret),
            "failures": failures.get(r.pk, []),
        }
        for r in routes
    ]
    return render(request, "notify/chat/list.html", {"rows": rows, "page_obj": page})


@login_required
def create(request: HttpRequest) -> HttpResponse:
    selectors.route_list(user=request.user)  # admins only
    form = RouteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            route = services.chat_route_create(actor=acting_user(request.user), **_route_args(form))
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("群机器人“%(name)s”已添加。") % {"name": route.name})
            return redirect("notify:notify_chat:detail", pk=route.pk)
    return render(request, "notify/chat/form.html", {"form": form, "is_create": True})


def _detail(
    request: HttpRequest, route: ChatRoute, *, form: RouteForm | None = None, outcome: TestOutcome | None = None
) -> HttpResponse:
    page = paginate(request, selectors.route_deliveries(route), per_page=20)
    context = {
        "route": route,
        "form": form or RouteForm(initial=route_initial(route), saved=route),
        "url": mask_url(route.webhook_url),
        "secret": mask_secret(route.secret),
        "deliveries": page.object_list,
        "page_obj": page,
        "outcome": outcome,
    }
    return render(request, "notify/chat/detail.html", context)


@login_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    route = selectors.route_get(user=request.user, pk=pk)
    form = RouteForm(request.POST or None, initial=route_initial(route), saved=route)
    if request.method == "POST" and form.is_valid():
        try:
            route = services.chat_route_update(
                actor=acting_user(request.user),
                route=route,
                clear_secret=form.cleaned_data.get("clear_secret", False),
                **_route_args(form),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("群机器人设置已保存。"))
            return redirect("notify:notify_chat:detail", pk=route.pk)
    if request.method == "POST":
        route.refresh_from_db()
    return _detail(request, route, form=form)


@login_required
@require_POST
def delete(request: HttpRequest, pk: int) -> HttpResponse:
    route = selectors.route_get(user=request.user, pk=pk)
    services.chat_route_delete(actor=acting_user(request.user), route=route)
    messages.success(request, _("群机器人“%(name)s”已删除。") % {"name": route.name})
    return redirect("notify:notify_chat:index")


@login_required
@require_POST
def test(request: HttpRequest, pk: int) -> HttpResponse:
    """发送测试消息: sends now and shows what the platform answered."""
    route = selectors.route_get(user=request.user, pk=pk)
    outcome = services.chat_route_test(actor=acting_user(request.user), route=route)
    route.refresh_from_db()
    return _detail(request, route, outcome=outcome)


def _mine(
    request: HttpRequest,
    bot: PersonalBot | None,
    *,
    form: EndpointForm | None = None,
    outcome: TestOutcome | None = None,
) -> HttpResponse:
    page = paginate(request, selectors.personal_deliveries(user=request.user), per_page=20)
    context = {
        "bot": bot,
        "form": form or EndpointForm(initial=bot_initial(bot) if bot else None, saved=bot),
        "url": mask_url(bot.webhook_url) if bot else "",
        "secret": mask_secret(bot.secret) if bot else "",
        "deliveries": page.object_list,
        "page_obj": page,
        "outcome": outcome,
    }
    return render(request, "notify/chat/mine.html", context)


@login_required
def mine(request: HttpRequest) -> HttpResponse:
    bot = selectors.personal_bot_of(user=request.user)
    form = EndpointForm(request.POST or None, initial=bot_initial(bot) if bot else None, saved=bot)
    if request.method == "POST" and form.is_valid():
        try:
            services.personal_bot_save(
                user=acting_user(request.user),
                platform=form.cleaned_data["platform"],
                webhook_url=form.cleaned_data["webhook_url"],
                secret=form.cleaned_data["secret"],
                clear_secret=form.cleaned_data.get("clear_secret", False),
                active=form.cleaned_data["active"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("您的机器人已保存。"))
            return redirect("notify:notify_chat:mine")
    return _mine(request, bot, form=form)


@login_required
@require_POST
def mine_test(request: HttpRequest) -> HttpResponse:
    user = acting_user(request.user)
    try:
        outcome = services.personal_bot_test(user=user)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return redirect("notify:notify_chat:mine")
    return _mine(request, selectors.personal_bot_of(user=user), outcome=outcome)


@login_required
@require_POST
def mine_delete(request: HttpRequest) -> HttpResponse:
    services.personal_bot_delete(user=acting_user(request.user))
    messages.success(request, _("您的机器人已删除。"))
    return redirect("notify:notify_chat:mine")
