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


class DashboardSnapshot(models.Model):
    """The dashboard document of one scope and one set of filters, computed in the background and kept, so a
    large pool's dashboard opens at once (docs/decisions/0008-reports.md, "Snapshots").

    ``scope_key`` is ``"all"`` for readers who see the whole pool, else ``"user:<id>"``: a snapshot is served
    only to readers of the same scope key. ``filters_key`` is the filters' canonical query with the period as
    absolute dates and the document's language (``snapshots.filters_key``). ``document`` is ``Report.as_dict``
    (None until the first build finishes); the page always says when it was computed (数据截至).
    ``building_since`` marks a build under way: one build per key at a time, taken over after a timeout."""

    scope_key = models.CharField(_("范围"), max_length=40)
    filters_key = models.CharField(_("筛选条件"), max_length=500)
    relative = models.BooleanField(_("相对期间"), default=False, help_text=_("期间为“最近 90 天”，随日期前移"))
    reader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("最近查看人"),
    )
    document = models.JSONField(_("仪表盘数据"), null=True, blank=True)
    computed_at = models.DateTimeField(_("计算时间"), null=True, blank=True)
    compute_ms = models.PositiveIntegerField(_("计算耗时（毫秒）"), default=0)
    requested_at = models.DateTimeField(_("最近查看时间"))
    building_since = models.DateTimeField(_("开始计算时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("仪表盘快照")
        verbose_name_plural = _("仪表盘快照")
        constraints = [
            models.UniqueConstraint(fields=["scope_key", "filters_key"], name="dashboard_snapshot_unique_key"),
        ]
        indexes = [models.Index(fields=["requested_at"], name="dashboard_snapshot_requested")]

    def __str__(self) -> str:
        return f"{self.scope_key} {self.filters_key}"
