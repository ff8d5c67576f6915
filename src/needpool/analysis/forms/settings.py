"""The priority model's settings page: the model, weights, thresholds and the weighted-score criteria."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from needpool.analysis.choices import PriorityModelKind
from needpool.analysis.forms.common import plain_number
from needpool.analysis.models import AnalysisSettings
from needpool.analysis.services import DEFAULT_THRESHOLDS

DEFAULT_WEIGHTS_3D = {"importance": 40.0, "urgency": 40.0, "cost": 20.0}
THRESHOLD_MODELS = tuple(DEFAULT_THRESHOLDS)


class SettingsForm(forms.Form):
    active_model = forms.ChoiceField(label=_("当前优先级模型"), choices=PriorityModelKind.choices)
    matrix_cutoff = forms.TypedChoiceField(
        label=_("矩阵高低分界（1–5）"),
        choices=[(n, str(n)) for n in range(1, 6)],
        coerce=int,
        help_text=_("紧急度 / 重要性不低于此值算“高”"),
    )
    weight_importance = forms.FloatField(label=_("重要性权重"), min_value=0, required=False)
    weight_urgency = forms.FloatField(label=_("紧急度权重"), min_value=0, required=False)
    weight_cost = forms.FloatField(label=_("资源成本权重"), min_value=0, required=False)
    require_whys_for_review = forms.BooleanField(label=_("P0/P1 进入评审前必须完成 5 Whys"), required=False)

    THRESHOLD_LABELS = {
        "matrix_3d": _("三维模型（0–100 分）"),
        "value_cost": _("价值 / 成本（比值）"),
        "weighted": _("加权评分（0–100 分）"),
        "rice": _("RICE 分"),
    }

    def __init__(self, *args: Any, config: AnalysisSettings, readonly: bool = False, **kwargs: Any) -> None:
        weights = {k: float(v) for k, v in (config.weights_3d or {}).items()} or DEFAULT_WEIGHTS_3D
        initial: dict[str, Any] = {
            "active_model": config.active_model,
            "matrix_cutoff": config.matrix_cutoff,
            "weight_importance": plain_number(weights.get("importance")),
            "weight_urgency": plain_number(weights.get("urgency")),
            "weight_cost": plain_number(weights.get("cost")),
            "require_whys_for_review": config.require_whys_for_review,
        }
        for model in THRESHOLD_MODELS:
            values = (config.thresholds or {}).get(model) or DEFAULT_THRESHOLDS[model]
            for n, value in enumerate(values):
                initial[f"threshold_{model}_{n}"] = plain_number(value)
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        for model in THRESHOLD_MODELS:
            for n, priority in enumerate(("P0", "P1", "P2")):
                self.fields[f"threshold_{model}_{n}"] = forms.FloatField(
                    label=_("%(priority)s 下限") % {"priority": priority}, min_value=0
                )
        if readonly:
            for field in self.fields.values():
                field.disabled = True

    def threshold_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "model": model,
                "label": self.THRESHOLD_LABELS[model],
                "fields": [self[f"threshold_{model}_{n}"] for n in range(3)],
            }
            for model in THRESHOLD_MODELS
        ]

    def weight_fields(self) -> list[forms.BoundField]:
        return [self["weight_importance"], self["weight_urgency"], self["weight_cost"]]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for model in THRESHOLD_MODELS:
            values = [cleaned.get(f"threshold_{model}_{n}") for n in range(3)]
            if None not in values and not values[0] >= values[1] >= values[2]:  # type: ignore[operator]
                self.add_error(f"threshold_{model}_0", _("阈值必须从高到低：P0 ≥ P1 ≥ P2。"))
        return cleaned

    def changes(self, config: AnalysisSettings, criteria: list[dict[str, Any]] | None) -> dict[str, Any]:
        """Only what the user changed, in the service's terms (unchanged settings stay as stored)."""
        changed = set(self.changed_data)
        data: dict[str, Any] = {}
        for name in ("active_model", "matrix_cutoff", "require_whys_for_review"):
            if name in changed:
                data[name] = self.cleaned_data[name]
        if changed & {"weight_importance", "weight_urgency", "weight_cost"}:
            data["weights_3d"] = {
                key: self.cleaned_data[f"weight_{key}"]
                for key in ("importance", "urgency", "cost")
                if self.cleaned_data.get(f"weight_{key}") is not None
            }
        changed_models = [m for m in THRESHOLD_MODELS if any(f"threshold_{m}_{n}" in changed for n in range(3))]
        if changed_models:
            thresholds = {k: list(v) for k, v in (config.thresholds or {}).items()}
            for model in changed_models:
                thresholds[model] = [self.cleaned_data[f"threshold_{model}_{n}"] for n in range(3)]
            data["thresholds"] = thresholds
        if criteria is not None and _criteria_key(criteria) != _criteria_key(config.criteria or []):
            data["criteria"] = criteria
        return data


def _criteria_key(criteria: list[dict[str, Any]]) -> list[tuple[str, str, float]]:
    return [
        (str(c.get("key", "")).strip(), str(c.get("label") or c.get("key", "")).strip(), float(c.get("weight") or 0))
        for c in criteria
    ]


class CriterionForm(forms.Form):
    key = forms.SlugField(label=_("键"), max_length=40, required=False)
    label = forms.CharField(label=_("名称"), max_length=60, required=False)
    weight = forms.FloatField(label=_("权重"), min_value=0, required=False)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not cleaned.get("key") and (cleaned.get("label") or cleaned.get("weight") is not None):
            self.add_error("key", _("请填写键（英文字母、数字、下划线）。"))
        if cleaned.get("key") and cleaned.get("weight") is None:
            self.add_error("weight", _("请填写权重。"))
        return cleaned


CriteriaFormSet = forms.formset_factory(CriterionForm, extra=2, max_num=20, absolute_max=30)


def criteria_formset(data: Any, *, config: AnalysisSettings, readonly: bool = False) -> Any:
    initial = [
        {"key": c.get("key", ""), "label": c.get("label", ""), "weight": plain_number(c.get("weight") or 0)}
        for c in config.criteria or []
    ]
    formset = CriteriaFormSet(data, initial=initial, prefix="criteria")
    if readonly:
        for form in formset.forms:
            for field in form.fields.values():
                field.disabled = True
    return formset


def criteria_from_formset(formset: Any) -> list[dict[str, Any]]:
    return [
        {
            "key": f.cleaned_data["key"],
            "label": f.cleaned_data.get("label") or f.cleaned_data["key"],
            "weight": f.cleaned_data["weight"],
        }
        for f in formset.forms
        if f.cleaned_data.get("key")
    ]
