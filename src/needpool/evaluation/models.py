"""Effect evaluation 效果评估: after launch, did it meet the need (the plan's metric: target and actual)."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from needpool.core.models import TimeStampedModel

DEFAULT_DELAY_DAYS = 14
MAX_DELAY_DAYS = 90


class EvaluationSettings(models.Model):
    """The one row of evaluation settings: how many days after launch the evaluation is due."""

    delay_days = models.PositiveSmallIntegerField(
        _("上线后评估天数"),
        default=DEFAULT_DELAY_DAYS,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_DELAY_DAYS)],
        help_text=_("需求上线后多少天进行效果评估（1–2 周为宜）。"),
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("效果评估设置")
        verbose_name_plural = _("效果评估设置")

    def __str__(self) -> str:
        return str(_("效果评估设置"))


class Evaluation(TimeStampedModel):
    """One effect evaluation of one launch of a requirement, done by the requirement's owner.

    ``launch`` is the status change that launched the requirement: one evaluation per launch, so the status
    listener and the daily catch-up job may both run and still make one.
    """

    class Met(models.TextChoices):
        YES = "yes", _("是")
        PARTLY = "partly", _("部分")
        NO = "no", _("否")

    requirement = models.ForeignKey(
        "requirements.Requirement", on_delete=models.CASCADE, related_name="evaluations", verbose_name=_("需求")
    )
    launch = models.OneToOneField(
        "requirements.StatusChange",
        on_delete=models.CASCADE,
        related_name="evaluation",
        verbose_name=_("上线记录"),
    )
    launched_at = models.DateTimeField(_("上线时间"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="evaluations",
        verbose_name=_("评估人"),
    )
    due_date = models.DateField(_("评估截止日期"), db_index=True)
    metric = models.CharField(_("验收指标"), max_length=200, blank=True)
    target = models.CharField(_("目标值"), max_length=100, blank=True)
    actual = models.CharField(_("实际值"), max_length=100, blank=True)
    met = models.CharField(_("是否满足需求"), max_length=10, choices=Met.choices, blank=True)
    ease_of_use = models.PositiveSmallIntegerField(
        _("易用性（1–5）"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    complaint_drop_pct = models.DecimalField(
        _("投诉下降（%）"),
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(-100), MaxValueValidator(100)],
    )
    # Business effect 业务效果 where the owner recorded it (None: not known): did the customers behind the
    # requirement buy again, renew, refer others after the launch. Reports count each as a rate over the
    # evaluations that answered it.
    repurchased = models.BooleanField(_("复购"), null=True, blank=True)
    renewed = models.BooleanField(_("续约"), null=True, blank=True)
    referred = models.BooleanField(_("转介绍"), null=True, blank=True)
    notes = models.TextField(_("备注"), blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("评估完成人"),
    )
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    last_reminded_on = models.DateField(_("最近提醒日期"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("效果评估")
        verbose_name_plural = _("效果评估")
        ordering = ["-due_date", "-id"]
        indexes = [
            models.Index(fields=["owner", "completed_at", "due_date"], name="evaluation_owner_due_idx"),
            # Evaluations completed in a period (business effect in the reports).
            models.Index(fields=["completed_at"], name="evaluation_completed_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ease_of_use__isnull=True) | models.Q(ease_of_use__gte=1, ease_of_use__lte=5),
                name="evaluation_ease_1_5",
            ),
        ]

    def __str__(self) -> str:
        return str(_("效果评估 #%(pk)s")) % {"pk": self.pk}

    @property
    def is_done(self) -> bool:
        return self.completed_at is not None
