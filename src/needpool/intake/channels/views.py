"""Staff pages of the collection channels (/portal/staff/channels/…, admin only): settings, the API token
(shown once, on the page answering the POST that made it) and customers' access codes."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from needpool.accounts.models import acting_user
from needpool.core.views import add_service_errors, error_text, paginate
from needpool.intake.channels.forms import AccessCodeForm, ChannelForm
from needpool.intake.channels.permissions import can_manage_channels
from needpool.intake.channels.selectors import channel_access_codes, channel_get, channel_list
from needpool.intake.channels.services import (
    CHANNEL_FIELDS,
    access_code_issue,
    access_code_revoke,
    channel_create,
    channel_token_revoke,
    channel_token_rotate,
    channel_update,
)
from needpool.intake.models import ChannelAccessCode, IntakeChannel
from needpool.intake.staff import history_rows, staff_tabs


@login_required
def staff_channels(request: HttpRequest) -> HttpResponse:
    page = paginate(request, channel_list(user=request.user))
    context = {"page_obj": page, "channels": page.object_list, **staff_tabs(request, "channels")}
    return render(request, "intake/channels/list.html", context)


@login_required
def staff_channel_create(request: HttpRequest) -> HttpResponse:
    if not can_manage_channels(request.user):
        raise PermissionDenied(_("只有管理员可以管理收集渠道。"))
    form = ChannelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            channel = channel_create(
                actor=acting_user(request.user), **{f: form.cleaned_data[f] for f in CHANNEL_FIELDS}
            )
        except ValidationError as exc:
            add_service_errors(form, exc)  # type: ignore[arg-type]  # a ModelForm is a BaseForm too
        else:
            messages.success(request, _("渠道“%(name)s”已创建。") % {"name": channel.name})
            return redirect("portal:staff_channel", pk=channel.pk)
    return render(
        request, "intake/channels/form.html", {"form": form, "is_create": True, **staff_tabs(request, "channels")}
    )


def _channel_page(
    request: HttpRequest,
    channel: IntakeChannel,
    *,
    form: ChannelForm | None = None,
    code_form: AccessCodeForm | None = None,
    new_token: str = "",
    new_code: tuple[ChannelAccessCode, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    codes = paginate(request, channel_access_codes(channel), per_page=20)
    context = {
        "channel": channel,
        "form": form or ChannelForm(instance=channel),
        "code_form": code_form or AccessCodeForm(user=request.user),
        "codes": codes.object_list,
        "page_obj": codes,
        "new_token": new_token,
        "new_code": new_code,
        "portal_url": request.build_absolute_uri(reverse("portal:form", args=[channel.slug])),
        "api_url": request.build_absolute_uri("/api/v1/feedback/"),
        "history": history_rows(channel),
        **staff_tabs(request, "channels"),
    }
    response = render(request, "intake/channels/detail.html", context, status=status)
    if new_token or new_code:
        response["Cache-Control"] = "private, no-store"
    return response


@login_required
def staff_channel(request: HttpRequest, pk: int) -> HttpResponse:
    channel = channel_get(user=request.user, pk=pk)
    form = ChannelForm(request.POST or None, instance=channel)
    if request.method == "POST" and form.is_valid():
        try:
            channel = channel_update(
                actor=acting_user(request.user), channel=channel, **{f: form.cleaned_data[f] for f in CHANNEL_FIELDS}
            )
        except ValidationError as exc:
            add_service_errors(form, exc)  # type: ignore[arg-type]  # a ModelForm is a BaseForm too
        else:
            messages.success(request, _("渠道设置已保存。"))
            return redirect("portal:staff_channel", pk=channel.pk)
    if request.method == "POST":
        channel.refresh_from_db()  # the bound form changed the instance in memory; show the saved values
    return _channel_page(request, channel, form=form)


@login_required
@require_POST
def staff_channel_token(request: HttpRequest, pk: int) -> HttpResponse:
    """Create or rotate the API token; the page answering this POST is the only place it is ever shown."""
    channel = channel_get(user=request.user, pk=pk)
    channel, token = channel_token_rotate(actor=acting_user(request.user), channel=channel)
    return _channel_page(request, channel, new_token=token)


@login_required
@require_POST
def staff_channel_token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    channel = channel_get(user=request.user, pk=pk)
    try:
        channel_token_revoke(actor=acting_user(request.user), channel=channel)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("API 令牌已作废，使用它的调用将被拒绝。"))
    return redirect(reverse("portal:staff_channel", args=[channel.pk]) + "#api")


@login_required
@require_POST
def staff_channel_code_issue(request: HttpRequest, pk: int) -> HttpResponse:
    channel = channel_get(user=request.user, pk=pk)
    code_form = AccessCodeForm(request.POST, user=request.user)
    if code_form.is_valid():
        try:
            record, code = access_code_issue(
                actor=acting_user(request.user), channel=channel, customer=code_form.cleaned_data["customer"]
            )
        except ValidationError as exc:
            add_service_errors(code_form, exc)
        else:
            return _channel_page(request, channel, new_code=(record, code))
    return _channel_page(request, channel, code_form=code_form, status=400)


@login_required
@require_POST
def staff_channel_code_revoke(request: HttpRequest, pk: int, code_pk: int) -> HttpResponse:
    channel = channel_get(user=request.user, pk=pk)
    record = channel_access_codes(channel).filter(pk=code_pk).first()
    if record is None:
        raise Http404
    access_code_revoke(actor=acting_user(request.user), access_code=record)
    messages.success(request, _("客户 %(customer)s 的访问码已停用。") % {"customer": record.customer})
    return redirect(reverse("portal:staff_channel", args=[channel.pk]) + "#codes")
