"""Input validation for the portal form and the staff submission pages; the views then call intake.portal.services.

The portal form carries a honeypot: a text field named ``website`` that people never see (moved off
screen, hidden from screen readers, out of the tab order) and form-filling bots do fill. Filled, the
submission is refused with an explanation and nothing is written.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from needpool.core.validation import DateFormField
from needpool.intake.incoming import MAX_TEXT
from needpool.intake.models import AccessMode, IntakeChannel
from needpool.intake.portal.services import MAX_MESSAGE
from needpool.requirements.choices import Dimension
from needpool.requirements.models import ClassOption

HONEYPOT_CODE = "honeypot"
DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; cleans to a list (type and size limits are the service's)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        if not data:
            return []
        items = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(item, initial) for item in items]


class PortalForm(forms.Form):
    """The public submission form of one channel (access code field only in access-code mode)."""

    customer = forms.CharField(
        label=_("公司名称或客户编号"),
        max_length=120,
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    access_code = forms.CharField(
        label=_("访问码"),
        max_length=20,
        help_text=_("您的客户经理提供的访问码，如 ABCD-2345"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
    contact_name = forms.CharField(
        label=_("联系人姓名"), max_length=60, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    contact_phone = forms.CharField(
        label=_("工作电话"),
        max_length=40,
        required=False,
        help_text=_("请填写工作座机或总机；为保护隐私，不接受个人手机号。"),
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    contact_email = forms.CharField(
        label=_("工作邮箱"),
        max_length=254,
        required=False,
        help_text=_("请填写企业邮箱；不接受个人邮箱（如 QQ、163、Gmail）。填写后我们会把跟踪链接发到这个邮箱。"),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    type = forms.ModelChoiceField(label=_("需求类型"), queryset=ClassOption.objects.none(), empty_label=None)
    description = forms.CharField(
        label=_("需求描述"),
        max_length=MAX_TEXT,
        help_text=lazy(lambda: gettext("请描述您遇到的情况和希望的结果，最多 %(max)s 字。") % {"max": MAX_TEXT}, str)(),
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    expected_date = DateFormField(label=_("期望完成时间"), required=False, widget=DATE_WIDGET)
    attachments = MultipleFileField(label=_("附件"), required=False)
    website = forms.CharField(
        label=_("网址（请留空）"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def __init__(self, *args: Any, channel: IntakeChannel, attachment_hint: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.channel = channel
        self.fields["type"].queryset = ClassOption.objects.filter(  # type: ignore[attr-defined]
            dimension=Dimension.TYPE, is_active=True
        ).order_by("sort_order", "id")
        if channel.access_mode == AccessMode.CODE:
            self.fields["customer"].required = False
            self.fields["customer"].help_text = _("选填：访问码已能识别您的公司。")
        else:
            del self.fields["access_code"]
        if channel.max_attachments == 0:
            del self.fields["attachments"]
        else:
            self.fields["attachments"].help_text = attachment_hint

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (self.data.get("website") or "").strip():
            raise ValidationError(
                _(
                    "提交未被接受：表单中一个供防垃圾信息使用的隐藏字段被填写了，这通常是自动填表程序所为。"
                    "如果您是手动填写的，请关闭浏览器的自动填表功能后重新提交。"
                ),
                code=HONEYPOT_CODE,
            )
        return data

    def is_honeypot_hit(self) -> bool:
        return self.has_error(NON_FIELD_ERRORS, HONEYPOT_CODE)


# ---------------------------------------------------------------- staff


class PortalMessageForm(forms.Form):
    body = forms.CharField(
        label=_("给提交人的留言"),
        max_length=MAX_MESSAGE,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("提交人会在跟踪页看到（若渠道设置显示留言），并收到邮件（若留有邮箱）。"),
    )


class SubmissionFilterForm(forms.Form):
    q = forms.CharField(label=_("搜索"), required=False, max_length=100)
    channel = forms.ModelChoiceField(label=_("渠道"), queryset=IntakeChannel.objects.none(), required=False)
    unlinked = forms.BooleanField(label=_("仅未关联需求"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["channel"].queryset = IntakeChannel.objects.order_by("name", "id")  # type: ignore[attr-defined]
