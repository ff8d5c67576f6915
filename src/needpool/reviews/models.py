"""Review meetings 评审会议: attendees, agenda (one decision per requirement), material, minutes 评审纪要."""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from needpool.core.models import TimeStampedModel


class ReviewMeeting(TimeStampedModel):
    """A review meeting led by a product manager (the chair); its minutes live on it and on its agenda items."""

    class Status(models.TextChoices):
        PREPARING = "preparing", _("筹备中")
        HELD = "held", _("已召开")
        CLOSED = "closed", _("已结束")

    title = models.CharField(_("会议主题"), max_length=200)
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"))
    place = models.CharField(_("地点"), max_length=200, blank=True)
    link = models.URLField(_("会议链接"), max_length=500, blank=True)
    chair = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="chaired_reviews", verbose_name=_("主持人")
    )
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PREPARING)
    # Minutes 评审纪要 (the per-item decisions, owners and dates are on the agenda items).
    solution = models.TextField(_("方案"), blank=True)
    summary = models.TextField(_("会议纪要"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("评审会议")
        verbose_name_plural = _("评审会议")
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_at__gte=models.F("starts_at")), name="review_times_ordered")
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def status_badge(self) -> str:
        return STATUS_BADGES.get(self.status, "bg-secondary-lt")


class ReviewAttendee(models.Model):
    class Role(models.TextChoices):
        RD = "rd", _("研发")
        DESIGN = "design", _("设计")
        OPERATIONS = "operations", _("运营")
        SALES = "sales", _("销售")
        PRODUCT = "product", _("产品")
        OTHER = "other", _("其他")

    meeting = models.ForeignKey(ReviewMeeting, on_delete=models.CASCADE, related_name="attendees")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="review_seats")
    role = models.CharField(_("角色"), max_length=12, choices=Role.choices, default=Role.OTHER)

    class Meta:
        verbose_name = _("参会人")
        verbose_name_plural = _("参会人")
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["meeting", "user"], name="review_attendee_once")]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"


class Decision(models.TextChoices):
    PENDING = "pending", _("待决策")
    ACCEPTED = "accepted", _("通过")
    CHANGES = "changes", _("需修改")
    DEFERRED = "deferred", _("暂缓")
    REJECTED = "rejected", _("拒绝")


DECISION_BADGES: dict[str, str] = {
    Decision.PENDING: "bg-blue-lt",
    Decision.ACCEPTED: "bg-green-lt",
    Decision.CHANGES: "bg-yellow-lt",
    Decision.DEFERRED: "bg-secondary-lt",
    Decision.REJECTED: "bg-red-lt",
}
STATUS_BADGES = {"preparing": "bg-blue-lt", "held": "bg-green-lt", "closed": "bg-secondary-lt"}


class AgendaItem(models.Model):
    """One requirement on a meeting's agenda, and the meeting's decision on it."""

    meeting = models.ForeignKey(ReviewMeeting, on_delete=models.CASCADE, related_name="items")
    requirement = models.ForeignKey(
        "requirements.Requirement", on_delete=models.CASCADE, related_name="review_items", verbose_name=_("需求")
    )
    position = models.PositiveIntegerField(_("顺序"), default=0)
    decision = models.CharField(_("决策"), max_length=10, choices=Decision.choices, default=Decision.PENDING)
    decision_note = models.TextField(_("决策说明"), blank=True)
    revisit_date = models.DateField(_("重新评审日期"), null=True, blank=True)
    # When the revisit reminder went out for this revisit date (reset by a new decision).
    revisit_reminded_at = models.DateTimeField(null=True, blank=True, editable=False)
    iteration = models.ForeignKey(
        "delivery.Iteration",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("迭代"),
    )
    notes = models.TextField(_("议题记录"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("负责人"),
    )
    due_date = models.DateField(_("完成日期"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("决策时间"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("评审议题")
        verbose_name_plural = _("评审议题")
        ordering = ["meeting", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["meeting", "requirement"], name="review_item_once")]
        indexes = [models.Index(fields=["requirement", "decided_at"], name="review_item_decided")]

    def __str__(self) -> str:
        return f"{self.meeting} · {self.requirement_id}"

    @property
    def decision_badge(self) -> str:
        """The Tabler badge colour of the decision (pages only)."""
        return DECISION_BADGES.get(self.decision, "bg-secondary-lt")


def _material_path(instance: Any, filename: str) -> str:
    return f"reviews/{instance.meeting_id}/{PurePath(filename).name}"


class ReviewMaterial(models.Model):
    """Material sent before the meeting: a link or an uploaded file, with when it was sent."""

    meeting = models.ForeignKey(ReviewMeeting, on_delete=models.CASCADE, related_name="materials")
    title = models.CharField(_("标题"), max_length=200)
    link = models.URLField(_("链接"), max_length=500, blank=True)
    file = models.FileField(_("文件"), upload_to=_material_path, blank=True, max_length=300)
    name = models.CharField(_("文件名"), max_length=200, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    sent_at = models.DateTimeField(_("发送时间"))
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("评审材料")
        verbose_name_plural = _("评审材料")
        ordering = ["sent_at", "id"]

    def __str__(self) -> str:
        return self.title
