"""Shared presentation helpers of the analysis pages: why a priority is what it is, chart labels."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from needpool.analysis.choices import MoSCoW, PriorityModelKind
from needpool.analysis.models import AnalysisSettings, RequirementAnalysis
from needpool.analysis.services import DEFAULT_THRESHOLDS
from needpool.requirements.models import Workflow
from needpool.requirements.services import active_workflow

PRIORITY_NAMES = ("P0", "P1", "P2", "P3")


def _num(value: Any) -> str:
    if value is None or value == "":
        return "—"
    try:
        return f"{float(value):g}"
    except (TypeError, ValueError):
        return str(value)


def workflow_or_none() -> Workflow | None:
    try:
        return active_workflow()
    except ValidationError:
        return None


def has_filters(request: HttpRequest) -> bool:
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


def input_error_text(error: str, config: AnalysisSettings) -> str:
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
        return {"text": "", "rows": [], "error": input_error_text(analysis.computed_error, config)}
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


def point_urls(points: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for point in points:
        point["url"] = reverse("analysis:requirement", args=[point["id"]])
    return points


def chart_labels() -> dict[str, Any]:
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
        "priority": _("优先级"),
        "computed": _("计算值"),
        "computedSeries": _("计算值（已人工调整）"),
        "overridden": _("人工调整"),
        "reason": _("理由："),
    }
