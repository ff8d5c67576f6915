"""The analysis desk: scores per requirement, root cause, feasibility, Kano surveys, analysis projects."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from needpool.analysis.choices import (
    ComplianceStatus,
    FishboneCategory,
    KanoAnswer,
    KanoCategory,
    MoSCoW,
    PriorityModelKind,
)
from needpool.core.models import TimeStampedModel
from needpool.requirements.choices import Priority


def _default_criteria() -> list[dict[str, object]]:
    return [
        {"key": "customer_value", "label": "客户价值", "weight": 30},
        {"key": "strategic_fit", "label": "战略匹配", "weight": 25},
        {"key": "revenue", "label": "收入影响", "weight": 25},
        {"key": "risk", "label": "风险降低", "weight": 20},
    ]


class AnalysisSettings(models.Model):
    """Which priority model is active and its parameters (one row); every change is audited."""

    active_model = models.CharField(
        _("当前优先级模型"), max_length=20, choices=PriorityModelKind.choices, default=PriorityModelKind.MATRIX
    )
    matrix_cutoff = models.PositiveSmallIntegerField(_("矩阵高低分界（1–5）"), default=3)
    weights_3d = models.JSONField(
        _("三维模型权重"), default=dict, blank=True, help_text=_('例如 {"importance": 40, "urgency": 40, "cost": 20}')
    )
    criteria = models.JSONField(_("加权评分维度"), default=_default_criteria, blank=True)
    thresholds = models.JSONField(
        _("分数到优先级的阈值"), default=dict, blank=True, help_text=_('例如 {"weighted": [75, 50, 25]}')
    )
    require_whys_for_review = models.BooleanField(_("P0/P1 进入评审前必须完成 5 Whys"), default=True)
    version = models.PositiveIntegerField(_("版本"), default=1)

    class Meta:
        verbose_name = _("分析设置")
        verbose_name_plural = _("分析设置")

    def __str__(self) -> str:
        return str(_("分析设置"))


class RequirementAnalysis(TimeStampedModel):
    """One requirement's inputs to every priority model, its computed and overridden priority,
    pain points, value statement, root cause and feasibility."""

    requirement = models.OneToOneField(
        "requirements.Requirement", on_delete=models.CASCADE, related_name="analysis", verbose_name=_("需求")
    )
    urgency_score = models.PositiveSmallIntegerField(_("紧急度（1–5）"), null=True, blank=True)
    importance_score = models.PositiveSmallIntegerField(_("重要性（1–5）"), null=True, blank=True)
    resource_cost = models.PositiveSmallIntegerField(_("资源成本（1–5）"), null=True, blank=True)
    value_score = models.PositiveSmallIntegerField(_("价值（1–5）"), null=True, blank=True)
    cost_score = models.PositiveSmallIntegerField(_("成本（1–5）"), null=True, blank=True)
    criteria_scores = models.JSONField(_("加权评分（0–10）"), default=dict, blank=True)
    reach = models.PositiveIntegerField(_("覆盖人数 Reach"), null=True, blank=True)
    impact = models.DecimalField(_("影响 Impact"), max_digits=4, decimal_places=2, null=True, blank=True)
    confidence = models.PositiveSmallIntegerField(_("信心 Confidence（%）"), null=True, blank=True)
    effort = models.DecimalField(_("工作量 Effort（人月）"), max_digits=8, decimal_places=2, null=True, blank=True)
    moscow = models.CharField(_("MoSCoW"), max_length=10, choices=MoSCoW.choices, blank=True)

    computed_model = models.CharField(_("计算模型"), max_length=20, choices=PriorityModelKind.choices, blank=True)
    computed_score = models.FloatField(_("计算得分"), null=True, blank=True)
    computed_priority = models.CharField(_("计算优先级"), max_length=2, choices=Priority.choices, blank=True)
    computed_parts = models.JSONField(_("得分构成"), default=dict, blank=True)
    computed_error = models.CharField(_("无法计算的原因"), max_length=200, blank=True)
    computed_version = models.PositiveIntegerField(default=0)
    override_priority = models.CharField(_("人工调整优先级"), max_length=2, choices=Priority.choices, blank=True)
    override_reason = models.CharField(_("调整理由"), max_length=500, blank=True)
    override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    override_at = models.DateTimeField(null=True, blank=True)

    pain_points = models.TextField(_("痛点"), blank=True)
    value_statement = models.TextField(_("价值描述"), blank=True, help_text=_("例如：节省 50% 人工操作"))
    root_cause = models.TextField(_("根本原因"), blank=True)

    tech_difficulty = models.PositiveSmallIntegerField(_("技术难度（1–5）"), null=True, blank=True)
    effort_days = models.DecimalField(_("工作量（人天）"), max_digits=8, decimal_places=1, null=True, blank=True)
    cost_estimate = models.DecimalField(_("成本估算（元）"), max_digits=14, decimal_places=2, null=True, blank=True)
    resources = models.TextField(_("所需资源"), blank=True)
    compliance_status = models.CharField(
        _("合规检查"), max_length=10, choices=ComplianceStatus.choices, default=ComplianceStatus.PENDING
    )
    compliance_note = models.CharField(_("合规意见"), max_length=500, blank=True)
    compliance_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("合规审核人"),
    )
    compliance_at = models.DateTimeField(_("合规审核时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("需求分析")
        verbose_name_plural = _("需求分析")
        indexes = [models.Index(fields=["computed_version"], name="analysis_version_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(urgency_score__isnull=True) | Q(urgency_score__gte=1, urgency_score__lte=5),
                name="analysis_urgency_range",
            ),
            models.CheckConstraint(
                condition=Q(importance_score__isnull=True) | Q(importance_score__gte=1, importance_score__lte=5),
                name="analysis_importance_range",
            ),
            models.CheckConstraint(
                condition=Q(override_priority="") | ~Q(override_reason=""),
                name="analysis_override_needs_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.requirement_id}"

    @property
    def effective_priority(self) -> str:
        return self.override_priority or self.computed_priority


class WhyStep(models.Model):
    """One step of a 5-Whys chain: why? → because."""

    requirement = models.ForeignKey("requirements.Requirement", on_delete=models.CASCADE, related_name="whys")
    position = models.PositiveSmallIntegerField(_("序号"))
    question = models.CharField(_("为什么"), max_length=300)
    answer = models.CharField(_("因为"), max_length=300)

    class Meta:
        verbose_name = _("5 Whys 步骤")
        verbose_name_plural = _("5 Whys 步骤")
        ordering = ["requirement_id", "position"]
        constraints = [models.UniqueConstraint(fields=["requirement", "position"], name="whystep_position_uniq")]

    def __str__(self) -> str:
        return f"{self.position}. {self.question}"


class FishboneCause(models.Model):
    """A cause on the fishbone diagram under 人 / 机 / 料 / 法 / 环 (/ 测)."""

    requirement = models.ForeignKey("requirements.Requirement", on_delete=models.CASCADE, related_name="fishbone")
    category = models.CharField(_("类别"), max_length=20, choices=FishboneCategory.choices)
    text = models.CharField(_("原因"), max_length=200)
    position = models.PositiveSmallIntegerField(_("序号"), default=0)

    class Meta:
        verbose_name = _("鱼骨图原因")
        verbose_name_plural = _("鱼骨图原因")
        ordering = ["requirement_id", "category", "position", "id"]

    def __str__(self) -> str:
        return self.text


def _survey_token() -> str:
    return secrets.token_urlsafe(16)


class KanoSurvey(TimeStampedModel):
    """A Kano survey for one requirement: one functional / dysfunctional question pair, open by link."""

    requirement = models.OneToOneField("requirements.Requirement", on_delete=models.CASCADE, related_name="kano_survey")
    functional_question = models.CharField(_("正向问题"), max_length=300)
    dysfunctional_question = models.CharField(_("反向问题"), max_length=300)
    token = models.CharField(max_length=40, unique=True, default=_survey_token)
    is_open = models.BooleanField(_("开放作答"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")

    class Meta:
        verbose_name = _("Kano 问卷")
        verbose_name_plural = _("Kano 问卷")

    def __str__(self) -> str:
        return self.functional_question


class KanoResponse(models.Model):
    """One answer pair, given by a customer through the link or entered by staff on their behalf."""

    survey = models.ForeignKey(KanoSurvey, on_delete=models.CASCADE, related_name="responses")
    customer = models.ForeignKey("customers.Customer", on_delete=models.SET_NULL, null=True, blank=True)
    respondent = models.CharField(_("作答人"), max_length=80, blank=True)
    functional = models.CharField(_("正向回答"), max_length=10, choices=KanoAnswer.choices)
    dysfunctional = models.CharField(_("反向回答"), max_length=10, choices=KanoAnswer.choices)
    category = models.CharField(_("Kano 类别"), max_length=1, choices=KanoCategory.choices)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("Kano 回答")
        verbose_name_plural = _("Kano 回答")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "customer"], condition=Q(customer__isnull=False), name="kano_one_answer_per_customer"
            )
        ]

    def __str__(self) -> str:
        return f"{self.functional}/{self.dysfunctional} → {self.category}"


class AnalysisProject(TimeStampedModel):
    """A bounded analysis effort: goal, scope (filters), team, period."""

    name = models.CharField(_("项目名称"), max_length=120)
    goal = models.TextField(_("分析目标"))
    scope = models.JSONField(
        _("分析范围"),
        default=dict,
        blank=True,
        help_text=_("industries, regions, segments, top_n_by_order, period_start, period_end"),
    )
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="led_projects", verbose_name=_("负责人")
    )
    start_date = models.DateField(_("开始日期"))
    end_date = models.DateField(_("结束日期"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")

    class Meta:
        verbose_name = _("分析项目")
        verbose_name_plural = _("分析项目")
        ordering = ["-start_date", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(end_date__gte=models.F("start_date")), name="project_dates_ordered")
        ]

    def __str__(self) -> str:
        return self.name


class ProjectMember(models.Model):
    """A member of an analysis project and their duty."""

    project = models.ForeignKey(AnalysisProject, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    duty = models.CharField(_("职责"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("项目成员")
        verbose_name_plural = _("项目成员")
        constraints = [models.UniqueConstraint(fields=["project", "user"], name="project_member_uniq")]

    def __str__(self) -> str:
        return f"{self.user} — {self.duty}"
