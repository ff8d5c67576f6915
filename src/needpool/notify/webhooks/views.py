"""Pages of the outbound webhooks (/notify/webhooks/…, admins only): endpoints, their delivery log, resend, the
test event and secret rotation. A secret is shown in full only on the page answering the POST that made it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from needpool.accounts.models import acting_user
from needpool.core.views import add_service_errors, error_text, paginate
from needpool.notify.kinds import EventKind
from needpool.notify.models import Delivery
from needpool.notify.webhooks.forms import EndpointForm, RotateForm
from needpool.notify.webhooks.models import WebhookEndpoint
from needpool.notify.webhooks.permissions import can_manage_webhooks
from needpool.notify.webhooks.selectors import (
    endpoint_deliveries,
    endpoint_delivery_get,
    endpoint_get,
    endpoint_history,
    endpoint_list,
    endpoint_secrets,
)
from needpool.notify.webhooks.services import (
    ENDPOINT_FIELDS,
    webhook_delivery_resend,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_ping,
    webhook_endpoint_rotate_secret,
    webhook_endpoint_update,
)

_HISTORY_LABELS = {
    "secret": lambda: _("签名密钥"),
    "grace_hours": lambda: _("旧密钥过渡期（小时）"),
    "ping": lambda: _("测试事件"),
    "resend": lambda: _("重新发送投递"),
    "reason": lambda: _("原因"),
}


def _kind_labels(value: Any) -> str:
    labels = dict(EventKind.choices)
    names = [part.strip() for part in str(value or "").split(",") if part.strip()]
    return "、".join(str(labels.get(name, name)) for name in names) if names else str(_("全部类型"))


def _history(endpoint: WebhookEndpoint) -> list[dict[str, Any]]:
    """Audit rows for includes/audit_log.html, with field names and values in the reader's language."""

    def label(name: str) -> str:
        if name in _HISTORY_LABELS:
            return str(_HISTORY_LABELS[name]())
        try:
            return str(getattr(WebhookEndpoint._meta.get_field(name), "verbose_name", name))
        except Exception:  # a key that is not a model field
            return name

    def shown(name: str, value: Any) -> Any:
        if isinstance(value, bool):
            return _("是") if value else _("否")
        if name == "kinds":
            return _kind_labels(value)
        return value

    return [
        {
            "entry": entry,
            "rows": [
                {
                    **row,
                    "label": label(row["field"]),
                    "old": shown(row["field"], row["old"]) if row["old"] != "" else "",
                    "new": shown(row["field"], row["new"]),
                }
                for row in entry.change_rows()
            ],
        }
        for entry in endpoint_history(endpoint)
    ]


def _endpoint_page(
    request: HttpRequest,
    endpoint: WebhookEndpoint,
    *,
    new_secret: str = "",
    rotate_form: RotateForm | None = None,
    status: int = 200,
) -> HttpResponse:
    status_filter = request.GET.get("status", "")
    page = paginate(request, endpoint_deliveries(endpoint, status=status_filter), per_page=20)
    context = {
        "endpoint": endpoint,
        "kind_labels": _kind_labels(",".join(endpoint.kinds)),
        "secrets": endpoint_secrets(endpoint),
        "new_secret": new_secret,
        "rotate_form": rotate_form or RotateForm(),
        "deliveries": page.object_list,
        "page_obj": page,
        "status_filter": status_filter if status_filter in Delivery.Status.values else "",
        "statuses": Delivery.Status.choices,
        "history": _history(endpoint),
    }
    response = render(request, "notify/webhooks/detail.html", context, status=status)
    if new_secret:
        response["Cache-Control"] = "private, no-store"
    return response


@login_required
def endpoint_list_page(request: HttpRequest) -> HttpResponse:
    page = paginate(request, endpoint_list(user=request.user))
    labels = dict(Delivery.Status.choices)
    rows = [
        {
            "endpoint": e,
            "kinds": _kind_labels(",".join(e.kinds)),
            "last_label": labels.get(getattr(e, "last_status", "") or "", ""),
        }
        for e in page.object_list
    ]
    return render(request, "notify/webhooks/list.html", {"page_obj": page, "rows": rows})


@login_required
def endpoint_create_page(request: HttpRequest) -> HttpResponse:
    if not can_manage_webhooks(request.user):
        endpoint_list(user=request.user)  # raises the same refusal as the list
    form = EndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint, secret = webhook_endpoint_create(
                actor=acting_user(request.user), **{f: form.cleaned_data[f] for f in ENDPOINT_FIELDS}
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Webhook 端点“%(name)s”已创建。") % {"name": endpoint.name})
            return _endpoint_page(request, endpoint, new_secret=secret)
    return render(request, "notify/webhooks/form.html", {"form": form, "is_create": True})


@login_required
def endpoint_page(request: HttpRequest, pk: int) -> HttpResponse:
    return _endpoint_page(request, endpoint_get(user=request.user, pk=pk))


@login_required
def endpoint_edit_page(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = endpoint_get(user=request.user, pk=pk)
    initial = {f: getattr(endpoint, f) for f in ENDPOINT_FIELDS}
    form = EndpointForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            webhook_endpoint_update(
                actor=acting_user(request.user),
                endpoint=endpoint,
                **{f: form.cleaned_data[f] for f in ENDPOINT_FIELDS},
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Webhook 端点已保存。"))
            return redirect("notify:notify_webhooks:endpoint", pk=endpoint.pk)
    return render(request, "notify/webhooks/form.html", {"form": form, "endpoint": endpoint, "is_create": False})


@login_required
def endpoint_delete_page(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = endpoint_get(user=request.user, pk=pk)
    if request.method == "POST":
        webhook_endpoint_delete(actor=acting_user(request.user), endpoint=endpoint)
        messages.success(request, _("Webhook 端点“%(name)s”已删除。") % {"name": endpoint.name})
        return redirect("notify:notify_webhooks:list")
    return render(request, "notify/webhooks/delete.html", {"endpoint": endpoint})


@login_required
@require_POST
def endpoint_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = endpoint_get(user=request.user, pk=pk)
    form = RotateForm(request.POST)
    if form.is_valid():
        try:
            _row, secret = webhook_endpoint_rotate_secret(
                actor=acting_user(request.user),
                endpoint=endpoint,
                grace=dt.timedelta(hours=form.cleaned_data["grace_hours"]),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return _endpoint_page(request, endpoint, new_secret=secret)
    return _endpoint_page(request, endpoint, rotate_form=form, status=400)


@login_required
@require_POST
def endpoint_ping(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = endpoint_get(user=request.user, pk=pk)
    try:
        webhook_endpoint_ping(actor=acting_user(request.user), endpoint=endpoint)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("测试事件已发出，结果见下方投递记录。"))
    return redirect(reverse("notify:notify_webhooks:endpoint", args=[endpoint.pk]) + "#deliveries")


@login_required
@require_POST
def delivery_resend_view(request: HttpRequest, pk: int, delivery_pk: int) -> HttpResponse:
    endpoint = endpoint_get(user=request.user, pk=pk)
    delivery = endpoint_delivery_get(endpoint, delivery_pk)
    try:
        delivery = webhook_delivery_resend(actor=acting_user(request.user), endpoint=endpoint, delivery=delivery)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(
            request,
            _("投递 #%(id)s 已重新发送：%(status)s。") % {"id": delivery.pk, "status": delivery.get_status_display()},
        )
    return redirect(reverse("notify:notify_webhooks:endpoint", args=[endpoint.pk]) + "#deliveries")
