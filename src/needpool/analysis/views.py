"""Analysis desk pages: the matrix, the ranked list, one requirement's desk, settings, projects, public Kano."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from needpool.accounts.roles import Cap
from needpool.analysis.choices import FishboneCategory, KanoCategory, MoSCoW, PriorityModelKind
from needpool.analysis.forms import (
    ComplianceForm,
    FeasibilityForm,
    FishboneForm,
    InsightsForm,
    KanoAnswerForm,
    KanoEntryForm,
    KanoSurveyForm,
    OverrideForm,
    ProjectForm,
    ScoresForm,
    SettingsForm,
    criteria_formset,
    criteria_from_formset,
    whys_from_post,
)
from needpool.analysis.models import AnalysisProject, AnalysisSettings, RequirementAnalysis
from needpool.analysis.scoring import KANO_CATEGORIES, KanoSummary
from needpool.analysis.selectors import (
    analysis_of,
    demand_of,
    demand_ranking,
    fishbone_of,
    job_get,
    kano_of,
    kano_survey_by_token,
    matrix_points,
    project_counts,
    project_get,
    project_list,
    project_requirements,
    ranked,
    value_effort_points,
    whys_of,
)
from needpool.analysis.services import (
    DEFAULT_THRESHOLDS,
    MAX_WHYS,
    analysis_settings,
    analysis_settings_update,
    analysis_update,
    compliance_sign_off,
    feasibility_update,
    fishbone_set,
    kano_answer,
    kano_survey_create,
    priority_override,
    project_create,
    project_update,
    whys_set,
)
from needpool.core.audit import audit_for
from needpool.core.models import BackgroundJob
from needpool.core.permissions import require, user_can
from needpool.core.views import add_service_errors, error_text, is_htmx, paginate
from needpool.customers.choices import Segment, ValueTier
from needpool.customers.permissions import visible_customers
from needpool.requirements.choices import StatusCategory
from needpool.requirements.forms import requirement_filter_form
from needpool.requirements.models import Requirement, Workflow
from needpool.requirements.selectors import LIST_RELATED, requirement_list
from needpool.requirements.services import active_workflow

POINTS_PAGE_SIZE = 25
PRIORITY_NAMES = ("P0", "P1", "P2", "P3")


# ---------------------------------------------------------------- presentation helpers


def _num(value: Any) -> str:
    if value is None or value == "":
        return "—"
    try:
        return f"{float(value):g}"
    except (TypeError, ValueError):
        return str(value)


def _workflow_or_none() -> Workflow | None:
    try:
        return active_workflow()
    except ValidationError:
        return None


def _has_filters(request: HttpRequest) -> bool:
    return any(value for key, value in request.GET.items() if key not in ("page", "sort"))


def _thresholds(config: AnalysisSettings, model: str) -> list[float]:
    return [float(v) for v in (config.thresholds or {}).get(model) or DEFAULT_THRESHOLDS.get(model, (75, 50, 25))]


_INPUT_LABELS = {
    "urgency": gettext_lazy("紧急度"),
    "importance": gettext_lazy("重要性"),
    "resource_cost": gettext_lazy("资源成本"),
    "value": gettext_lazy("价值"),
    "cost": gettext_lazy("成本"),
    "reach": "Reach",
    "impact": "Impact",
    "confidence": "Confidence",
    "effort": "Effort",
    "moscow": "MoSCoW",
    "weights": gettext_lazy("权重"),
    "cutoff": gettext_lazy("高低分界"),
}


def _error_text(error: str, config: AnalysisSettings) -> str:
    """'urgency: 必填。' → '紧急度：必填。' (the stored error names the model's input)."""
    field, sep, message = error.partition(": ")
    if not sep:
        return error
    labels: dict[str, Any] = {**_INPUT_LABELS}
    labels.update({str(c.get("key")): str(c.get("label") or c.get("key")) for c in config.criteria or []})
    return f"{labels.get(field, field)}：{message}"


def explain(analysis: RequirementAnalysis | None, config: AnalysisSettings) -> dict[str, Any]:
    """Why a requirement has its computed priority: a one-line sum and the parts as rows."""
    if analysis is None or analysis.pk is None or not analysis.computed_model:
        return {"text": "", "rows": [], "error": ""}
    if analysis.computed_error:
        return {"text": "", "rows": [], "error": _error_text(analysis.computed_error, config)}
    model = analysis.computed_model
    parts = analysis.computed_parts or {}
    priority = analysis.computed_priority or "—"
    score = _num(analysis.computed_score)
    rows: list[tuple[str, str]] = []
    text = ""
    if model == PriorityModelKind.MATRIX:
        cutoff = _num(parts.get("cutoff"))
        urgency, importance = _num(parts.get("urgency")), _num(parts.get("importance"))
        u_op = "≥" if parts.get("urgent") else "<"
        i_op = "≥" if parts.get("important") else "<"
        text = _("紧急 %(u)s %(uop)s %(cut)s · 重要 %(i)s %(iop)s %(cut)s → %(p)s") % {
            "u": urgency,
            "uop": u_op,
            "i": importance,
            "iop": i_op,
            "cut": cutoff,
            "p": priority,
        }
        rows = [
            (_("紧急度"), urgency),
            (_("重要性"), importance),
            (_("高低分界"), cutoff),
            (_("紧急"), _("是") if parts.get("urgent") else _("否")),
            (_("重要"), _("是") if parts.get("important") else _("否")),
        ]
    elif model == PriorityModelKind.MOSCOW:
        category = str(parts.get("moscow") or "")
        moscow_labels: dict[str, Any] = dict(MoSCoW.choices)
        label = str(moscow_labels.get(category, category or "—"))
        text = _("MoSCoW：%(label)s → %(p)s") % {"label": label, "p": priority}
        rows = [(_("MoSCoW"), label)]
    else:
        if model == PriorityModelKind.MATRIX_3D:
            labels = {"importance": _("重要"), "urgency": _("紧急"), "cost": _("成本")}
            # jsonb (PostgreSQL) does not keep key order: list the parts in the model's own order.
            rows = [(str(labels[k]), "+" + _num(parts[k])) for k in ("importance", "urgency", "cost") if k in parts]
            body = " · ".join(f"{label} {value}" for label, value in rows) + f" = {score}"
        elif model == PriorityModelKind.VALUE_COST:
            rows = [(_("价值"), _num(parts.get("value"))), (_("成本"), _num(parts.get("cost")))]
            body = _("价值 %(v)s ÷ 成本 %(c)s = %(s)s") % {"v": rows[0][1], "c": rows[1][1], "s": score}
        elif model == PriorityModelKind.WEIGHTED:
            labels = {str(c.get("key")): str(c.get("label") or c.get("key")) for c in config.criteria or []}
            order = [k for k in labels if k in parts] + sorted(k for k in parts if k not in labels)
            rows = [(str(labels.get(k, k)), "+" + _num(parts[k])) for k in order]
            body = " · ".join(f"{label} {value}" for label, value in rows) + f" = {score}"
        else:  # RICE
            rows = [
                ("Reach", _num(parts.get("reach"))),
                ("Impact", _num(parts.get("impact"))),
                ("Confidence", _num(parts.get("confidence")) + "%"),
                ("Effort", _num(parts.get("effort"))),
            ]
            body = "Reach {} × Impact {} × Confidence {} ÷ Effort {} = {}".format(*(v for _k, v in rows), score)
        bounds = _thresholds(config, model)
        if priority in ("P0", "P1", "P2"):
            step = f"≥ {_num(bounds[PRIORITY_NAMES.index(priority)])}"
        else:
            step = f"< {_num(bounds[2])}"
        text = f"{body} {step} → {priority}"
    return {"text": text, "rows": rows, "error": ""}


def _point_urls(points: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for point in points:
        point["url"] = reverse("analysis:requirement", args=[point["id"]])
    return points


def _chart_labels() -> dict[str, Any]:
    return {
        "priorities": {"P0": "P0", "P1": "P1", "P2": "P2", "P3": "P3", "": _("未定")},
        "quadrants": {
            "P0": _("P0 重要且紧急"),
            "P1": _("P1 重要不紧急"),
            "P2": _("P2 紧急不重要"),
            "P3": _("P3 不紧急不重要"),
        },
        "urgency": _("紧急度"),
        "importance": _("重要性"),
        "value": _("价值"),
        "effort": _("工作量（人天；未估算时为成本分）"),
        "cutoff": _("分界"),
        "empty": _("没有可显示的点"),
    }


# ---------------------------------------------------------------- matrix and ranked list


def matrix_page(request: HttpRequest) -> HttpResponse:
    user = request.user
    config = analysis_settings()
    base = requirement_list(user=user, filters=request.GET).prefetch_related(None)
    points = _point_urls(matrix_points(user=user, base=base))
    effort_points = _point_urls(value_effort_points(user=user, base=base))
    table = Paginator(points, POINTS_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "points": points,
        "effort_points": effort_points,
        "chart_config": {"cutoff": config.matrix_cutoff, "labels": _chart_labels()},
        "page_obj": table,
        "table_rows": table.object_list,
        "config": config,
        "filter_form": requirement_filter_form(request.GET or None, user=user, workflow=_workflow_or_none()),
        "has_filters": _has_filters(request),
        "can_analyse": user_can(user, Cap.ANALYSE),
    }
    return render(request, "analysis/matrix.html", context)


def ranked_page(request: HttpRequest) -> HttpResponse:
    user = request.user
    config = analysis_settings()
    page = paginate(request, ranked(user=user, filters=request.GET).prefetch_related(None))
    rows = []
    for requirement in page.object_list:
        analysis = getattr(requirement, "analysis", None)
        rows.append({"requirement": requirement, "analysis": analysis, "why": explain(analysis, config)})
    context = {
        "page_obj": page,
        "rows": rows,
        "config": config,
        "filter_form": requirement_filter_form(request.GET or None, user=user, workflow=_workflow_or_none()),
        "has_filters": _has_filters(request),
    }
    return render(request, "analysis/ranked.html", context)


# ---------------------------------------------------------------- one requirement's analysis desk

FISHBONE_TOP = ("people", "machine", "material")
FISHBONE_BOTTOM = ("method", "environment", "measurement")
FISHBONE_BONE_X = (330, 560, 790)
FISHBONE_SPINE_Y = 220
FISHBONE_DX, FISHBONE_DY = 110, 165
FISHBONE_MAX_SHOWN = 7


def _text_units(text: str) -> float:
    """Approximate text width in em: CJK characters are one em wide, Latin ones a little over half."""
    return sum(1.0 if ord(ch) >= 0x2E80 else 0.56 for ch in text)


def _clip(text: str, units: float) -> str:
    if _text_units(text) <= units:
        return text
    out, used = "", 0.0
    for ch in text:
        width = 1.0 if ord(ch) >= 0x2E80 else 0.56
        if used + width > units - 1:
            break
        out += ch
        used += width
    return out + "…"


def _wrap(text: str, units: float, lines: int) -> list[str]:
    rows: list[str] = []
    current, used = "", 0.0
    for ch in text:
        width = 1.0 if ord(ch) >= 0x2E80 else 0.56
        if used + width > units and current:
            rows.append(current)
            current, used = "", 0.0
        current += ch
        used += width
    if current:
        rows.append(current)
    if len(rows) > lines:
        rows = rows[:lines]
        rows[-1] = _clip(rows[-1] + "……", units)
    return rows


def fishbone_picture(title: str, grouped: dict[str, list[Any]]) -> dict[str, Any]:
    """Geometry of the fishbone diagram (drawn as inline SVG by the template).

    A spine ends in a head holding the problem; three bones above (人 机 料) and three below
    (法 环 测) slant back from the spine, each cause a short horizontal branch with its text.
    """
    labels = dict(FishboneCategory.choices)
    spine_y = FISHBONE_SPINE_Y
    bones = []
    for direction, keys in ((-1, FISHBONE_TOP), (1, FISHBONE_BOTTOM)):
        for x0, key in zip(FISHBONE_BONE_X, keys, strict=True):
            x1, y1 = x0 - FISHBONE_DX, spine_y + direction * FISHBONE_DY
            causes = grouped.get(key, [])
            shown = causes[:FISHBONE_MAX_SHOWN]
            hidden = len(causes) - len(shown)
            slots = len(shown) + (1 if hidden else 0)
            items = []
            for index in range(slots):
                t = 1 - (index + 1) / (slots + 1) * 0.92
                px = x0 - FISHBONE_DX * t
                py = spine_y + direction * FISHBONE_DY * t
                if index < len(shown):
                    full = shown[index].text
                    text = _clip(full, 12.8)
                    more = False
                else:
                    full = text = _("另有 %(n)s 条") % {"n": hidden}
                    more = True
                items.append(
                    {
                        "x1": round(px, 1),
                        "y": round(py, 1),
                        "x2": round(px - 16, 1),
                        "tx": round(px - 20, 1),
                        "ty": round(py + 4, 1),
                        "text": text,
                        "full": full,
                        "more": more,
                    }
                )
            label = str(labels.get(key, key))
            box_w = max(36, 17 * _text_units(label) + 18)
            box_y = y1 - 32 if direction < 0 else y1 + 4
            bones.append(
                {
                    "key": key,
                    "label": label,
                    "x0": x0,
                    "y0": spine_y,
                    "x1": x1,
                    "y1": y1,
                    "box_x": round(x1 - box_w / 2, 1),
                    "box_y": box_y,
                    "box_w": round(box_w, 1),
                    "label_y": box_y + 20,
                    "items": items,
                    "count": len(causes),
                }
            )
    title_lines = _wrap(title, 8.6, 3)
    first = spine_y - (len(title_lines) - 1) * 11 + 6
    return {
        "width": 1000,
        "height": 440,
        "spine_y": spine_y,
        "spine_x0": 24,
        "spine_x1": 800,
        "head": "800,156 930,156 990,220 930,284 800,284",
        "head_x": 878,
        "title_lines": [{"text": line, "y": first + i * 22} for i, line in enumerate(title_lines)],
        "title": title,
        "bones": bones,
        "total": sum(b["count"] for b in bones),
    }


def _kano_rows(summary: KanoSummary) -> list[dict[str, Any]]:
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


def _requirement(request: HttpRequest, pk: int) -> Requirement:
    found = requirement_list(user=request.user).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def _desk_url(pk: int, anchor: str = "") -> str:
    return reverse("analysis:requirement", args=[pk]) + (f"#{anchor}" if anchor else "")


def _kano_customers(request: HttpRequest, requirement: Requirement) -> QuerySet[Any]:
    return (
        visible_customers(request.user)
        .filter(feedback__requirement=requirement)
        .distinct()
        .only("id", "code", "name")
        .order_by("name", "id")
    )


def _whys_state(
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
            row["invalid"] = bool(row["question"].strip()) != bool(row["answer"].strip())
    return {
        "rows": rows,
        "root_cause": state.get("root_cause", analysis.root_cause),
        "errors": errors,
        "saved": state.get("saved", False),
        "focus_last": state.get("focus_last", False),
        "can_add": len(rows) < MAX_WHYS,
        "max": MAX_WHYS,
    }


def _desk_context(request: HttpRequest, requirement: Requirement, **bound: Any) -> dict[str, Any]:
    user = request.user
    config = analysis_settings()
    analysis = analysis_of(requirement)
    grouped = fishbone_of(requirement)
    demand, voters = demand_of(user=user, requirement=requirement)
    survey, summary = kano_of(requirement)
    can_analyse = user_can(user, Cap.ANALYSE)
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
        "can_analyse": can_analyse,
        "can_estimate": user_can(user, Cap.ESTIMATE),
        "can_sign": user_can(user, Cap.COMPLIANCE_SIGN),
        "can_enter_kano": user_can(user, Cap.FEEDBACK_WRITE),
        "scores_form": bound.get("scores_form") or ScoresForm(analysis=analysis, config=config),
        "insights_form": bound.get("insights_form")
        or InsightsForm(initial={"pain_points": analysis.pain_points, "value_statement": analysis.value_statement}),
        "override_form": bound.get("override_form") or OverrideForm(initial=override_initial),
        "whys": _whys_state(requirement, analysis, bound.get("whys")),
        "fishbone_form": bound.get("fishbone_form") or FishboneForm(grouped=grouped),
        "fishbone": fishbone_picture(requirement.title, grouped),
        "feasibility_form": bound.get("feasibility_form") or FeasibilityForm(initial=feasibility_initial),
        "compliance_form": bound.get("compliance_form")
        or ComplianceForm(initial={"status": "", "note": analysis.compliance_note}),
        "demand": demand,
        "voters": voters,
        "survey": survey,
        "kano": summary,
        "kano_rows": _kano_rows(summary),
        "kano_majority": dict(KanoCategory.choices).get(summary.category or "", ""),
        "kano_link": request.build_absolute_uri(reverse("kano_public:answer", args=[survey.token])) if survey else "",
        "kano_survey_form": bound.get("kano_survey_form") or KanoSurveyForm(initial=survey_initial),
        "kano_entry_form": bound.get("kano_entry_form")
        or KanoEntryForm(
            customers=_kano_customers(request, requirement),
            functional_label=survey.functional_question if survey else "",
            dysfunctional_label=survey.dysfunctional_question if survey else "",
        ),
    }


def requirement_desk(request: HttpRequest, pk: int) -> HttpResponse:
    requirement = _requirement(request, pk)
    return render(request, "analysis/requirement.html", _desk_context(request, requirement))


def _desk_action(
    request: HttpRequest,
    pk: int,
    *,
    cap: str,
    form_name: str,
    make_form: Callable[[Requirement], forms.Form],
    save: Callable[[Requirement, Any], Any],
    anchor: str,
    success: str,
    section: str,
) -> HttpResponse:
    """One form of the desk: validate, call the service, redirect back; on errors show the desk again."""
    requirement = _requirement(request, pk)
    require(request.user, cap)
    form = make_form(requirement)
    if form.is_valid():
        try:
            save(requirement, form)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, success)
            return redirect(_desk_url(requirement.pk, anchor))
    messages.error(request, _("未保存：请检查“%(section)s”中标出的问题。") % {"section": section})
    return render(request, "analysis/requirement.html", _desk_context(request, requirement, **{form_name: form}))


@require_POST
def desk_scores(request: HttpRequest, pk: int) -> HttpResponse:
    def save(requirement: Requirement, form: ScoresForm) -> None:
        analysis = analysis_update(actor=request.user, requirement=requirement, **form.service_data())
        if analysis.computed_error:
            messages.warning(
                request,
                _("评分已保存，但当前模型无法计算优先级：%(error)s")
                % {"error": _error_text(analysis.computed_error, analysis_settings())},
            )

    return _desk_action(
        request,
        pk,
        cap=Cap.ANALYSE,
        form_name="scores_form",
        make_form=lambda r: ScoresForm(request.POST, analysis=analysis_of(r), config=analysis_settings()),
        save=save,
        anchor="scores",
        success=_("评分已保存，优先级已重新计算。"),
        section=_("评分"),
    )


@require_POST
def desk_insights(request: HttpRequest, pk: int) -> HttpResponse:
    return _desk_action(
        request,
        pk,
        cap=Cap.ANALYSE,
        form_name="insights_form",
        make_form=lambda r: InsightsForm(request.POST),
        save=lambda r, f: analysis_update(actor=request.user, requirement=r, **f.cleaned_data),
        anchor="insights",
        success=_("痛点与价值已保存。"),
        section=_("痛点与价值"),
    )


@require_POST
def desk_override(request: HttpRequest, pk: int) -> HttpResponse:
    return _desk_action(
        request,
        pk,
        cap=Cap.ANALYSE,
        form_name="override_form",
        make_form=lambda r: OverrideForm(request.POST),
        save=lambda r, f: priority_override(
            actor=request.user, requirement=r, priority=f.cleaned_data["priority"], reason=f.cleaned_data["reason"]
        ),
        anchor="priority",
        success=_("优先级调整已保存。"),
        section=_("人工调整优先级"),
    )


@require_POST
def desk_whys(request: HttpRequest, pk: int) -> HttpResponse:
    """The 5-Whys editor: add / remove rows (no save) or save the chain; htmx gets the editor back."""
    requirement = _requirement(request, pk)
    require(request.user, Cap.ANALYSE)
    rows, root_cause = whys_from_post(request.POST)
    state: dict[str, Any] = {"rows": rows, "root_cause": root_cause}
    action = request.POST.get("action", "save")
    remove = request.POST.get("remove", "")
    if remove.isdigit():
        index = int(remove)
        if 0 <= index < len(rows):
            rows.pop(index)
    elif action == "add":
        if len(rows) < MAX_WHYS:
            rows.append({"question": "", "answer": ""})
            state["focus_last"] = True
    else:
        try:
            whys_set(
                actor=request.user,
                requirement=requirement,
                steps=[(row["question"], row["answer"]) for row in rows],
                root_cause=root_cause,
            )
        except ValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "error_dict") else {"steps": exc.messages}
            state["errors"] = errors
            if not is_htmx(request):
                messages.error(request, _("5 Whys 未保存：%(errors)s") % {"errors": error_text(exc)})
        else:
            if not is_htmx(request):
                messages.success(request, _("5 Whys 已保存。"))
                return redirect(_desk_url(requirement.pk, "whys"))
            state = {"saved": True}
    if is_htmx(request):
        analysis = analysis_of(requirement)
        context = {"requirement": requirement, "whys": _whys_state(requirement, analysis, state), "can_analyse": True}
        return render(request, "analysis/_whys.html", context)
    return render(request, "analysis/requirement.html", _desk_context(request, requirement, whys=state))


@require_POST
def desk_fishbone(request: HttpRequest, pk: int) -> HttpResponse:
    return _desk_action(
        request,
        pk,
        cap=Cap.ANALYSE,
        form_name="fishbone_form",
        make_form=lambda r: FishboneForm(request.POST),
        save=lambda r, f: fishbone_set(actor=request.user, requirement=r, causes=f.causes()),
        anchor="fishbone",
        success=_("鱼骨图已保存。"),
        section=_("鱼骨图"),
    )


@require_POST
def desk_feasibility(request: HttpRequest, pk: int) -> HttpResponse:
    return _desk_action(
        request,
        pk,
        cap=Cap.ESTIMATE,
        form_name="feasibility_form",
        make_form=lambda r: FeasibilityForm(request.POST),
        save=lambda r, f: feasibility_update(actor=request.user, requirement=r, **f.cleaned_data),
        anchor="feasibility",
        success=_("可行性评估已保存。"),
        section=_("可行性"),
    )


@require_POST
def desk_compliance(request: HttpRequest, pk: int) -> HttpResponse:
    return _desk_action(
        request,
        pk,
        cap=Cap.COMPLIANCE_SIGN,
        form_name="compliance_form",
        make_form=lambda r: ComplianceForm(request.POST),
        save=lambda r, f: compliance_sign_off(
            actor=request.user, requirement=r, status=f.cleaned_data["status"], note=f.cleaned_data["note"]
        ),
        anchor="compliance",
        success=_("合规结论已签署。"),
        section=_("合规检查"),
    )


@require_POST
def desk_kano_survey(request: HttpRequest, pk: int) -> HttpResponse:
    return _desk_action(
        request,
        pk,
        cap=Cap.ANALYSE,
        form_name="kano_survey_form",
        make_form=lambda r: KanoSurveyForm(request.POST),
        save=lambda r, f: kano_survey_create(actor=request.user, requirement=r, **f.cleaned_data),
        anchor="kano",
        success=_("Kano 问卷已保存，可以把链接发给客户了。"),
        section=_("Kano 问卷"),
    )


@require_POST
def desk_kano_entry(request: HttpRequest, pk: int) -> HttpResponse:
    requirement = _requirement(request, pk)
    survey, _summary = kano_of(requirement)
    if survey is None:
        require(request.user, Cap.FEEDBACK_WRITE)
        messages.error(request, _("请先创建 Kano 问卷。"))
        return redirect(_desk_url(requirement.pk, "kano"))

    def save(r: Requirement, form: KanoEntryForm) -> None:
        kano_answer(
            survey=survey,
            actor=request.user,
            customer=form.cleaned_data["customer"],
            respondent=form.cleaned_data["respondent"],
            functional=form.cleaned_data["functional"],
            dysfunctional=form.cleaned_data["dysfunctional"],
        )

    return _desk_action(
        request,
        pk,
        cap=Cap.FEEDBACK_WRITE,
        form_name="kano_entry_form",
        make_form=lambda r: KanoEntryForm(
            request.POST,
            customers=_kano_customers(request, r),
            functional_label=survey.functional_question,
            dysfunctional_label=survey.dysfunctional_question,
        ),
        save=save,
        anchor="kano",
        success=_("已代客户录入 Kano 回答。"),
        section=_("Kano 问卷"),
    )


# ---------------------------------------------------------------- settings and the recompute job


def settings_page(request: HttpRequest) -> HttpResponse:
    user = request.user
    can_change = user_can(user, Cap.ANALYSE)
    if request.method == "POST" and not can_change:
        raise PermissionDenied(_("只有产品经理及以上角色可以修改优先级模型。"))
    config = analysis_settings()
    data = request.POST if request.method == "POST" else None
    form = SettingsForm(data, config=config, readonly=not can_change)
    formset = criteria_formset(data, config=config, readonly=not can_change)
    if data is not None:
        if form.is_valid() and formset.is_valid():
            changes = form.changes(config, criteria_from_formset(formset))
            if not changes:
                messages.info(request, _("没有需要保存的修改。"))
                return redirect("analysis:settings")
            try:
                config, job = analysis_settings_update(actor=user, **changes)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                if job is not None:
                    messages.info(request, _("设置已保存，正在后台重新计算 %(n)s 条需求的优先级。") % {"n": job.total})
                    return redirect("analysis:job", pk=job.pk)
                messages.success(request, _("设置已保存，优先级已重新计算。"))
                return redirect("analysis:settings")
        messages.error(request, _("未保存：请检查下面标出的问题。"))
    context = {
        "form": form,
        "formset": formset,
        "config": config,
        "can_change": can_change,
        "models": PriorityModelKind.choices,
    }
    return render(request, "analysis/settings.html", context)


def _job(request: HttpRequest, pk: int) -> BackgroundJob:
    return job_get(user=request.user, pk=pk)


def _job_context(job: BackgroundJob) -> dict[str, Any]:
    finished = job.status in (BackgroundJob.Status.DONE, BackgroundJob.Status.FAILED)
    return {"job": job, "finished": finished, "failed": job.status == BackgroundJob.Status.FAILED}


def job_page(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "analysis/job.html", _job_context(_job(request, pk)))


def job_progress(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "analysis/_job_progress.html", _job_context(_job(request, pk)))


# ---------------------------------------------------------------- analysis projects

_PROJECT_FIELD_LABELS = {
    "scope": gettext_lazy("分析范围"),
    "members": gettext_lazy("团队成员"),
}


def _project_field_label(name: str) -> str:
    if name in _PROJECT_FIELD_LABELS:
        return str(_PROJECT_FIELD_LABELS[name])
    try:
        return str(getattr(AnalysisProject._meta.get_field(name), "verbose_name", name))
    except FieldDoesNotExist:
        return name


def scope_rows(scope: dict[str, Any]) -> list[tuple[str, str]]:
    segments = dict(Segment.choices)
    rows: list[tuple[str, str]] = []
    if scope.get("industries"):
        rows.append((_("行业"), "、".join(scope["industries"])))
    if scope.get("regions"):
        rows.append((_("地区"), "、".join(scope["regions"])))
    if scope.get("segments"):
        rows.append((_("客户分层"), "、".join(str(segments.get(s, s)) for s in scope["segments"])))
    if scope.get("top_n_by_order"):
        rows.append((_("客户范围"), _("订单金额前 %(n)s 名") % {"n": scope["top_n_by_order"]}))
    if scope.get("period_start") or scope.get("period_end"):
        rows.append((_("需求提交时间"), f"{scope.get('period_start') or '…'} — {scope.get('period_end') or '…'}"))
    return rows


def _can_edit_project(user: Any, project: AnalysisProject) -> bool:
    return user_can(user, Cap.ANALYSE) or getattr(user, "pk", None) == project.leader_id


def project_list_page(request: HttpRequest) -> HttpResponse:
    page = paginate(request, project_list(user=request.user))
    rows = [{"project": p, "scope": scope_rows(p.scope or {})} for p in page.object_list]
    context = {"page_obj": page, "rows": rows, "can_create": user_can(request.user, Cap.ANALYSE)}
    return render(request, "analysis/projects.html", context)


def project_create_page(request: HttpRequest) -> HttpResponse:
    require(request.user, Cap.ANALYSE, _("只有经理和产品经理可以创建分析项目。"))
    today = timezone.localdate()
    initial = {"leader": request.user.pk, "start_date": today, "end_date": today + dt.timedelta(days=30)}
    form = ProjectForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            project = project_create(actor=request.user, **form.service_data())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("分析项目“%(name)s”已创建。") % {"name": project.name})
            return redirect("analysis:project", pk=project.pk)
    return render(request, "analysis/project_form.html", {"form": form, "is_create": True})


def project_edit_page(request: HttpRequest, pk: int) -> HttpResponse:
    project = project_get(user=request.user, pk=pk)
    if not _can_edit_project(request.user, project):
        raise PermissionDenied(_("只有项目负责人、经理和产品经理可以修改分析项目。"))
    form = ProjectForm(request.POST or None, project=project)
    if request.method == "POST" and form.is_valid():
        try:
            project_update(actor=request.user, project=project, **form.service_data())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("分析项目“%(name)s”已保存。") % {"name": form.cleaned_data["name"]})
            return redirect("analysis:project", pk=project.pk)
    return render(request, "analysis/project_form.html", {"form": form, "is_create": False, "project": project})


def _history_value(value: Any) -> Any:
    if isinstance(value, dict):  # a scope
        return "；".join(f"{label}：{text}" for label, text in scope_rows(value)) or _("不限")
    return value


def _history_rows(entries: Iterable[Any]) -> list[dict[str, Any]]:
    return [
        {
            "entry": entry,
            "rows": [
                {
                    **row,
                    "label": _project_field_label(row["field"]),
                    "old": _history_value(row["old"]),
                    "new": _history_value(row["new"]),
                }
                for row in entry.change_rows()
            ],
        }
        for entry in entries
    ]


def project_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    project = project_get(user=user, pk=pk)
    config = analysis_settings()
    base = project_requirements(project, user=user)
    page = paginate(request, ranked(user=user, base=base.select_related(*LIST_RELATED)))
    rows = []
    for requirement in page.object_list:
        analysis = getattr(requirement, "analysis", None)
        rows.append({"requirement": requirement, "analysis": analysis, "why": explain(analysis, config)})
    counts = project_counts(project, user=user)
    statuses = dict(StatusCategory.choices)
    context = {
        "project": project,
        "scope": scope_rows(project.scope or {}),
        "members": list(project.members.all()),
        "page_obj": page,
        "rows": rows,
        "counts": counts,
        "priority_counts": [(p, counts["by_priority"].get(p, 0)) for p in PRIORITY_NAMES]
        + [(_("未定"), counts["by_priority"].get("", 0))],
        "status_counts": [(label, counts["by_status"].get(key, 0)) for key, label in statuses.items()],
        "points": _point_urls(matrix_points(user=user, base=base)),
        "chart_config": {"cutoff": config.matrix_cutoff, "labels": _chart_labels()},
        "demand": demand_ranking(user=user, base=base, limit=10),
        "history": _history_rows(audit_for(project, limit=50)),
        "can_edit": _can_edit_project(user, project),
    }
    return render(request, "analysis/project.html", context)


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
