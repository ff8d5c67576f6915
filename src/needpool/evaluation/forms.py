"""Input of the evaluation pages; the services validate again and keep the rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from needpool.evaluation.models import MAX_DELAY_DAYS, Evaluation

TRI_STATE_CHOICES = [("", _("未知")), ("true", _("是")), ("false", _("否"))]


def _tri_state(label: Any) -> forms.TypedChoiceField:
    """是 / 否 / 未知: a business effect nobody knows yet stays None, not 否."""
    return forms.TypedChoiceField(
        label=label,
        choices=TRI_STATE_CHOICES,
        coerce=lambda value: value == "true",
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
    )


def tri_state_initial(value: bool | None) -> str:
    """The form value of a stored nullable boolean."""
    return "" if value is None else ("true" if value else "false")


class EvaluationForm(forms.Form):
    metric = forms.CharField(label=_("验收指标"), max_length=200, required=False)
    target = forms.CharField(label=_("目标值"), max_length=100, required=False)
    actual = forms.CharField(label=_("实际值"), max_length=100, required=False)
    met = forms.ChoiceField(label=_("是否满足需求"), choices=Evaluation.Met.choices, widget=forms.RadioSelect)
    ease_of_use = forms.TypedChoiceField(
        label=_("易用性（1–5）"),
        choices=[("", "—"), *[(n, str(n)) for n in range(1, 6)]],
        coerce=int,
        empty_value=None,
        required=False,
    )
    complaint_drop_pct = forms.DecimalField(
        label=_("投诉下降（%）"), max_digits=5, decimal_places=1, min_value=-100, max_value=100, required=False
    )
    repurchased = _tri_state(_("复购"))
    renewed = _tri_state(_("续约"))
    referred = _tri_state(_("转介绍"))
    notes = forms.CharField(label=_("备注"), widget=forms.Textarea(attrs={"rows": 4}), max_length=5000, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class EvaluationSettingsForm(forms.Form):
    delay_days = forms.IntegerField(
        label=_("上线后评估天数"),
        min_value=1,
        max_value=MAX_DELAY_DAYS,
        help_text=_("需求上线后多少天进行效果评估（1–2 周为宜）。"),
    )
