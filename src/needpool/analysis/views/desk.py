"""One requirement's analysis desk: the page and the form handling every desk section shares.

The simple sections (scores, insights, priority override, feasibility, compliance) are here; root cause
and Kano have their own modules and reuse ``desk_action`` and ``desk_context``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from needpool.analysis import permissions
from needpool.analysis.choices import KanoCategory, PriorityModelKind
from needpool.analysis.fishbone import fishbone_picture
from needpool.analysis.forms import (
    ComplianceForm,
    FeasibilityForm,
    FishboneForm,
    InsightsForm,
    KanoEntryForm,
    KanoSurveyForm,
    OverrideForm,
    ScoresForm,
)
from needpool.analysis.models import RequirementAnalysis
from needpool.analysis.permissions import acting_user
from needpool.analysis.scoring import KANO_CATEGORIES, KanoSummary
from needpool.analysis.selectors import analysis_of, demand_of, fishbone_of, kano_of, whys_of
from needpool.analysis.services import (
    MAX_ROOT_CAUSE_LENGTH,
    MAX_WHY_LENGTH,
    MAX_WHYS,
    analysis_settings,
    analysis_update,
    compliance_sign_off,
    feasibility_update,
    priority_override,
)
from needpool.analysis.views.presentation import explain, input_error_text
from needpool.core.views import add_service_errors
from needpool.customers.choices import ValueTier
from needpool.customers.permissions import visible_customers
from needpool.requirements.models import Requirement
from needpool.requirements.selectors import requirement_list


def kano_rows(summary: KanoSummary) -> list[dict[str, Any]]:
    labels = dict(KanoCategory.choices)
    return [
        {
            "key": key,
            "label": labels[key],
            "count": summary.distribution.get(key, 0),
            "percent": round(summary.distribution.get(key, 0) * 100 / summary.total) if summary.total else 0,
        }
        for key in KANO_CATEGORIES
    ]


def requirement_or_404(request: HttpRequest, pk: int) -> Requirement:
    found = requirement_list(user=request.user).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def desk_url(pk: int, anchor: str = "") -> str:
    return reverse("analysis:requirement", args=[pk]) + (f"#{anchor}" if anchor else "")


def kano_customers(request: HttpRequest, requirement: Requirement) -> QuerySet[Any]:
    return (
        visible_customers(request.user)
        .filter(feedback__requirement=requirement)
        .distinct()
        .only("id", "code", "name")
        .order_by("name", "id")
    )


def whys_state(
    requirement: Requirement, analysis: RequirementAnalysis, state: dict[str, Any] | None = None
) -> dict[str, Any]:
    state = state or {}
    rows = state.get("rows")
    if rows is None:
        rows = [{"question": w.question, "answer": w.answer} for w in whys_of(requirement)]
    if not rows:
        rows = [{"question": "", "answer": ""}]
    errors = state.get("errors", {})
    if errors.get("steps"):
        # Point at the half-filled rows the message is about.
        for row in rows:
            row["invalid"] = bool(row["question"].strip()) != bool(row["answer"].strip()) or any(
                len(row[part].strip()) > MAX_WHY_LENGTH for part in ("question", "answer")
            )
    return {
        "rows": rows,
        "root_cause": state.get("root_cause", analysis.root_cause),
        "errors": errors,
        "saved": state.get("saved", False),
        "focus_last": state.get("focus_last", False),
        "can_add": len(rows) < MAX_WHYS,
        "max": MAX_WHYS,
        "max_length": MAX_WHY_LENGTH,
        "root_cause_max_length": MAX_ROOT_CAUSE_LENGTH,
    }


def desk_context(request: HttpRequest, requirement: Requirement, **bound: Any) -> dict[str, Any]:
    user = acting_user(request.user)
    config = analysis_settings()
    analysis = analysis_of(requirement)
    grouped = fishbone_of(requirement)
    demand, voters = demand_of(user=user, requirement=requirement)
    survey, summary = kano_of(requirement)
    tiers = dict(ValueTier.choices)
    for voter in voters:
        voter["tier_label"] = tiers.get(voter["tier"], voter["tier"])
    override_initial = {"priority": analysis.override_priority, "reason": analysis.override_reason}
    feasibility_initial = {
        "tech_difficulty": analysis.tech_difficulty,
        "effort_days": analysis.effort_days,
        "cost_estimate": analysis.cost_estimate,
        "resources": analysis.resources,
    }
    survey_initial = (
        {"functional_question": survey.functional_question, "dysfunctional_question": survey.dysfunctional_question}
        if survey
        else None
    )
    return {
        "requirement": requirement,
        "analysis": analysis,
        "config": config,
        "why": explain(analysis, config),
        "active_model_label": PriorityModelKind(config.active_model).label,
        "stale": bool(analysis.pk and analysis.computed_model and analysis.computed_version < config.version),
        "allowed": permissions.desk_permissions(user, requirement),
        "scores_form": bound.get("scores_form") or ScoresForm(analysis=analysis, config=config),
        "insights_form": bound.get("insights_form")
        or InsightsForm(initial={"pain_points": analysis.pain_points, "value_statement": analysis.value_statement}),
        "override_form": bound.get("override_form") or OverrideForm(initial=override_initial),
        "whys": whys_state(requirement, analysis, bound.get("whys")),
        "fishbone_form": bound.get("fishbone_form") or FishboneForm(grouped=grouped),
        "fishbone": fishbone_picture(requirement.title, grouped),
        "feasibility_form": bound.get("feasibility_form") or FeasibilityForm(initial=feasibility_initial),
        "compliance_form": bound.get("compliance_form")
        or ComplianceForm(initial={"status": "", "note": analysis.compliance_note}),
        "demand": demand,
        "voters": voters,
        "survey": survey,
        "kano": summary,
        "kano_rows": kano_rows(summary),
        "kano_majority": dict(KanoCategory.choices).get(summary.category or "", ""),
        "kano_link": request.build_absolute_uri(reverse("kano_public:answer", args=[survey.token])) if survey else "",
        "kano_survey_form": bound.get("kano_survey_form") or KanoSurveyForm(initial=survey_initial),
        "kano_entry_form": bound.get("kano_entry_form")
        or KanoEntryForm(
            customers=kano_customers(request, requirement),
            functional_label=survey.functional_question if survey else "",
            dysfunctional_label=survey.dysfunctional_question if survey else "",
        ),
    }


def requirement_desk(request: HttpRequest, pk: int) -> HttpResponse:
    requirement = requirement_or_404(request, pk)
    return render(request, "analysis/requirement.html", desk_context(request, requirement))


def desk_action(
    request: HttpRequest,
    pk: int,
    *,
    allowed: Callable[[Any, Requirement], bool],
    form_name: str,
    make_form: Callable[[Requirement], forms.Form],
    save: Callable[[Requirement, Any], Any],
    anchor: str,
    success: str,
    section: str,
) -> HttpResponse:
    """One form of the desk: validate, call the service, redirect back; on errors show the desk again."""
    requirement = requirement_or_404(request, pk)
    if not allowed(request.user, requirement):
        raise permissions.deny()
    form = make_form(requirement)
    if form.is_valid():
        try:
            save(requirement, form)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, success)
            return redirect(desk_url(requirement.pk, anchor))
    messages.error(request, _("未保存：请检查“%(section)s”中标出的问题。") % {"section": section})
    return render(request, "analysis/requirement.html", desk_context(request, requirement, **{form_name: form}))


@require_POST
def desk_scores(request: HttpRequest, pk: int) -> HttpResponse:
    def save(requirement: Requirement, form: ScoresForm) -> None:
        analysis = analysis_update(actor=acting_user(request.user), requirement=requirement, **form.service_data())
        if analysis.computed_error:
            messages.warning(
                request,
                _("评分已保存，但当前模型无法计算优先级：%(error)s")
                % {"error": input_error_text(analysis.computed_error, analysis_settings())},
            )

    return desk_action(
        request,
        pk,
        allowed=permissions.can_score,
        form_name="scores_form",
        make_form=lambda r: ScoresForm(request.POST, analysis=analysis_of(r), config=analysis_settings()),
        save=save,
        anchor="scores",
        success=_("评分已保存，优先级已重新计算。"),
        section=_("评分"),
    )


@require_POST
def desk_insights(request: HttpRequest, pk: int) -> HttpResponse:
    return desk_action(
        request,
        pk,
        allowed=permissions.can_score,
        form_name="insights_form",
        make_form=lambda r: InsightsForm(request.POST),
        save=lambda r, f: analysis_update(actor=acting_user(request.user), requirement=r, **f.cleaned_data),
        anchor="insights",
        success=_("痛点与价值已保存。"),
        section=_("痛点与价值"),
    )


@require_POST
def desk_override(request: HttpRequest, pk: int) -> HttpResponse:
    return desk_action(
        request,
        pk,
        allowed=permissions.can_override_priority,
        form_name="override_form",
        make_form=lambda r: OverrideForm(request.POST),
        save=lambda r, f: priority_override(
            actor=acting_user(request.user),
            requirement=r,
            priority=f.cleaned_data["priority"],
            reason=f.cleaned_data["reason"],
        ),
        anchor="priority",
        success=_("优先级调整已保存。"),
        section=_("人工调整优先级"),
    )


@require_POST
def desk_feasibility(request: HttpRequest, pk: int) -> HttpResponse:
    return desk_action(
        request,
        pk,
        allowed=permissions.can_estimate,
        form_name="feasibility_form",
        make_form=lambda r: FeasibilityForm(request.POST),
        save=lambda r, f: feasibility_update(actor=acting_user(request.user), requirement=r, **f.cleaned_data),
        anchor="feasibility",
        success=_("可行性评估已保存。"),
        section=_("可行性"),
    )


@require_POST
def desk_compliance(request: HttpRequest, pk: int) -> HttpResponse:
    return desk_action(
        request,
        pk,
        allowed=permissions.can_sign_compliance,
        form_name="compliance_form",
        make_form=lambda r: ComplianceForm(request.POST),
        save=lambda r, f: compliance_sign_off(
            actor=acting_user(request.user), requirement=r, status=f.cleaned_data["status"], note=f.cleaned_data["note"]
        ),
        anchor="compliance",
        success=_("合规结论已签署。"),
        section=_("合规检查"),
    )
