"""Portal pages: the public submission form and tracking page, and the staff pages behind them.

Public (no account; ``/portal/`` is outside the sign-in wall)
    ``/portal/``                  the active portal channels (straight to the form when there is one)
    ``/portal/<slug>/``           a channel's form; abuse checks before anything is written:
                                  per-address rate limit (429), honeypot (400), size and type limits,
                                  access code, privacy rule (form errors). Success redirects to:
    ``/portal/track/<token>/``    the private tracking page (status label, and staff messages when the
                                  channel shows them). Sent with ``Referrer-Policy: same-origin`` (the
                                  token never leaves the site in a Referer), ``X-Robots-Tag: noindex``
                                  and ``Cache-Control: private, no-store``.

Staff (signed in; checked here because ``/portal/`` is public for the middleware)
    ``/portal/staff/``                    submissions through every channel (scoped like feedback)
    ``/portal/staff/submissions/<pk>/``   one submission: what was sent, files, status, messages to the submitter
    ``/portal/staff/channels/…``          channel settings, API token, access codes: ``intake.channels.views``
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from needpool.accounts.models import acting_user
from needpool.core.views import add_service_errors, paginate
from needpool.intake.channels.ratelimits import portal_rate_hit
from needpool.intake.models import AccessMode, IntakeChannel, Submission
from needpool.intake.portal.forms import PortalForm, PortalMessageForm, SubmissionFilterForm
from needpool.intake.portal.permissions import can_message_submitter
from needpool.intake.portal.selectors import (
    STATUS_BADGES,
    portal_channel,
    portal_channels,
    submission_attachment_get,
    submission_get,
    submission_list,
    submission_status,
    tracked_submissions,
    tracking_link,
)
from needpool.intake.portal.services import attachment_limit_bytes, portal_message_send, portal_submit
from needpool.intake.staff import history_rows, staff_tabs
from needpool.requirements.dedup.index import strong_match_exists

# ---------------------------------------------------------------- public


def _attachment_hint(channel: IntakeChannel) -> str:
    return _("最多 %(count)s 个文件，每个不超过 %(mb)s MB；允许的类型：%(types)s。") % {
        "count": channel.max_attachments,
        "mb": f"{round(attachment_limit_bytes(channel) / 1024 / 1024, 1):g}",
        "types": ", ".join(settings.NEEDPOOL_ATTACHMENT_EXTENSIONS),
    }


def _private(response: HttpResponse) -> HttpResponse:
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Cache-Control"] = "private, no-store"
    return response


def portal_index(request: HttpRequest) -> HttpResponse:
    channels = list(portal_channels()[:50])
    if len(channels) == 1:
        return redirect("portal:form", slug=channels[0].slug)
    return render(request, "intake/portal/index.html", {"channels": channels}, status=200 if channels else 404)


def portal_form(request: HttpRequest, slug: str) -> HttpResponse:
    channel = portal_channel(slug)
    hint = _attachment_hint(channel)
    context: dict[str, Any] = {"channel": channel, "code_mode": channel.access_mode == AccessMode.CODE}
    if request.method != "POST":
        context["form"] = PortalForm(channel=channel, attachment_hint=hint)
        return render(request, "intake/portal/form.html", context)

    state = portal_rate_hit(request, channel_id=channel.pk, per_hour=channel.portal_rate_limit)
    if state.limited:
        kept = {k: v for k, v in request.POST.items() if k not in ("website", "csrfmiddlewaretoken")}
        context["form"] = PortalForm(initial=kept, channel=channel, attachment_hint=hint)
        context["refusal"] = _(
            "提交过于频繁：同一网络地址每小时最多提交 %(limit)s 次。请在约 %(minutes)s 分钟后再试；"
            "您填写的文字保留在下方（附件需要重新选择）。"
        ) % {"limit": state.limit, "minutes": max(1, round(state.seconds_left / 60))}
        return render(request, "intake/portal/form.html", context, status=429)

    form = PortalForm(request.POST, request.FILES, channel=channel, attachment_hint=hint)
    context["form"] = form
    if form.is_valid():
        data = form.cleaned_data
        try:
            receipt = portal_submit(
                channel=channel,
                customer_text=data.get("customer", ""),
                access_code=data.get("access_code", ""),
                contact_name=data["contact_name"],
                contact_phone=data.get("contact_phone", ""),
                contact_email=data.get("contact_email", ""),
                type=data["type"],
                description=data["description"],
                expected_date=data.get("expected_date"),
                uploads=data.get("attachments", []),
                language=get_language() or "",
                site_url=request.build_absolute_uri("/"),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            note = _("提交成功，我们已收到您的需求。请收藏本页链接，随时查看处理进度。")
            if strong_match_exists(data["description"]):  # nothing more about it: not its code, title or customer
                note = _("已有类似需求，已记录您的反馈。") + " " + _("请收藏本页链接，随时查看处理进度。")
            if receipt.emailed_to:
                note += " " + _("查看全部提交的链接也已发送到 %(email)s。") % {"email": receipt.emailed_to}
            messages.success(request, note)
            if receipt.masked_mobiles:
                messages.warning(
                    request,
                    _("为保护您的隐私，需求描述中的手机号码已自动隐藏（如 138****8000）；")
                    + _("我们会通过您留下的工作电话或邮箱联系您。"),
                )
            return redirect("portal:track", token=receipt.tracking_token)
    if form.is_honeypot_hit():
        context["refusal"] = " ".join(str(e) for e in form.non_field_errors())
        return render(request, "intake/portal/form.html", context, status=400)
    return render(request, "intake/portal/form.html", context)


def portal_track(request: HttpRequest, token: str) -> HttpResponse:
    link = tracking_link(token)
    page = paginate(request, tracked_submissions(link), per_page=20)
    rows: list[dict[str, Any]] = []
    for submission in page.object_list:
        status = submission_status(submission)
        rows.append(
            {
                "submission": submission,
                "status": status,
                "badge": STATUS_BADGES.get(status.category, "bg-secondary-lt"),
                "messages": list(submission.messages.all()) if submission.channel.shows_messages else [],
                "files": list(submission.attachments.all()),
            }
        )
    context = {
        "link": link,
        "rows": rows,
        "page_obj": page,
        "track_url": request.build_absolute_uri(reverse("portal:track", args=[token])),
        "form_channel": rows[0]["submission"].channel if rows else None,
    }
    return _private(render(request, "intake/portal/track.html", context))


# ---------------------------------------------------------------- staff: submissions


def _status_row(submission: Submission) -> dict[str, Any]:
    status = submission_status(submission)
    return {"submission": submission, "status": status, "badge": STATUS_BADGES.get(status.category, "")}


@login_required
def staff_submissions(request: HttpRequest) -> HttpResponse:
    form = SubmissionFilterForm(request.GET or None)
    filters: dict[str, Any] = {}
    if form.is_valid():
        data = form.cleaned_data
        filters = {
            "q": (data.get("q") or "").strip(),
            "channel_id": data["channel"].pk if data.get("channel") else None,
            "unlinked": bool(data.get("unlinked")),
        }
    page = paginate(request, submission_list(user=request.user, **filters))
    rows = [_status_row(s) for s in page.object_list]
    context = {
        "filter_form": form,
        "has_filters": any(filters.values()),
        "rows": rows,
        "page_obj": page,
        **staff_tabs(request, "submissions"),
    }
    return render(request, "intake/portal/staff_submissions.html", context)


def _submission_context(request: HttpRequest, submission: Submission, form: PortalMessageForm | None) -> dict[str, Any]:
    status = submission_status(submission)
    return {
        "submission": submission,
        "feedback": submission.feedback,
        "status": status,
        "badge": STATUS_BADGES.get(status.category),
        "files": list(submission.attachments.all()),
        "portal_messages": list(submission.messages.all()),
        "message_form": form or PortalMessageForm(),
        "can_message": can_message_submitter(request.user),
        "history": history_rows(submission),
        **staff_tabs(request, "submissions"),
    }


@login_required
def staff_submission_detail(request: HttpRequest, pk: int) -> HttpResponse:
    submission = submission_get(user=request.user, pk=pk)
    form: PortalMessageForm | None = None
    if request.method == "POST":
        if not can_message_submitter(request.user):
            raise PermissionDenied(_("您没有给提交人留言的权限。"))
        form = PortalMessageForm(request.POST)
        if form.is_valid():
            try:
                portal_message_send(
                    actor=acting_user(request.user),
                    submission=submission,
                    body=form.cleaned_data["body"],
                    site_url=request.build_absolute_uri("/"),
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                if submission.contact_email:
                    messages.success(
                        request, _("留言已发送，并已发邮件给 %(email)s。") % {"email": submission.contact_email}
                    )
                else:
                    messages.success(request, _("留言已发送，提交人可在跟踪页看到。"))
                return redirect(reverse("portal:staff_submission", args=[submission.pk]) + "#messages")
    return render(request, "intake/portal/staff_submission.html", _submission_context(request, submission, form))


@login_required
def staff_submission_file(request: HttpRequest, pk: int, file_pk: int) -> FileResponse:
    attachment = submission_attachment_get(user=request.user, submission_pk=pk, pk=file_pk)
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    return FileResponse(handle, as_attachment=True, filename=attachment.name)
