"""Input of the chat bot pages; the services check it again and save it."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from needpool.accounts.models import Team
from needpool.notify.chat.masking import mask_secret, mask_url
from needpool.notify.chat.models import MAX_URL_LENGTH, BotEndpoint, Language, Platform
from needpool.notify.kinds import EventKind

_URL_HELP = _("粘贴平台给出的完整 Webhook 地址。")
_KEEP_HELP = _("留空则保持不变（当前：%(current)s）。")
_SECRET_HELP = _("钉钉“加签”或飞书“签名校验”的密钥；企业微信和 Slack 不用填。")


class EndpointForm(forms.Form):
    """Platform, URL and secret; editing a saved bot, an empty URL or secret keeps the saved one."""

    platform = forms.ChoiceField(label=_("平台"), choices=Platform.choices)
    webhook_url = forms.CharField(
        label=_("Webhook 地址"), max_length=MAX_URL_LENGTH, required=True, help_text=_URL_HELP
    )
    secret = forms.CharField(
        label=_("签名密钥"),
        max_length=200,
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_SECRET_HELP,
    )
    clear_secret = forms.BooleanField(label=_("清除签名密钥"), required=False)
    active = forms.BooleanField(label=_("启用"), required=False, initial=True)

    def __init__(self, *args: Any, saved: BotEndpoint | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if saved is None:
            del self.fields["clear_secret"]
            return
        url = self.fields["webhook_url"]
        url.required = False
        url.help_text = _KEEP_HELP % {"current": mask_url(saved.webhook_url)}
        url.widget.attrs["placeholder"] = mask_url(saved.webhook_url)
        if saved.secret:
            self.fields["secret"].help_text = _KEEP_HELP % {"current": mask_secret(saved.secret)}
        else:
            del self.fields["clear_secret"]


class RouteForm(EndpointForm):
    name = forms.CharField(label=_("名称"), max_length=80)
    team = forms.ModelChoiceField(
        label=_("团队"),
        queryset=Team.objects.order_by("name"),
        required=False,
        empty_label=_("所有团队"),
        help_text=_("留空：所有团队的事件。"),
    )
    kinds = forms.MultipleChoiceField(
        label=_("事件类型"),
        choices=EventKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("不选：所有类型。"),
    )
    language = forms.ChoiceField(label=_("语言"), choices=Language.choices, initial=Language.ZH_HANS)

    field_order = ["name", "platform", "webhook_url", "secret", "clear_secret", "team", "kinds", "language", "active"]


def route_initial(route: Any) -> dict[str, Any]:
    return {
        "name": route.name,
        "platform": route.platform,
        "team": route.team_id,
        "kinds": route.kinds,
        "language": route.language,
        "active": route.active,
    }


def bot_initial(bot: Any) -> dict[str, Any]:
    return {"platform": bot.platform, "active": bot.active}
