"""Closing the loop 闭环: telling the customer (notices and their mail templates), release notes for the public
changelog, CSAT surveys per requirement and NPS campaigns by customer segment."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from needpool.core.models import TimeStampedModel
from needpool.customers.choices import Segment, ValueTier


class NoticeEvent(models.TextChoices):
    """What happened to a requirement that the people who asked for it are told about."""

    REJECTED = "rejected", _("已拒绝")
    LAUNCHED = "launched", _("已上线")
    CLOSED = "closed", _("已关闭")


class LoopSettings(models.Model):
    """The loop's settings (one row): whether customers are told, survey expiry and the site address in mails."""

    notify_customers = models.BooleanField(_("状态变更时通知客户"), default=True)
    csat_enabled = models.BooleanField(_("需求关闭后发送满意度调查"), default=True)
    csat_expiry_days = models.PositiveSmallIntegerField(
        _("满意度调查有效天数"), default=30, validators=[MinValueValidator(1), MaxValueValidator(365)]
    )
    nps_expiry_days = models.PositiveSmallIntegerField(
        _("NPS 调查有效天数"), default=30, validators=[MinValueValidator(1), MaxValueValidator(365)]
    )
    site_url = models.URLField(
        _("站点地址"), blank=True, help_text=_("客户邮件中链接的前缀，例如 https://needpool.example.com")
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("闭环设置")
        verbose_name_plural = _("闭环设置")

    def __str__(self) -> str:
        return str(_("闭环设置"))


class NoticeTemplate(models.Model):
    """The mail a customer gets for one event; plain text with {code} {title} {status} {note} {link}."""

    event = models.CharField(_("事件"), max_length=20, choices=NoticeEvent.choices, unique=True)
    subject = models.CharField(_("邮件主题"), max_length=200)
    body = models.TextField(_("邮件正文"), max_length=5000)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("通知模板")
        verbose_name_plural = _("通知模板")
        ordering = ["event"]

    def __str__(self) -> str:
        return self.get_event_display()


class CustomerNotice(models.Model):
    """One notice to one person who asked for a requirement (customer contact by mail, watcher in-app)."""

    class Channel(models.TextChoices):
        MAIL = "mail", _("邮件")
        IN_APP = "in_app", _("站内通知")

    class Status(models.TextChoices):
        QUEUED = "queued", _("待发送")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("发送失败")

    requirement = models.ForeignKey(
        "requirements.Requirement", on_delete=models.CASCADE, related_name="customer_notices", verbose_name=_("需求")
    )
    event = models.CharField(_("事件"), max_length=20, choices=NoticeEvent.choices)
    channel = models.CharField(_("方式"), max_length=10, choices=Channel.choices)
    # The mail address, or for an in-app notice the user's id (unique per requirement + event + channel).
    recipient = models.CharField(_("接收人"), max_length=254)
    recipient_name = models.CharField(_("接收人姓名"), max_length=120, blank=True)
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("客户")
    )
    contact = models.ForeignKey(
        "customers.Contact",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("联系人"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    mail = models.ForeignKey(
        "core.OutboundMail", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("邮件")
    )
    created_at = models.DateTimeField(_("时间"), db_index=True)

    class Meta:
        verbose_name = _("客户通知")
        verbose_name_plural = _("客户通知")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["requirement", "event", "channel", "recipient"], name="loop_notice_once_per_recipient"
            )
        ]

    def __str__(self) -> str:
        return f"{self.requirement_id} · {self.event} · {self.recipient_name or self.recipient}"


class ReleaseNote(TimeStampedModel):
    """A changelog entry (更新日志) drafted when a requirement launches; public once published."""

    requirement = models.OneToOneField(
        "requirements.Requirement",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="release_note",
        verbose_name=_("需求"),
    )
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), max_length=10000, blank=True)
    is_public = models.BooleanField(_("公开"), default=True)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True, db_index=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("更新日志")
        verbose_name_plural = _("更新日志")
        ordering = ["-published_at", "-created_at", "-id"]

    def __str__(self) -> str:
        return self.title

    @property
    def is_published(self) -> bool:
        return self.published_at is not None


class NpsCampaign(TimeStampedModel):
    """An NPS survey (0–10) sent to the contacts of the customers in some segments / value tiers."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        SENDING = "sending", _("发送中")
        SENT = "sent", _("已发送")

    name = models.CharField(_("名称"), max_length=120)
    segments = models.JSONField(_("客户分层"), default=list, blank=True)
    value_tiers = models.JSONField(_("客户价值"), default=list, blank=True)
    question = models.CharField(_("问题"), max_length=300, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    started_at = models.DateTimeField(_("开始发送时间"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("NPS 调查")
        verbose_name_plural = _("NPS 调查")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name

    @property
    def segment_labels(self) -> list[str]:
        labels = dict(Segment.choices)
        return [str(labels.get(key, key)) for key in self.segments or []]

    @property
    def value_tier_labels(self) -> list[str]:
        labels = dict(ValueTier.choices)
        return [str(labels.get(key, key)) for key in self.value_tiers or []]


class SurveyInvitation(models.Model):
    """One tokenised invitation (CSAT for a closed requirement, or NPS of a campaign) to one contact.

    Only a hash of the token is stored; the token itself is in the mail. The answer is stored on the row by a
    conditional update, so two submits at once store one answer.
    """

    class Kind(models.TextChoices):
        CSAT = "csat", _("满意度（CSAT）")
        NPS = "nps", _("净推荐值（NPS）")

    kind = models.CharField(_("类型"), max_length=4, choices=Kind.choices)
    requirement = models.ForeignKey(
        "requirements.Requirement",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="survey_invitations",
        verbose_name=_("需求"),
    )
    campaign = models.ForeignKey(
        NpsCampaign,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="invitations",
        verbose_name=_("NPS 调查"),
    )
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("客户")
    )
    contact = models.ForeignKey(
        "customers.Contact",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("联系人"),
    )
    email = models.EmailField(_("邮箱"))
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("发送时间"), db_index=True)
    expires_at = models.DateTimeField(_("过期时间"))
    mail = models.ForeignKey("core.OutboundMail", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    score = models.PositiveSmallIntegerField(_("评分"), null=True, blank=True)
    comment = models.TextField(_("意见"), max_length=2000, blank=True)
    answered_at = models.DateTimeField(_("回答时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("调查邀请")
        verbose_name_plural = _("调查邀请")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["requirement", "contact"], condition=Q(kind="csat"), name="loop_csat_once_per_contact"
            ),
            models.UniqueConstraint(
                fields=["campaign", "contact"], condition=Q(kind="nps"), name="loop_nps_once_per_contact"
            ),
            models.CheckConstraint(
                condition=(Q(kind="csat", requirement__isnull=False, campaign__isnull=True))
                | (Q(kind="nps", campaign__isnull=False, requirement__isnull=True)),
                name="loop_invitation_one_subject",
            ),
            models.CheckConstraint(
                condition=Q(score__isnull=True)
                | Q(kind="csat", score__gte=1, score__lte=5)
                | Q(kind="nps", score__gte=0, score__lte=10),
                name="loop_invitation_score_range",
            ),
        ]
        indexes = [
            models.Index(fields=["requirement", "kind"], name="loop_invitation_req_idx"),
            models.Index(fields=["campaign", "answered_at"], name="loop_invitation_campaign_idx"),
            # Answers of one kind given in a period (CSAT and NPS figures of the reports).
            models.Index(fields=["kind", "answered_at"], name="loop_invitation_answered_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.email}"
