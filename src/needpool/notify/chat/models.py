"""Group chat routes (a team's 飞书 / 钉钉 / 企业微信 / Slack bot) and each user's own IM bot."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from needpool.notify.kinds import EventKind

MAX_URL_LENGTH = 500


class Platform(models.TextChoices):
    FEISHU = "feishu", _("飞书")
    DINGTALK = "dingtalk", _("钉钉")
    WECOM = "wecom", _("企业微信")
    SLACK = "slack", _("Slack 兼容")


#: The platforms that sign their webhook calls with a secret (钉钉 加签, 飞书 签名校验).
SIGNING_PLATFORMS = frozenset({Platform.FEISHU, Platform.DINGTALK})


class Language(models.TextChoices):
    ZH_HANS = "zh-hans", _("简体中文")
    EN = "en", _("English")


class BotEndpoint(models.Model):
    """What every bot has: the platform, the webhook URL it gives, its signing secret and the last outcome."""

    platform = models.CharField(_("平台"), max_length=10, choices=Platform.choices)
    webhook_url = models.CharField(_("Webhook 地址"), max_length=MAX_URL_LENGTH)
    secret = models.CharField(_("签名密钥"), max_length=200, blank=True)
    active = models.BooleanField(_("启用"), default=True)
    last_ok_at = models.DateTimeField(_("最近成功"), null=True, blank=True)
    last_error = models.CharField(_("最近错误"), max_length=500, blank=True)
    last_error_at = models.DateTimeField(_("最近失败"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        abstract = True

    @property
    def failing(self) -> bool:
        """The last send failed (no success since)."""
        return self.last_error_at is not None and (self.last_ok_at is None or self.last_ok_at < self.last_error_at)


class ChatRoute(BotEndpoint):
    """A group bot an admin set up: the events of ``kinds`` (all when empty) that concern ``team`` (every team
    when empty) are posted to it, in ``language``. Delivered as target ``chat:<id>``."""

    name = models.CharField(_("名称"), max_length=80)
    team = models.ForeignKey(
        "accounts.Team",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="chat_routes",
        verbose_name=_("团队"),
        help_text=_("留空：所有团队的事件。"),
    )
    kinds = models.JSONField(_("事件类型"), default=list, blank=True, help_text=_("不选：所有类型。"))
    language = models.CharField(_("语言"), max_length=10, choices=Language.choices, default=Language.ZH_HANS)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("群机器人")
        verbose_name_plural = _("群机器人")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def target(self) -> str:
        return f"chat:{self.pk}"

    def kind_labels(self) -> list[str]:
        return [str(EventKind(kind).label) for kind in self.kinds if kind in EventKind.values]

    def carries(self, kind: str, team_ids: set[int]) -> bool:
        """Whether an event of ``kind`` concerning ``team_ids`` goes to this route."""
        return (
            self.active
            and (not self.kinds or kind in self.kinds)
            and (self.team_id is None or self.team_id in team_ids)
        )


class PersonalBot(BotEndpoint):
    """A user's own IM bot: the events they chose to hear of on IM (``Channel.IM``), in their language.
    Delivered as target ``im:<user id>``."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="personal_bot", verbose_name=_("用户")
    )

    class Meta:
        verbose_name = _("个人机器人")
        verbose_name_plural = _("个人机器人")

    def __str__(self) -> str:
        return f"{self.user}: {self.get_platform_display()}"
