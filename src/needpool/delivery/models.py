"""Execution 执行: iterations / releases, the requirements planned into them, plans, tasks, acceptance, changes."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from needpool.core.models import TimeStampedModel


class Iteration(TimeStampedModel):
    """An iteration or release 迭代 / 版本: dates and a goal; accepted requirements are planned into one."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("未开始")
        ACTIVE = "active", _("进行中")
        DONE = "done", _("已完成")

    name = models.CharField(_("名称"), max_length=100)
    goal = models.TextField(_("目标"), blank=True)
    start_date = models.DateField(_("开始日期"))
    end_date = models.DateField(_("结束日期"))
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PLANNED)
    # Shown on the portal's public roadmap only when an admin or planner marks it public.
    is_public = models.BooleanField(_("公开到门户路线图"), default=False)
    public_summary = models.TextField(_("公开说明"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("迭代")
        verbose_name_plural = _("迭代")
        ordering = ["start_date", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__gte=models.F("start_date")), name="iteration_dates_in_order"
            )
        ]

    def __str__(self) -> str:
        return self.name


class IterationItem(models.Model):
    """One requirement planned into one iteration (a requirement is in at most one iteration at a time)."""

    iteration = models.ForeignKey(Iteration, on_delete=models.CASCADE, related_name="items", verbose_name=_("迭代"))
    requirement = models.OneToOneField(
        "requirements.Requirement",
        on_delete=models.CASCADE,
        related_name="iteration_item",
        verbose_name=_("需求"),
    )
    position = models.PositiveIntegerField(_("顺序"), default=0)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    added_at = models.DateTimeField(_("加入时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("迭代需求")
        verbose_name_plural = _("迭代需求")
        ordering = ["iteration", "position", "id"]

    def __str__(self) -> str:
        return f"{self.iteration} · {self.requirement_id}"
