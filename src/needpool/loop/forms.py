"""Input checks of the loop pages; the views then call a service (which has the last word)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from needpool.customers.choices import Segment, ValueTier
from needpool.loop.models import LoopSettings, NoticeEvent


class LoopSettingsForm(forms.ModelForm):
    site_url = forms.URLField(
        label=_("站点地址"),
        required=False,
        assume_scheme="https",
        help_text=_("客户邮件中链接的前缀，例如 https://needpool.example.com"),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = LoopSettings
        fields = ["notify_customers", "csat_enabled", "csat_expiry_days", "nps_expiry_days", "site_url"]


class NoticeTemplateForm(forms.Form):
    subject = forms.CharField(label=_("邮件主题"), max_length=200)
    body = forms.CharField(label=_("邮件正文"), max_length=5000, widget=forms.Textarea(attrs={"rows": 8}))

    def __init__(self, *args: Any, event: str, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", event)
        super().__init__(*args, **kwargs)
        self.event = event
        self.event_label = NoticeEvent(event).label


class ReleaseNoteForm(forms.Form):
    title = forms.CharField(label=_("标题"), max_length=200)
    body = forms.CharField(label=_("内容"), max_length=10000, required=False, widget=forms.Textarea(attrs={"rows": 8}))
    is_public = forms.BooleanField(label=_("在门户的更新日志中公开"), required=False, initial=True)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class CampaignForm(forms.Form):
    name = forms.CharField(label=_("名称"), max_length=120)
    segments = forms.MultipleChoiceField(
        label=_("客户分层"),
        choices=Segment.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("不选表示全部分层"),
    )
    value_tiers = forms.MultipleChoiceField(
        label=_("客户价值"),
        choices=ValueTier.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("不选表示全部价值等级"),
    )
    question = forms.CharField(
        label=_("问题"),
        max_length=300,
        required=False,
        help_text=_("留空则使用：您有多大可能向朋友或同事推荐我们的产品？"),
    )


class SurveyAnswerForm(forms.Form):
    score = forms.TypedChoiceField(label=_("评分"), coerce=int, widget=forms.RadioSelect(attrs={"class": "btn-check"}))
    comment = forms.CharField(
        label=_("意见或建议（选填）"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    website = forms.CharField(required=False, widget=forms.HiddenInput)  # a field people never fill in

    def __init__(self, *args: Any, low: int, high: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        score: Any = self.fields["score"]
        score.choices = [(i, str(i)) for i in range(low, high + 1)]
        self.fields["score"].error_messages["required"] = _("请选择一个分数。")
        self.fields["score"].error_messages["invalid_choice"] = _("请选择 %(low)s 到 %(high)s 分。") % {
            "low": low,
            "high": high,
        }
