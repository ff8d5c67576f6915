"""Input of the webhook pages; the views then call the services, which check everything again."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from needpool.notify.kinds import EventKind


class EndpointForm(forms.Form):
    name = forms.CharField(label=_("名称"), max_length=100)
    url = forms.CharField(
        label=_("接收地址"),
        max_length=500,
        help_text=_("接收 POST 请求的 http:// 或 https:// 地址。"),
        widget=forms.URLInput(attrs={"placeholder": "https://example.com/hooks/needpool"}),
    )
    kinds = forms.MultipleChoiceField(
        label=_("事件类型"),
        choices=EventKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("不选表示全部类型。"),
    )
    active = forms.BooleanField(label=_("启用"), required=False, initial=True)
    description = forms.CharField(label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


class RotateForm(forms.Form):
    grace_hours = forms.IntegerField(
        label=_("旧密钥过渡期（小时）"),
        min_value=0,
        max_value=168,
        initial=24,
        help_text=_("过渡期内新旧密钥同时签名，接收方可从容切换；0 表示旧密钥立即失效。"),
    )
