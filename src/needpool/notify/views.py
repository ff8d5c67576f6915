"""Pages of notifications: each user's channel choices and language, and the delivery log for admins."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from needpool.core.validation import parse_id
from needpool.core.views import error_text, paginate
from needpool.notify import selectors, services
from needpool.notify.kinds import Channel, EventKind
from needpool.notify.models import Delivery

#: Checkbox names on the preferences page: ``ch-<kind>`` with one value per ticked channel.
FIELD_PREFIX = "ch-"

#: The target kinds of the delivery log's filter (``<kind>:<id>``).
TARGET_KINDS = [
    ("mail", gettext_lazy("邮件")),
    ("im", gettext_lazy("个人机器人")),
    ("chat", gettext_lazy("群机器人")),
    ("webhook", "Webhook"),
]


def _personal_bot_url() -> str:
    """The personal bot's page, once it exists (the IM channel needs a bot); "" until then."""
    for name in ("notify_chat:mine", "notify:notify_chat:mine"):
        try:
            return reverse(name)
        except NoReverseMatch:
            continue
    return ""


def _owner(request: HttpRequest) -> Any:
    """The user whose preferences this request opens (``?user=`` for 管理用户与团队 only; otherwise 404)."""
    raw = request.GET.get("user")
    user_id = parse_id(raw) if raw not in (None, "") else None
    if raw not in (None, "") and user_id is None:
        raise Http404
    owner = selectors.preference_owner(actor=request.user, user_id=user_id)
    if owner is None:
        raise Http404
    return owner


def _posted_choices(request: HttpRequest) -> dict[str, list[str]]:
    """Every kind's ticked channels (none ticked: off); unknown ``ch-`` names are passed on to be refused."""
    choices = {kind: request.POST.getlist(f"{FIELD_PREFIX}{kind}") for kind in EventKind.values}
    for name in request.POST:
        if name.startswith(FIELD_PREFIX) and name[len(FIELD_PREFIX) :] not in choices:
            choices[name[len(FIELD_PREFIX) :]] = request.POST.getlist(name)
    return choices


def preferences(request: HttpRequest) -> HttpResponse:
    owner = _owner(request)
    if request.method == "POST":
        language = request.POST.get("language") if "language" in request.POST else None
        try:
            services.preferences_save(
                actor=request.user, user=owner, choices=_posted_choices(request), language=language
            )
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, error_text(exc) if isinstance(exc, ValidationError) else str(exc))
            owner.refresh_from_db(fields=["language"])
        else:
            messages.success(request, _("通知设置已保存。"))
            return redirect(request.get_full_path())
    rows = selectors.preference_rows(user=owner)
    context = {
        "owner": owner,
        "is_self": owner.pk == request.user.pk,
        "rows": rows,
        "channels": Channel.choices,
        "field_prefix": FIELD_PREFIX,
        "languages": [("", _("网站默认（简体中文）")), ("zh-hans", "简体中文"), ("en", "English")],
        "personal_bot_url": _personal_bot_url(),
    }
    return render(request, "notify/preferences.html", context)


@require_POST
def preferences_reset(request: HttpRequest) -> HttpResponse:
    owner = _owner(request)
    services.preferences_reset(actor=request.user, user=owner)
    messages.success(request, _("已恢复默认通知设置。"))
    target = reverse("notify:preferences")
    return redirect(target if owner.pk == request.user.pk else f"{target}?user={owner.pk}")


def deliveries(request: HttpRequest) -> HttpResponse:
    if not selectors.can_see_deliveries(request.user):
        raise Http404
    status = request.GET.get("status", "")
    status = status if status in Delivery.Status.values else ""
    target = request.GET.get("target", "")
    target = target if target in dict(TARGET_KINDS) else ""
    page = paginate(request, selectors.delivery_list(user=request.user, status=status, target_kind=target))
    context = {
        "page_obj": page,
        "items": page.object_list,
        "statuses": Delivery.Status.choices,
        "target_kinds": TARGET_KINDS,
        "status": status,
        "target": target,
    }
    return render(request, "notify/deliveries.html", context)


@require_POST
def delivery_resend(request: HttpRequest, pk: int) -> HttpResponse:
    delivery = selectors.delivery_get(user=request.user, pk=pk)
    if delivery is None:
        raise Http404
    delivery = services.delivery_resend(delivery=delivery, actor=request.user)
    if delivery.status == Delivery.Status.SENT:
        messages.success(request, _("已重新发送。"))
    else:
        reason = delivery.error or delivery.get_status_display()
        messages.error(request, _("重新发送未成功：%(error)s") % {"error": reason})
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=False):
        back = reverse("notify:deliveries")
    return redirect(back)
