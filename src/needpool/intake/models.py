"""Intake: the ways customer words reach the pool from outside a staff account.

- ``IntakeChannel``: a way in that the company defines — the public portal form, or an integration
  (App feedback entry 反馈入口, ticket system 工单, social-media or e-commerce review collector) that posts
  to ``POST /api/v1/feedback/`` with its own token. The channel decides which feedback channel
  (``requirements.choices.Channel``) its items are recorded under, who may use the portal form (anyone,
  or customers holding an access code), what the tracking page shows, and its abuse limits.
- ``ChannelAccessCode``: one code per customer per channel, for channels in access-code mode; the code
  identifies the customer, so that customer's submissions are linked to it without retyping the name.
- ``Submission``: one submission through a channel (portal form or API). It owns the feedback item it
  became and keeps what the feedback has no field for: the customer as typed, the contact's work phone
  and work mail (privacy rule applies), the expected date, the caller's external id, the language.
- ``SubmissionAttachment``: files sent with a portal submission (staff download them after sign-in).
- ``TrackingLink``: a private link to the portal's tracking page, stored as a SHA-256 hash only. A link
  covers one submission (shown after submitting), or every submission of one e-mail address — that kind
  is only ever sent *to* that address, so typing someone else's address reveals nothing.
- ``PortalMessage``: a message staff send to a submitter (mailed, and shown when the channel shows messages).
- ``IdempotencyRecord``: the first response to an ``Idempotency-Key`` of the feedback API, kept 24 hours.

Secrets (channel tokens, access codes, tracking tokens) are random, shown once, and stored hashed.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from needpool.core.models import TimeStampedModel
from needpool.requirements.choices import Channel


class IntakeKind(models.TextChoices):
    """What sort of way in a channel is; each maps onto a feedback channel (``KIND_FEEDBACK_CHANNEL``)."""

    PORTAL = "portal", _("客户门户表单")
    APP_FEEDBACK = "app_feedback", _("App 反馈入口")
    TICKET = "ticket", _("工单系统")
    SOCIAL_MEDIA = "social_media", _("社交媒体采集")
    ECOMMERCE_REVIEW = "ecommerce_review", _("电商评价采集")


KIND_FEEDBACK_CHANNEL: dict[str, str] = {
    IntakeKind.PORTAL: Channel.WEBSITE_FORM,
    IntakeKind.APP_FEEDBACK: Channel.APP_FEEDBACK,
    IntakeKind.TICKET: Channel.TICKET,
    IntakeKind.SOCIAL_MEDIA: Channel.SOCIAL_MEDIA,
    IntakeKind.ECOMMERCE_REVIEW: Channel.ECOMMERCE_REVIEW,
}


class AccessMode(models.TextChoices):
    OPEN = "open", _("公开：任何人可提交")
    CODE = "code", _("凭访问码：仅持有访问码的客户")


class PortalShows(models.TextChoices):
    """What the tracking page shows a submitter (staff decide)."""

    STATUS = "status", _("仅处理状态")
    STATUS_AND_MESSAGES = "status_messages", _("处理状态和给客户的留言")


class Via(models.TextChoices):
    PORTAL = "portal", _("门户表单")
    API = "api", _("渠道 API")


class IntakeChannel(TimeStampedModel):
    """A company-defined way in for customer words (portal form or integration), with its own limits and token."""

    name = models.CharField(_("名称"), max_length=80)
    slug = models.SlugField(
        _("链接标识"), max_length=40, unique=True, help_text=_("门户地址 /portal/<标识>/，只能用字母、数字、-、_")
    )
    kind = models.CharField(_("渠道类型"), max_length=20, choices=IntakeKind.choices, default=IntakeKind.PORTAL)
    feedback_channel = models.CharField(
        _("记录为反馈渠道"),
        max_length=30,
        choices=Channel.choices,
        blank=True,
        help_text=_("留空则按渠道类型：门户表单记为“官网表单”，工单系统记为“工单系统”……"),
    )
    is_active = models.BooleanField(_("启用"), default=True)
    access_mode = models.CharField(
        _("门户访问方式"), max_length=10, choices=AccessMode.choices, default=AccessMode.OPEN
    )
    portal_shows = models.CharField(
        _("跟踪页显示"), max_length=20, choices=PortalShows.choices, default=PortalShows.STATUS_AND_MESSAGES
    )
    intro = models.TextField(_("门户说明"), blank=True, help_text=_("显示在门户表单上方"))
    portal_rate_limit = models.PositiveIntegerField(
        _("每个地址每小时提交上限"), default=20, validators=[MinValueValidator(1), MaxValueValidator(10_000)]
    )
    api_rate_limit = models.PositiveIntegerField(
        _("API 每分钟调用上限"), default=120, validators=[MinValueValidator(1), MaxValueValidator(100_000)]
    )
    max_attachment_mb = models.PositiveSmallIntegerField(
        _("单个附件上限（MB）"), default=10, validators=[MinValueValidator(1), MaxValueValidator(1024)]
    )
    max_attachments = models.PositiveSmallIntegerField(
        _("附件个数上限"), default=3, validators=[MaxValueValidator(20)], help_text=_("0 表示不允许上传附件")
    )
    token_hash = models.CharField(max_length=64, blank=True, default="", editable=False)
    token_prefix = models.CharField(_("令牌前缀"), max_length=16, blank=True, default="", editable=False)
    token_created_at = models.DateTimeField(_("令牌生成时间"), null=True, blank=True, editable=False)
    token_last_used_at = models.DateTimeField(_("令牌最近使用"), null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("收集渠道")
        verbose_name_plural = _("收集渠道")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["token_hash"], condition=~Q(token_hash=""), name="intakechannel_token_uniq")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def has_portal(self) -> bool:
        return self.kind == IntakeKind.PORTAL

    @property
    def has_token(self) -> bool:
        return bool(self.token_hash)

    @property
    def shows_messages(self) -> bool:
        return self.portal_shows == PortalShows.STATUS_AND_MESSAGES


class ChannelAccessCode(models.Model):
    """A customer's code for a channel in access-code mode; the code links submissions to the customer."""

    channel = models.ForeignKey(
        IntakeChannel, on_delete=models.CASCADE, related_name="access_codes", verbose_name=_("渠道")
    )
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="+", verbose_name=_("客户")
    )
    code_hash = models.CharField(max_length=64, unique=True, editable=False)
    hint = models.CharField(_("末四位"), max_length=4, editable=False)
    is_active = models.BooleanField(_("有效"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("生成时间"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)

    class Meta:
        verbose_name = _("门户访问码")
        verbose_name_plural = _("门户访问码")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["channel", "customer"], name="accesscode_channel_customer_uniq")]

    def __str__(self) -> str:
        return f"{self.channel} · {self.customer} · …{self.hint}"


class Submission(TimeStampedModel):
    """One submission through a channel; owns the feedback item it became and what the feedback cannot hold."""

    channel = models.ForeignKey(
        IntakeChannel, on_delete=models.PROTECT, related_name="submissions", verbose_name=_("渠道")
    )
    via = models.CharField(_("提交方式"), max_length=10, choices=Via.choices)
    feedback = models.OneToOneField(
        "requirements.Feedback", on_delete=models.PROTECT, related_name="submission", verbose_name=_("反馈")
    )
    customer_text = models.CharField(_("提交的客户名称或编号"), max_length=120, blank=True)
    contact_name = models.CharField(_("联系人"), max_length=60, blank=True)
    contact_phone = models.CharField(_("工作电话"), max_length=40, blank=True)
    contact_email = models.EmailField(_("工作邮箱"), blank=True)
    expected_date = models.DateField(_("期望时间"), null=True, blank=True)
    external_id = models.CharField(_("外部编号"), max_length=100, blank=True)
    language = models.CharField(_("语言"), max_length=10, blank=True)

    class Meta:
        verbose_name = _("渠道提交")
        verbose_name_plural = _("渠道提交")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"], condition=~Q(external_id=""), name="submission_external_id_uniq"
            )
        ]
        indexes = [
            models.Index(fields=["contact_email", "-created_at"], name="submission_email_idx"),
            models.Index(fields=["channel", "-created_at"], name="submission_channel_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} #{self.pk}"


def _submission_file_path(instance: SubmissionAttachment, filename: str) -> str:
    return f"portal/{instance.submission_id}/{filename}"


class SubmissionAttachment(models.Model):
    """A file sent with a portal submission (type and size limited by settings and the channel)."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("文件"), upload_to=_submission_file_path)
    name = models.CharField(_("文件名"), max_length=200)
    size = models.PositiveBigIntegerField(_("大小"))
    content_type = models.CharField(_("类型"), max_length=100, blank=True)
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("提交附件")
        verbose_name_plural = _("提交附件")
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.name


class TrackingLink(models.Model):
    """A private tracking link (hash only): one submission, or every submission of one e-mail address."""

    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    submission = models.ForeignKey(
        Submission, on_delete=models.CASCADE, null=True, blank=True, related_name="tracking_links"
    )
    email = models.EmailField(_("邮箱"), blank=True)
    created_at = models.DateTimeField(_("生成时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("跟踪链接")
        verbose_name_plural = _("跟踪链接")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(submission__isnull=False) & Q(email="")) | (Q(submission__isnull=True) & ~Q(email="")),
                name="trackinglink_one_scope",
            )
        ]

    def __str__(self) -> str:
        return self.email or f"#{self.submission_id}"


class PortalMessage(models.Model):
    """A message from staff to the submitter of a submission (telling the customer 告知客户)."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="messages")
    body = models.TextField(_("内容"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("发送人")
    )
    emailed = models.BooleanField(_("已发邮件"), default=False)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("给客户的留言")
        verbose_name_plural = _("给客户的留言")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.body[:40]


class IdempotencyRecord(models.Model):
    """The first successful response to one ``Idempotency-Key`` of one caller (channel or user)."""

    scope = models.CharField(max_length=40)
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("幂等键")
        verbose_name_plural = _("幂等键")
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="idempotency_scope_key_uniq")]

    def __str__(self) -> str:
        return f"{self.scope} {self.key}"


# Feedback by mail keeps its models in its own module; the intake app owns them.
from needpool.intake.mailin.models import InboundMail, InboundMailAttachment, MailSource  # noqa: E402, F401
from needpool.intake.transfer.models import ImportValueMapping  # noqa: E402, F401
