"""Input of the mailbox form; the view then calls ``mail_source_create`` / ``mail_source_update``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from needpool.intake.mailin.models import MailSource


class MailSourceForm(forms.ModelForm):
    # Never rendered back: an empty field on edit keeps the stored password.
    password = forms.CharField(
        label=_("密码或客户端专用密码"),
        required=False,
        strip=False,
        max_length=200,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("建议使用邮箱的客户端专用密码（授权码），不要用登录密码。修改时留空则保持原密码。"),
    )

    class Meta:
        model = MailSource
        fields = ["name", "host", "port", "security", "username", "folder", "feedback_channel", "is_active"]
        help_texts = {
            "host": _("如 imap.exmail.qq.com"),
            "folder": _("默认 INBOX（收件箱）"),
            "feedback_channel": _("这个邮箱收到的邮件在需求池中记为哪个渠道"),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is None:
            self.fields["password"].required = True
            self.fields["password"].help_text = _("建议使用邮箱的客户端专用密码（授权码），不要用登录密码。")
