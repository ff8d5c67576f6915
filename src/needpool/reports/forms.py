"""Input of the monthly review pages: the team's conclusions (with the version they were opened at) and the
mail schedule. Validation only; the views hand the cleaned values to reports.services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from needpool.reports.models import CONCLUSIONS_MAX
from needpool.reports.services import schedule_candidates


class ConclusionsForm(forms.Form):
    conclusions = forms.CharField(
        label=_("团队结论"),
        required=False,
        strip=True,
        max_length=CONCLUSIONS_MAX,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("本月做得好的、需要改进的、下月的行动；最多 5000 字。"),
        error_messages={"max_length": _("团队结论最多 %(limit_value)d 字，当前 %(show_value)d 字，请删减后再保存。")},
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0, max_value=2**31)


class RecipientChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        email = obj.email or _("无邮箱")
        return f"{obj}（{obj.username} · {email}）"


class ScheduleForm(forms.Form):
    enabled = forms.BooleanField(
        label=_("启用定时发送"),
        required=False,
        help_text=_("每月 1 日 08:10 把上个月的复盘发送给下列收件人。"),
    )
    recipients = RecipientChoiceField(
        label=_("收件人"),
        required=False,
        queryset=schedule_candidates(),
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text=_("只能选择可查看全部需求的用户；按住 Ctrl（Mac 为 ⌘）可多选。"),
        error_messages={
            "invalid_choice": _("所选收件人“%(value)s”不存在或不能查看全团队的复盘。"),
            "invalid_pk_value": _("收件人“%(pk)s”无效。"),
        },
    )
