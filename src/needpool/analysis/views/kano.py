"""Kano surveys: creating one and entering answers on the desk, and the public answer page (no account)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from needpool.analysis import permissions
from needpool.analysis.forms import KanoAnswerForm, KanoEntryForm, KanoSurveyForm
from needpool.analysis.permissions import acting_user
from needpool.analysis.selectors import kano_of, kano_survey_by_token
from needpool.analysis.services import kano_answer, kano_survey_create
from needpool.analysis.views.desk import desk_action, desk_url, kano_customers, requirement_or_404
from needpool.core.views import add_service_errors
from needpool.requirements.models import Requirement


@require_POST
def desk_kano_survey(request: HttpRequest, pk: int) -> HttpResponse:
    return desk_action(
        request,
        pk,
        allowed=permissions.can_edit_kano_survey,
        form_name="kano_survey_form",
        make_form=lambda r: KanoSurveyForm(request.POST),
        save=lambda r, f: kano_survey_create(actor=acting_user(request.user), requirement=r, **f.cleaned_data),
        anchor="kano",
        success=_("Kano 问卷已保存，可以把链接发给客户了。"),
        section=_("Kano 问卷"),
    )


@require_POST
def desk_kano_entry(request: HttpRequest, pk: int) -> HttpResponse:
    requirement = requirement_or_404(request, pk)
    survey, _summary = kano_of(requirement)
    if survey is None:
        if not permissions.can_enter_kano_answer(request.user, requirement):
            raise permissions.deny()
        messages.error(request, _("请先创建 Kano 问卷。"))
        return redirect(desk_url(requirement.pk, "kano"))

    def save(r: Requirement, form: KanoEntryForm) -> None:
        kano_answer(
            survey=survey,
            actor=acting_user(request.user),
            customer=form.cleaned_data["customer"],
            respondent=form.cleaned_data["respondent"],
            functional=form.cleaned_data["functional"],
            dysfunctional=form.cleaned_data["dysfunctional"],
        )

    return desk_action(
        request,
        pk,
        allowed=permissions.can_enter_kano_answer,
        form_name="kano_entry_form",
        make_form=lambda r: KanoEntryForm(
            request.POST,
            customers=kano_customers(request, r),
            functional_label=survey.functional_question,
            dysfunctional_label=survey.dysfunctional_question,
        ),
        save=save,
        anchor="kano",
        success=_("已代客户录入 Kano 回答。"),
        section=_("Kano 问卷"),
    )


# ---------------------------------------------------------------- public Kano survey (no account)


def kano_public_answer(request: HttpRequest, token: str) -> HttpResponse:
    survey = kano_survey_by_token(token)
    form = KanoAnswerForm(
        request.POST if request.method == "POST" else None,
        functional_label=survey.functional_question,
        dysfunctional_label=survey.dysfunctional_question,
    )
    if request.method == "POST":
        if form.is_valid():
            try:
                kano_answer(
                    survey=survey,
                    actor=None,
                    functional=form.cleaned_data["functional"],
                    dysfunctional=form.cleaned_data["dysfunctional"],
                    respondent=form.cleaned_data["respondent"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                return redirect("kano_public:thanks", token=token)
        messages.error(request, _("未提交：请回答两个问题。"))
    return render(request, "analysis/kano_public.html", {"survey": survey, "form": form})


def kano_public_thanks(request: HttpRequest, token: str) -> HttpResponse:
    return render(request, "analysis/kano_thanks.html", {})
