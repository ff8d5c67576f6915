"""What every app shares: timestamps, audit log, notifications, code sequences, site configuration."""

from __future__ import annotations

from typing import Any, TypeVar

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _


class TimeStampedModel(models.Model):
    """Abstract base: creation and last-change times."""

    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        abstract = True


_M = TypeVar("_M", bound=models.Model)


class LiveManager(models.Manager[_M]):
    """The default manager of a soft-deletable model: rows in the recycle bin are left out."""

    def get_queryset(self) -> models.QuerySet[_M]:
        return super().get_queryset().filter(deleted_at__isnull=True)


class AllRowsManager(models.Manager[_M]):
    """``all_objects`` of a soft-deletable model: live and deleted rows alike (the bin, restore, purge, codes)."""


class SoftDeletable(models.Model):
    """Abstract base: a row staff deleted leaves every list but stays restorable (回收站) for a while.

    ``objects`` (the default manager, also behind reverse relations and form choices) leaves deleted rows out;
    ``all_objects`` sees them (the recycle bin, restore, purge, code sequences). A foreign key from another row
    still reaches a deleted row (Django's base manager).
    """

    deleted_at = models.DateTimeField(_("删除时间"), null=True, blank=True, db_index=True, editable=False)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("删除人"),
    )

    objects = LiveManager()
    all_objects = AllRowsManager()

    class Meta:
        abstract = True

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class AuditEntry(models.Model):
    """One recorded change of one object: who, when, what action, which fields from → to."""

    class Action(models.TextChoices):
        CREATE = "create", _("创建")
        UPDATE = "update", _("修改")
        DELETE = "delete", _("删除")
        RESTORE = "restore", _("恢复")
        TRANSITION = "transition", _("状态流转")
        COMMENT = "comment", _("评论")
        ATTACH = "attach", _("附件")
        LINK = "link", _("关联")
        MERGE = "merge", _("合并")
        UNMERGE = "unmerge", _("撤销合并")
        WATCH = "watch", _("关注")
        IMPORT = "import", _("导入")
        SLA_BREACH = "sla_breach", _("SLA 超时")

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, verbose_name=_("对象类型"))
    object_id = models.BigIntegerField(_("对象 ID"))
    object_repr = models.CharField(_("对象"), max_length=200)
    action = models.CharField(_("操作"), max_length=20, choices=Action.choices)
    changes = models.JSONField(_("变更"), default=dict, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, verbose_name=_("操作人")
    )
    at = models.DateTimeField(_("时间"), auto_now_add=True)
    # The import (a background job) this change was part of: its changes can be found, and undone, together.
    job = models.ForeignKey(
        "core.BackgroundJob",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("所属导入"),
    )

    class Meta:
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["content_type", "object_id", "-at"], name="audit_object_idx")]

    def __str__(self) -> str:
        return f"{self.object_repr} {self.action} @ {self.at:%Y-%m-%d %H:%M}"

    def change_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "field": field,
                "old": pair[0] if isinstance(pair, list) else "",
                "new": pair[1] if isinstance(pair, list) else pair,
            }
            for field, pair in (self.changes or {}).items()
        ]


class Notification(models.Model):
    """An in-app notice for one user: the inbox side of a ``notify`` event (see ``needpool.notify``)."""

    class Kind(models.TextChoices):
        """Every kind of event a user can be told of (``needpool.notify.kinds`` adds the default channels)."""

        ASSIGNED = "assigned", _("指派")
        STATUS = "status", _("状态变化")
        PRIORITY = "priority", _("优先级变化")
        OWNER = "owner", _("负责人变化")
        COMMENT = "comment", _("新评论")
        MENTION = "mention", _("提及")
        SLA = "sla", _("SLA 超时")
        TASK = "task", _("任务")
        REVIEW = "review", _("评审")
        REVIEW_DECISION = "review_decision", _("评审结论")
        FOLLOW_UP = "follow_up", _("跟进提醒")
        MERGE = "merge", _("需求合并")
        IMPORT = "import", _("导入完成")
        IMPORT_FAILED = "import_failed", _("导入失败")
        LOW_SCORE = "low_score", _("低分反馈")
        CLOSE_LOOP = "close_loop", _("闭环")
        EVALUATION = "evaluation", _("效果评估")

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("接收人"),
    )
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    text = models.CharField(_("内容"), max_length=500)
    url = models.CharField(_("链接"), max_length=300, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_unread_idx")]

    def __str__(self) -> str:
        return self.text


class CodeSequence(models.Model):
    """Last number handed out for one code prefix (e.g. DEM20240301, C2024); see core.codes."""

    prefix = models.CharField(max_length=60, unique=True)
    value = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("编号序列")
        verbose_name_plural = _("编号序列")

    def __str__(self) -> str:
        return f"{self.prefix}:{self.value}"


class SiteConfig(models.Model):
    """The admin-editable settings of the whole site (one row)."""

    requirement_code_pattern = models.CharField(
        _("需求编号格式"),
        max_length=60,
        default="DEM{yyyymmdd}{seq:03d}",
        help_text=_(
            "可用占位符：{yyyy} {yyyymm} {yyyymmdd} {seq:03d}，例如 DEM{yyyymmdd}{seq:03d} 或 {yyyymm}-{seq:03d}"
        ),
    )
    customer_code_pattern = models.CharField(
        _("客户编号格式"),
        max_length=60,
        default="C{yyyy}{seq:03d}",
        help_text=_("可用占位符同上，例如 C{yyyy}{seq:03d}（C2024001）"),
    )
    personal_email_domains = models.TextField(
        _("个人邮箱域名"), blank=True, help_text=_("每行一个；留空则使用系统默认列表")
    )
    interaction_late_hours = models.PositiveIntegerField(_("互动记录补录时限（小时）"), default=24)
    api_docs_public = models.BooleanField(
        _("公开 API 文档"), default=False, help_text=_("开启后，未登录的访客也能查看 /api/schema/ 与 /api/docs/")
    )
    value_tier_high = models.DecimalField(_("高价值客户年采购额下限"), max_digits=16, decimal_places=2, default=5000000)
    value_tier_medium = models.DecimalField(
        _("中价值客户年采购额下限"), max_digits=16, decimal_places=2, default=1000000
    )

    class Meta:
        verbose_name = _("站点设置")
        verbose_name_plural = _("站点设置")

    def __str__(self) -> str:
        return str(_("站点设置"))


class BackgroundJob(models.Model):
    """A long job the user waits for (priority recompute, imports): its progress, shown on a page."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("进行中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")
        INTERRUPTED = "interrupted", _("已中断")

    kind = models.CharField(_("类型"), max_length=40)
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveBigIntegerField(_("总数"), default=0)
    done = models.PositiveBigIntegerField(_("已完成"), default=0)
    message = models.CharField(_("说明"), max_length=500, blank=True)
    params = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("最近心跳"), null=True, blank=True)
    retry_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="retries", verbose_name=_("重试自")
    )

    class Meta:
        verbose_name = _("后台任务")
        verbose_name_plural = _("后台任务")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.done}/{self.total}"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return int(self.done * 100 / self.total) if self.total else 0


class OutboundMail(models.Model):
    """One mail the product decided to send, kept so a send happens once and its outcome is on record.

    ``key`` names the reason (e.g. ``task-overdue:42:2026-03-12:7``): queueing the same key twice — a periodic
    reminder run twice, a retried job — finds the row already there and sends nothing more.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("发送失败")

    key = models.CharField(_("去重键"), max_length=200, unique=True)
    to = models.JSONField(_("收件人"), default=list)
    subject = models.CharField(_("主题"), max_length=300)
    body = models.TextField(_("正文"))
    html = models.TextField(_("HTML 正文"), blank=True)
    # [{"filename": ..., "content": <text>, "mimetype": ...}] (text attachments such as .ics invitations)
    attachments = models.JSONField(default=list, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    error = models.CharField(_("错误"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("外发邮件")
        verbose_name_plural = _("外发邮件")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "created_at"], name="outbound_mail_status_idx")]

    def __str__(self) -> str:
        return self.subject
