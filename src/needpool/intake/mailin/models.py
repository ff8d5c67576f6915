"""Feedback by mail: mailboxes polled over IMAP, and every mail that came in through them.

- ``MailSource``: one mailbox (IMAP host, account, folder) and the feedback channel its mails are recorded
  under. The password is kept in the database for the poll (the mail server needs it in clear); pages never
  show it back. Use an app password (客户端专用密码 / 授权码) of a mailbox made for feedback, not a person's.
- ``InboundMail``: one mail seen in a source, at most once per Message-ID: the feedback it became, or the
  feedback it was threaded to (a reply), or why it was skipped or failed. Its own text is kept (mobiles
  masked) so a reply's words stay with the feedback it answers.
- ``InboundMailAttachment``: a file of a mail (type and size limited like every upload).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from needpool.core.models import TimeStampedModel
from needpool.requirements.choices import Channel


class MailSecurity(models.TextChoices):
    SSL = "ssl", _("SSL/TLS（通常端口 993）")
    STARTTLS = "starttls", _("STARTTLS（通常端口 143）")
    PLAIN = "plain", _("不加密（仅限本机或内网测试）")


class MailSource(TimeStampedModel):
    """A mailbox whose new mails become feedback (polled every two minutes while active)."""

    name = models.CharField(_("名称"), max_length=80)
    host = models.CharField(_("IMAP 服务器"), max_length=200)
    port = models.PositiveIntegerField(_("端口"), default=993)
    security = models.CharField(_("加密方式"), max_length=10, choices=MailSecurity.choices, default=MailSecurity.SSL)
    username = models.CharField(_("账号"), max_length=200)
    password = models.CharField(_("密码或客户端专用密码"), max_length=200)
    folder = models.CharField(_("文件夹"), max_length=200, default="INBOX")
    feedback_channel = models.CharField(
        _("记录为反馈渠道"), max_length=30, choices=Channel.choices, default=Channel.AFTER_SALES
    )
    is_active = models.BooleanField(_("启用"), default=True)
    uid_validity = models.BigIntegerField(_("UIDVALIDITY"), null=True, blank=True, editable=False)
    last_uid = models.BigIntegerField(_("最近收取的 UID"), default=0, editable=False)
    last_polled_at = models.DateTimeField(_("最近收取"), null=True, blank=True, editable=False)
    last_error = models.TextField(_("最近错误"), blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("收件邮箱")
        verbose_name_plural = _("收件邮箱")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class InboundStatus(models.TextChoices):
    CREATED = "created", _("已生成反馈")
    THREADED = "threaded", _("已归入原反馈")
    SKIPPED = "skipped", _("已跳过")
    FAILED = "failed", _("失败")


class InboundMail(models.Model):
    """One mail seen in a source (unique per Message-ID) and what became of it."""

    source = models.ForeignKey(MailSource, on_delete=models.CASCADE, related_name="mails", verbose_name=_("邮箱"))
    message_id = models.CharField(_("Message-ID"), max_length=255)
    in_reply_to = models.CharField(_("In-Reply-To"), max_length=255, blank=True)
    references = models.TextField(_("References"), blank=True)
    from_address = models.CharField(_("发件人"), max_length=254, blank=True)
    subject = models.CharField(_("主题"), max_length=255, blank=True)
    body = models.TextField(_("正文"), blank=True)
    received_at = models.DateTimeField(_("收到时间"))
    status = models.CharField(_("结果"), max_length=10, choices=InboundStatus.choices)
    reason = models.CharField(_("原因"), max_length=500, blank=True)
    feedback = models.ForeignKey(
        "requirements.Feedback",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("生成的反馈"),
    )
    thread_feedback = models.ForeignKey(
        "requirements.Feedback",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("归入的反馈"),
    )
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("收到的邮件")
        verbose_name_plural = _("收到的邮件")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "message_id"], name="inboundmail_source_msgid_uniq"),
        ]
        indexes = [
            models.Index(fields=["source", "-created_at"], name="inboundmail_source_idx"),
            models.Index(fields=["message_id"], name="inboundmail_msgid_idx"),
        ]

    def __str__(self) -> str:
        return self.subject or self.message_id

    @property
    def feedback_id_shown(self) -> int | None:
        return self.feedback_id or self.thread_feedback_id


def _mail_file_path(instance: InboundMailAttachment, filename: str) -> str:
    return f"mail/{instance.mail_id}/{filename}"


class InboundMailAttachment(models.Model):
    """A file that came with a mail (allowed types and size as for every upload)."""

    mail = models.ForeignKey(InboundMail, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("文件"), upload_to=_mail_file_path)
    name = models.CharField(_("文件名"), max_length=200)
    size = models.PositiveBigIntegerField(_("大小"))
    content_type = models.CharField(_("类型"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("邮件附件")
        verbose_name_plural = _("邮件附件")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name
