"""Execution 执行: iterations / releases, the requirements planned into them, plans, tasks, acceptance, changes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from needpool.core.models import TimeStampedModel
from needpool.delivery.choices import ChangeStatus, Comparator, Strategy, TaskStatus


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


class Plan(TimeStampedModel):
    """A plan 落地计划 for one or more accepted requirements: strategy, solution, who, when, resources, and
    the acceptance criterion (a metric, a comparator and a target measured after launch)."""

    title = models.CharField(_("计划名称"), max_length=200)
    requirements = models.ManyToManyField(
        "requirements.Requirement", related_name="delivery_plans", verbose_name=_("需求"), blank=True
    )
    strategy = models.CharField(_("满足策略"), max_length=30, choices=Strategy.choices)
    solution = models.TextField(_("方案"), blank=True)
    team = models.ForeignKey(
        "accounts.Team", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("负责部门")
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="managed_plans",
        verbose_name=_("负责人"),
    )
    start_date = models.DateField(_("开始日期"))
    end_date = models.DateField(_("完成日期"))
    budget = models.DecimalField(_("预算"), max_digits=14, decimal_places=2, null=True, blank=True)
    people = models.CharField(_("人员"), max_length=300, blank=True)
    tools = models.CharField(_("工具"), max_length=300, blank=True)
    metric_name = models.CharField(_("验收指标"), max_length=60, blank=True)
    comparator = models.CharField(_("比较"), max_length=2, choices=Comparator.choices, default=Comparator.GE)
    target_value = models.DecimalField(_("目标值"), max_digits=14, decimal_places=2, null=True, blank=True)
    unit = models.CharField(_("单位"), max_length=20, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("落地计划")
        verbose_name_plural = _("落地计划")
        ordering = ["start_date", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(end_date__gte=models.F("start_date")), name="plan_dates_in_order")
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def criterion(self) -> str:
        """The acceptance criterion as one line, e.g. ``使用率 ≥ 30 %`` (empty without a metric)."""
        if not self.metric_name or self.target_value is None:
            return ""
        value = f"{self.target_value.normalize():f}"
        unit = f" {self.unit}" if self.unit else ""
        return f"{self.metric_name} {self.get_comparator_display()} {value}{unit}"

    def criterion_met(self, actual: Decimal | None) -> bool | None:
        """Whether ``actual`` meets the criterion (None when there is nothing to compare)."""
        if actual is None or self.target_value is None or not self.metric_name:
            return None
        if self.comparator == Comparator.GE:
            return actual >= self.target_value
        if self.comparator == Comparator.LE:
            return actual <= self.target_value
        return actual == self.target_value


class Milestone(models.Model):
    """A milestone 里程碑 of a plan: a title, a date and whether it is reached."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="milestones", verbose_name=_("计划"))
    title = models.CharField(_("里程碑"), max_length=200)
    date = models.DateField(_("日期"))
    done = models.BooleanField(_("已完成"), default=False)

    class Meta:
        verbose_name = _("里程碑")
        verbose_name_plural = _("里程碑")
        ordering = ["plan", "date", "id"]

    def __str__(self) -> str:
        return self.title


class Task(TimeStampedModel):
    """A task 任务 of a plan: owner, dates, deliverable, status, and the tasks of the same plan it waits for."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="tasks", verbose_name=_("计划"))
    title = models.CharField(_("任务"), max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="delivery_tasks",
        verbose_name=_("负责人"),
    )
    start_date = models.DateField(_("开始日期"))
    due_date = models.DateField(_("截止日期"), db_index=True)
    deliverable = models.CharField(_("交付物"), max_length=300, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=TaskStatus.choices, default=TaskStatus.TODO)
    depends_on = models.ManyToManyField(
        "self", symmetrical=False, related_name="dependents", blank=True, verbose_name=_("前置任务")
    )
    done_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("任务")
        verbose_name_plural = _("任务")
        ordering = ["plan", "start_date", "id"]
        indexes = [models.Index(fields=["status", "due_date"], name="task_status_due")]
        constraints = [
            models.CheckConstraint(condition=models.Q(due_date__gte=models.F("start_date")), name="task_dates_in_order")
        ]

    def __str__(self) -> str:
        return self.title

    def is_overdue(self, today: dt.date) -> bool:
        return self.status != TaskStatus.DONE and self.due_date < today


class OverdueReminder(models.Model):
    """One day's reminder about one overdue task: the row makes the daily job send it once, and records whom."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="reminders", verbose_name=_("任务"))
    day = models.DateField(_("日期"))
    recipients = models.PositiveIntegerField(_("提醒人数"), default=0)
    sent_at = models.DateTimeField(_("发送时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("逾期提醒")
        verbose_name_plural = _("逾期提醒")
        constraints = [models.UniqueConstraint(fields=["task", "day"], name="overdue_reminder_once_a_day")]

    def __str__(self) -> str:
        return f"{self.task_id} · {self.day}"


class Acceptance(TimeStampedModel):
    """An acceptance record 验收单: who accepted (a customer contact or an internal user), when, pass / fail,
    the actual value against the plan's criterion, and remarks."""

    requirement = models.ForeignKey(
        "requirements.Requirement", on_delete=models.CASCADE, related_name="acceptances", verbose_name=_("需求")
    )
    plan = models.ForeignKey(
        Plan, on_delete=models.SET_NULL, null=True, blank=True, related_name="acceptances", verbose_name=_("计划")
    )
    accepted_by_contact = models.ForeignKey(
        "customers.Contact",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("验收人（客户）"),
    )
    accepted_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("验收人（内部）"),
    )
    accepted_at = models.DateTimeField(_("验收时间"))
    passed = models.BooleanField(_("验收通过"))
    actual_value = models.DecimalField(_("实际值"), max_digits=14, decimal_places=2, null=True, blank=True)
    remarks = models.TextField(_("备注"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("验收单")
        verbose_name_plural = _("验收单")
        ordering = ["-accepted_at", "-id"]

    def __str__(self) -> str:
        return f"{self.requirement_id} · {self.accepted_at:%Y-%m-%d}"

    @property
    def accepted_by(self) -> Any:
        return self.accepted_by_contact or self.accepted_by_user


class ChangeRequest(TimeStampedModel):
    """A change request 需求变更 to a planned requirement: asked → impact evaluated → decided → implemented →
    told, each step once and in order."""

    requirement = models.ForeignKey(
        "requirements.Requirement", on_delete=models.CASCADE, related_name="change_requests", verbose_name=_("需求")
    )
    what = models.TextField(_("变更内容"))
    why = models.TextField(_("变更原因"))
    requested_by = models.CharField(_("提出人"), max_length=100)
    status = models.CharField(_("状态"), max_length=12, choices=ChangeStatus.choices, default=ChangeStatus.REQUESTED)
    impact_scope = models.TextField(_("范围影响"), blank=True)
    impact_schedule = models.TextField(_("进度影响"), blank=True)
    impact_cost = models.TextField(_("成本影响"), blank=True)
    impact_risk = models.TextField(_("风险"), blank=True)
    evaluated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    evaluated_at = models.DateTimeField(_("评估时间"), null=True, blank=True)
    decision_reason = models.TextField(_("决策理由"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("决策时间"), null=True, blank=True)
    implemented_note = models.TextField(_("实施说明"), blank=True)
    implemented_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    implemented_at = models.DateTimeField(_("实施时间"), null=True, blank=True)
    told_note = models.TextField(_("告知说明"), blank=True)
    told_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    told_at = models.DateTimeField(_("告知时间"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("需求变更")
        verbose_name_plural = _("需求变更")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return _("需求变更 #%(id)s") % {"id": self.pk}
