"""The reports app's own records (monthly reviews and their schedule); every figure is read, never stored here
without its computation time."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from needpool.core.models import TimeStampedModel

CONCLUSIONS_MAX = 5000


class MonthlyReview(TimeStampedModel):
    """The monthly review 复盘 of one month: the conclusions the team writes about it.

    The figures are not stored: the review page, its exports and its mail always compute them anew and say when
    (数据截至), so a requirement changed after the month still shows in the numbers.
    """

    month = models.DateField(_("月份"), unique=True, help_text=_("该月的第一天"))
    conclusions = models.TextField(_("团队结论"), blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("创建人"),
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("最后修改人"),
    )
    generated_at = models.DateTimeField(_("生成时间"), null=True, blank=True)
    version = models.PositiveIntegerField(_("版本"), default=1)

    class Meta:
        verbose_name = _("月度复盘")
        verbose_name_plural = _("月度复盘")
        ordering = ["-month"]
        constraints = [
            models.CheckConstraint(condition=Q(month__day=1), name="monthly_review_first_day"),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m}"


class MonthlyReviewSchedule(TimeStampedModel):
    """The one row saying who receives the monthly review by mail on the first day of each month (08:10)."""

    SEND_DAY = 1

    key = models.PositiveSmallIntegerField(default=1, unique=True, editable=False)
    enabled = models.BooleanField(_("启用定时发送"), default=False)
    recipients = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+", verbose_name=_("收件人")
    )
    last_sent_month = models.DateField(_("最近发送的月份"), null=True, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("最后修改人"),
    )

    class Meta:
        verbose_name = _("月度复盘发送设置")
        verbose_name_plural = _("月度复盘发送设置")
        constraints = [models.CheckConstraint(condition=Q(key=1), name="monthly_schedule_single_row")]

    def __str__(self) -> str:
        return str(_("月度复盘发送设置"))
