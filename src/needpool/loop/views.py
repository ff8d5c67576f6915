"""Pages of closing the loop: the overview, notices, CSAT, NPS campaigns, release notes, settings; and the
public changelog and survey pages (no account)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_ratelimit.core import get_usage

from needpool.core.concurrency import StaleVersion
from needpool.core.views import add_service_errors, error_text, paginate
from needpool.loop import permissions, selectors, services
from needpool.loop.forms import CampaignForm, LoopSettingsForm, NoticeTemplateForm, ReleaseNoteForm, SurveyAnswerForm
from needpool.loop.models import NoticeEvent, SurveyInvitation
from needpool.loop.permissions import acting_user
from needpool.loop.services.surveys import invitation_expired, public_title, score_range

PAGE_SIZE = 25
SURVEY_RATE = "60/h"


def _csat_rows(requirements: Any) -> list[dict[str, Any]]:
    rows = []
    for r in requirements:
        summary = selectors.CsatSummary(r.csat_invited, r.csat_answered, r.csat_satisfied, r.csat_average)
        rows.append({"requirement": r, "csat": summary})
    return rows


def index(request: HttpRequest) -> HttpResponse:
    user = request.user
    notices = list(selectors.notice_list(user=user)[:10])
    csat = _csat_rows(selectors.csat_requirements(user=user)[:10])
    campaigns = list(selectors.campaign_list(user=user)[:10])
    for campaign in campaigns:
        campaign.result = selectors.campaign_result(campaign)  # type: ignore[attr-defined]
    return render(
        request,
        "loop/index.html",
        {
            "notices": notices,
            "csat_rows": csat,
            "csat_overall": selectors.csat_overall(user=user),
            "campaigns": campaigns,
            "drafts": selectors.release_note_list(user=user).filter(published_at__isnull=True)[:10],
            "allowed": permissions.loop_permissions(user),
        },
    )


def notices_page(request: HttpRequest) -> HttpResponse:
    page = paginate(request, selectors.notice_list(user=request.user), PAGE_SIZE)
    return render(request, "loop/notices.html", {"page_obj": page})


def csat_page(request: HttpRequest) -> HttpResponse:
    page = paginate(request, selectors.csat_requirements(user=request.user), PAGE_SIZE)
    return render(request, "loop/csat.html", {"page_obj": page, "rows": _csat_rows(page.object_list)})


# ---------------------------------------------------------------- NPS campaigns


def campaigns_page(request: HttpRequest) -> HttpResponse:
    if not permissions.can_close_loop(request.user):
        raise permissions.deny()
    page = paginate(request, selectors.campaign_list(user=request.user), PAGE_SIZE)
    for campaign in page.object_list:
        campaign.result = selectors.campaign_result(campaign)  # type: ignore[attr-defined]
    return render(request, "loop/campaigns.html", {"page_obj": page})


def campaign_create(request: HttpRequest) -> HttpResponse:
    if not permissions.can_close_loop(request.user):
        raise permissions.deny(_("只有经理、产品经理和管理员可以发起 NPS 调查。"))
    form = CampaignForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            campaign = services.nps_campaign_create(actor=acting_user(request.user), **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("NPS 调查已创建，确认后点击“开始发送”。"))
            return redirect("loop:campaign", pk=campaign.pk)
    return render(request, "loop/campaign_form.html", {"form": form})


def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    campaign: Any = selectors.campaign_get(user=request.user, pk=pk)
    page = paginate(request, selectors.campaign_answers(campaign), PAGE_SIZE)
    from needpool.loop.services.surveys import campaign_contacts

    return render(
        request,
        "loop/campaign_detail.html",
        {
            "campaign": campaign,
            "result": selectors.nps_for_campaign(campaign),
            "page_obj": page,
            "audience": campaign_contacts(campaign).count(),
            "response_percent": round(100 * campaign.answered / campaign.invited) if campaign.invited else None,
        },
    )


@require_POST
def campaign_start(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = selectors.campaign_get(user=request.user, pk=pk)
    try:
        services.nps_campaign_start(actor=acting_user(request.user), campaign=campaign)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("开始发送 NPS 调查邀请。"))
    return redirect("loop:campaign", pk=campaign.pk)


# ---------------------------------------------------------------- release notes


def release_notes_page(request: HttpRequest) -> HttpResponse:
    if not permissions.can_close_loop(request.user):
        raise permissions.deny()
    page = paginate(request, selectors.release_note_list(user=request.user), PAGE_SIZE)
    return render(request, "loop/release_notes.html", {"page_obj": page})


def release_note_create(request: HttpRequest) -> HttpResponse:
    if not permissions.can_close_loop(request.user):
        raise permissions.deny(_("只有经理、产品经理和管理员可以编写更新日志。"))
    form = ReleaseNoteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "version"}
        try:
            note = services.release_note_create(actor=acting_user(request.user), **data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("更新日志草稿已保存。"))
            return redirect("loop:release_note", pk=note.pk)
    return render(request, "loop/release_note_form.html", {"form": form, "note": None})


def release_note_edit(request: HttpRequest, pk: int) -> HttpResponse:
    note = selectors.release_note_get(user=request.user, pk=pk)
    if request.method == "POST":
        form = ReleaseNoteForm(request.POST)
        if form.is_valid():
            try:
                services.release_note_update(actor=acting_user(request.user), note=note, **form.cleaned_data)
            except StaleVersion as exc:
                form.add_error(None, exc)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("更新日志已保存。"))
                return redirect("loop:release_note", pk=note.pk)
    else:
        form = ReleaseNoteForm(
            initial={"title": note.title, "body": note.body, "is_public": note.is_public, "version": note.version}
        )
    return render(request, "loop/release_note_form.html", {"form": form, "note": note})


@require_POST
def release_note_publish(request: HttpRequest, pk: int) -> HttpResponse:
    note = selectors.release_note_get(user=request.user, pk=pk)
    publish = request.POST.get("publish", "1") == "1"
    try:
        services.release_note_publish(actor=acting_user(request.user), note=note, publish=publish)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("已发布到门户的更新日志。") if publish else _("已从门户撤下。"))
    return redirect("loop:release_note", pk=note.pk)


# ---------------------------------------------------------------- settings


def settings_page(request: HttpRequest) -> HttpResponse:
    if not permissions.can_configure(request.user):
        raise permissions.deny(_("只有管理员可以修改闭环设置。"))
    config = services.loop_settings()
    templates = services.notice_templates()
    posted = request.POST if request.method == "POST" else None
    target = request.POST.get("form", "") if posted else ""
    settings_form = LoopSettingsForm(
        posted if target == "settings" else None, instance=config, initial={"version": config.version}
    )
    template_forms = [
        NoticeTemplateForm(
            posted if target == row["event"] else None,
            event=row["event"],
            initial={"subject": row["subject"], "body": row["body"]},
        )
        for row in templates
    ]
    actor = acting_user(request.user)
    if target == "settings" and settings_form.is_valid():
        data = {k: v for k, v in settings_form.cleaned_data.items() if k != "version"}
        try:
            services.loop_settings_update(actor=actor, version=settings_form.cleaned_data.get("version"), **data)
        except ValidationError as exc:
            add_service_errors(settings_form, exc)  # type: ignore[arg-type]
        else:
            messages.success(request, _("闭环设置已保存。"))
            return redirect("loop:settings")
    for form in template_forms:
        if target == form.event and request.POST.get("reset") == "1":
            services.notice_template_reset(actor=actor, event=form.event)
            messages.success(request, _("已恢复默认模板。"))
            return redirect("loop:settings")
        if target == form.event and form.is_valid():
            try:
                services.notice_template_update(actor=actor, event=form.event, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("“%(event)s”通知模板已保存。") % {"event": form.event_label})
                return redirect("loop:settings")
    return render(
        request,
        "loop/settings.html",
        {
            "settings_form": settings_form,
            "template_rows": list(zip(templates, template_forms, strict=True)),
            "variables": [("{" + k + "}", v()) for k, v in services.config.VARIABLES.items()],
            "events": NoticeEvent.choices,
        },
    )


# ---------------------------------------------------------------- public pages (no account)


def _private(response: HttpResponse) -> HttpResponse:
    response["Referrer-Policy"] = (
        "same-origin"  # keeps the token out of other sites; "no-referrer" would send Origin: null and fail CSRF
    )
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Cache-Control"] = "private, no-store"
    return response


def changelog(request: HttpRequest) -> HttpResponse:
    page = paginate(request, selectors.published_notes(), 20)
    return render(request, "loop/public/changelog.html", {"page_obj": page})


def _rate_limited(request: HttpRequest) -> bool:
    usage = get_usage(request, group="loop-survey", key="ip", rate=SURVEY_RATE, method=["GET", "POST"], increment=True)
    return bool(usage and usage["should_limit"])


def survey(request: HttpRequest, token: str) -> HttpResponse:
    """A CSAT or NPS answer page, reached only with its token (unknown tokens get the site's 404)."""
    if _rate_limited(request):
        response = render(request, "loop/public/survey_limited.html", {}, status=429)
        return _private(response)
    invitation = services.invitation_by_token(token)
    low, high = score_range(invitation.kind)
    context: dict[str, Any] = {"invitation": invitation, "is_csat": invitation.kind == SurveyInvitation.Kind.CSAT}
    if invitation.answered_at is not None:
        return _private(render(request, "loop/public/survey_done.html", {**context, "again": True}))
    if invitation_expired(invitation):
        return _private(render(request, "loop/public/survey_expired.html", context, status=410))
    form = SurveyAnswerForm(request.POST if request.method == "POST" else None, low=low, high=high)
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data.get("website"):
            form.add_error(None, _("提交未被接受。"))
        else:
            try:
                services.survey_answer(
                    invitation=invitation, score=form.cleaned_data["score"], comment=form.cleaned_data["comment"]
                )
            except ValidationError as exc:
                if getattr(exc, "code", "") == "answered":
                    return _private(render(request, "loop/public/survey_done.html", {**context, "again": True}))
                if getattr(exc, "code", "") == "expired":
                    return _private(render(request, "loop/public/survey_expired.html", context, status=410))
                add_service_errors(form, exc)
            else:
                return _private(render(request, "loop/public/survey_done.html", {**context, "again": False}))
    if invitation.kind == SurveyInvitation.Kind.NPS and invitation.campaign is not None:
        question = invitation.campaign.question or services.surveys.default_nps_question()
    else:
        question = _("您对需求“%(title)s”的处理结果满意吗？") % {"title": public_title(invitation)}
    context.update({"form": form, "question": question, "low": low, "high": high})
    status = 400 if request.method == "POST" else 200
    return _private(render(request, "loop/public/survey.html", context, status=status))
