"""One requirement's desk: scores, insights, priority override, root cause, feasibility, compliance."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from needpool.analysis.choices import ComplianceStatus, FishboneCategory, MoSCoW, PriorityModelKind
from needpool.analysis.forms.common import number_text, one_to_five
from needpool.analysis.models import AnalysisSettings, RequirementAnalysis
from needpool.analysis.scoring import RICE_IMPACTS
from needpool.analysis.services import MAX_WHYS
from needpool.requirements.choices import Priority

IMPACT_LABELS = {
    0.25: _("0.25 极小"),
    0.5: _("0.5 小"),
    1: _("1 中"),
    2: _("2 大"),
    3: _("3 巨大"),
}


class ScoresForm(forms.Form):
    """Every priority model's inputs; the active model's section is highlighted by the page."""

    urgency_score = one_to_five(_("紧急度（1–5）"))
    importance_score = one_to_five(_("重要性（1–5）"))
    resource_cost = one_to_five(_("资源成本（1–5）"))
    value_score = one_to_five(_("价值（1–5）"))
    cost_score = one_to_five(_("成本（1–5）"))
    reach = forms.IntegerField(label=_("覆盖人数 Reach"), min_value=0, required=False)
    impact = forms.ChoiceField(
        label=_("影响 Impact"),
        choices=[("", "—"), *((number_text(v), IMPACT_LABELS[v]) for v in RICE_IMPACTS)],
        required=False,
    )
    confidence = forms.IntegerField(label=_("信心 Confidence（%）"), min_value=0, max_value=100, required=False)
    effort = forms.DecimalField(
        label=_("工作量 Effort（人月）"), min_value=Decimal("0.01"), max_digits=8, decimal_places=2, required=False
    )
    moscow = forms.ChoiceField(label=_("MoSCoW"), choices=[("", "—"), *MoSCoW.choices], required=False)

    SECTIONS: tuple[tuple[str, Any, tuple[str, ...]], ...] = (
        (PriorityModelKind.MATRIX, _("紧急 × 重要矩阵"), ("urgency_score", "importance_score")),
        (PriorityModelKind.MATRIX_3D, _("三维：另需资源成本"), ("resource_cost",)),
        (PriorityModelKind.VALUE_COST, _("价值 / 成本"), ("value_score", "cost_score")),
        (PriorityModelKind.WEIGHTED, _("加权评分（0–10）"), ()),
        (PriorityModelKind.RICE, _("RICE"), ("reach", "impact", "confidence", "effort")),
        (PriorityModelKind.MOSCOW, _("MoSCoW"), ("moscow",)),
    )

    def __init__(self, *args: Any, analysis: RequirementAnalysis, config: AnalysisSettings, **kwargs: Any) -> None:
        self.criteria = [c for c in (config.criteria or []) if c.get("key")]
        self.existing_scores = dict(analysis.criteria_scores or {})
        initial = {
            "urgency_score": analysis.urgency_score,
            "importance_score": analysis.importance_score,
            "resource_cost": analysis.resource_cost,
            "value_score": analysis.value_score,
            "cost_score": analysis.cost_score,
            "reach": analysis.reach,
            "impact": number_text(float(analysis.impact)) if analysis.impact is not None else "",
            "confidence": analysis.confidence,
            "effort": analysis.effort,
            "moscow": analysis.moscow,
        }
        for index, criterion in enumerate(self.criteria):
            initial[f"criterion_{index}"] = self.existing_scores.get(str(criterion["key"]))
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        for index, criterion in enumerate(self.criteria):
            self.fields[f"criterion_{index}"] = forms.FloatField(
                label=str(criterion.get("label") or criterion["key"]),
                min_value=0,
                max_value=10,
                required=False,
                widget=forms.NumberInput(attrs={"step": "0.5"}),
                help_text=_("权重 %(weight)s") % {"weight": number_text(float(criterion.get("weight") or 0))},
            )

    def criterion_fields(self) -> list[forms.BoundField]:
        return [self[f"criterion_{i}"] for i in range(len(self.criteria))]

    def sections(self) -> list[dict[str, Any]]:
        rows = []
        for key, label, names in self.SECTIONS:
            fields = self.criterion_fields() if key == PriorityModelKind.WEIGHTED else [self[n] for n in names]
            rows.append({"key": str(key), "label": label, "fields": fields})
        return rows

    def service_data(self) -> dict[str, Any]:
        data = {name: self.cleaned_data[name] for name in self.fields if not name.startswith("criterion_")}
        # Scores of criteria no longer configured are kept; the shown ones are replaced.
        scores = dict(self.existing_scores)
        for index, criterion in enumerate(self.criteria):
            value = self.cleaned_data.get(f"criterion_{index}")
            if value is None:
                scores.pop(str(criterion["key"]), None)
            else:
                scores[str(criterion["key"])] = value
        data["criteria_scores"] = scores
        return data


class InsightsForm(forms.Form):
    pain_points = forms.CharField(
        label=_("痛点"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )
    value_statement = forms.CharField(
        label=_("价值描述"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": _("例如：节省 50% 人工操作")}),
    )


class OverrideForm(forms.Form):
    priority = forms.ChoiceField(
        label=_("人工调整优先级"), choices=[("", _("不调整（使用计算结果）")), *Priority.choices], required=False
    )
    reason = forms.CharField(
        label=_("调整理由"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("人工调整时必须填写"),
    )


def whys_from_post(data: Any) -> tuple[list[dict[str, str]], str]:
    """The 5-Whys editor's rows (as typed, in order, never cut: ``whys_set`` refuses what is too long) and its
    root cause."""
    questions = data.getlist("question")
    answers = data.getlist("answer")
    size = min(max(len(questions), len(answers)), MAX_WHYS + 5)
    rows = []
    for index in range(size):
        question = questions[index] if index < len(questions) else ""
        answer = answers[index] if index < len(answers) else ""
        rows.append({"question": question, "answer": answer})
    return rows, str(data.get("root_cause", ""))


class FishboneForm(forms.Form):
    """One textarea per category, one cause per line."""

    def __init__(self, *args: Any, grouped: dict[str, list[Any]] | None = None, **kwargs: Any) -> None:
        grouped = grouped or {}
        kwargs.setdefault(
            "initial",
            {f"fishbone_{key}": "\n".join(c.text for c in grouped.get(key, [])) for key in FishboneCategory.values},
        )
        super().__init__(*args, **kwargs)
        for key, label in FishboneCategory.choices:
            self.fields[f"fishbone_{key}"] = forms.CharField(
                label=label, required=False, max_length=6000, widget=forms.Textarea(attrs={"rows": 3})
            )

    def causes(self) -> list[tuple[str, str]]:
        found = []
        for key in FishboneCategory.values:
            for line in (self.cleaned_data.get(f"fishbone_{key}") or "").splitlines():
                if line.strip():
                    found.append((key, line.strip()))
        return found


class FeasibilityForm(forms.Form):
    tech_difficulty = one_to_five(_("技术难度（1–5）"))
    effort_days = forms.DecimalField(
        label=_("工作量（人天）"), min_value=0, max_digits=8, decimal_places=1, required=False
    )
    cost_estimate = forms.DecimalField(
        label=_("成本估算（元）"), min_value=0, max_digits=14, decimal_places=2, required=False
    )
    resources = forms.CharField(
        label=_("所需资源"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": _("人员、时间、预算、工具")}),
    )


class ComplianceForm(forms.Form):
    status = forms.ChoiceField(
        label=_("合规结论"),
        choices=[c for c in ComplianceStatus.choices if c[0] != ComplianceStatus.PENDING],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("合规意见"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("判定不合规时必须说明原因"),
    )
