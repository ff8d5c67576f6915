"""Kano surveys: the questions, and the answers (by customers through the link, or by staff)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from needpool.analysis.choices import KanoAnswer
from needpool.customers.models import Customer


class KanoSurveyForm(forms.Form):
    functional_question = forms.CharField(
        label=_("正向问题"), max_length=300, initial=_("如果提供此功能，您觉得如何？")
    )
    dysfunctional_question = forms.CharField(
        label=_("反向问题"), max_length=300, initial=_("如果不提供此功能，您觉得如何？")
    )


class KanoAnswerForm(forms.Form):
    """The customer's two answers; used by the public link and (with a customer) by staff."""

    functional = forms.ChoiceField(
        label=_("正向问题"),
        choices=KanoAnswer.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("请为正向问题选择一个回答。")},
    )
    dysfunctional = forms.ChoiceField(
        label=_("反向问题"),
        choices=KanoAnswer.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("请为反向问题选择一个回答。")},
    )
    respondent = forms.CharField(label=_("您的称呼（可选）"), max_length=80, required=False)

    def __init__(self, *args: Any, functional_label: str = "", dysfunctional_label: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if functional_label:
            self.fields["functional"].label = functional_label
        if dysfunctional_label:
            self.fields["dysfunctional"].label = dysfunctional_label


class KanoEntryForm(KanoAnswerForm):
    """Staff entering a customer's answers on their behalf."""

    customer = forms.ModelChoiceField(
        label=_("客户"), queryset=Customer.objects.none(), required=False, empty_label=_("不指定客户")
    )

    field_order = ["customer", "respondent", "functional", "dysfunctional"]

    def __init__(self, *args: Any, customers: QuerySet[Customer], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = customers  # type: ignore[attr-defined]
        self.fields["respondent"].label = _("作答人（可选）")
