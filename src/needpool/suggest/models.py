"""Suggestions (type, tags, sentiment / mood) kept beside the object they are for, and the trained models."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class SuggestField(models.TextChoices):
    """What a suggestion is for: one field of a feedback item or an interaction."""

    TYPE = "type", _("需求类型")
    TAG = "tag", _("标签")
    SENTIMENT = "sentiment", _("情绪")
    MOOD = "mood", _("客户情绪")


class ModelKind(models.TextChoices):
    TYPE = "type", _("需求类型")
    TAG = "tag", _("标签")
    SENTIMENT = "sentiment", _("情绪")


class Source(models.TextChoices):
    RULES = "rules", _("关键词规则")
    LEXICON = "lexicon", _("情感词典")
    MODEL = "model", _("模型")


class Outcome(models.TextChoices):
    PENDING = "pending", _("待确认")
    ACCEPTED = "accepted", _("已采纳")
    CORRECTED = "corrected", _("已更正")
    REJECTED = "rejected", _("已忽略")


class SuggestModel(models.Model):
    """One trained classifier (type, tags or sentiment): its version, the data it saw, its held-out score.

    The pickled model lives in ``blob`` so every web and worker process loads the same version; old
    versions keep their numbers but drop the blob. ``accuracy`` is measured on a held-out part of the
    labelled data (micro-F1 for tags); ``baseline_accuracy`` is the keyword rules / lexicon on the same
    part. A model is used only while ``is_active`` (the newest of its kind, and no worse than the rules).
    """

    kind = models.CharField(_("类型"), max_length=20, choices=ModelKind.choices)
    version = models.PositiveIntegerField(_("版本"))
    blob = models.BinaryField(editable=False, default=b"")
    samples = models.PositiveIntegerField(_("样本数"), default=0)
    test_samples = models.PositiveIntegerField(_("留出样本数"), default=0)
    labels = models.JSONField(_("类别"), default=list, blank=True)
    accuracy = models.FloatField(_("留出准确率"), null=True, blank=True)
    baseline_accuracy = models.FloatField(_("规则准确率"), null=True, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    is_active = models.BooleanField(_("使用中"), default=False)
    trained_at = models.DateTimeField(_("训练时间"), auto_now_add=True)
    trained_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    job = models.ForeignKey("core.BackgroundJob", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("建议模型")
        verbose_name_plural = _("建议模型")
        ordering = ["kind", "-version"]
        constraints = [models.UniqueConstraint(fields=["kind", "version"], name="suggestmodel_kind_version_uniq")]
        indexes = [models.Index(fields=["kind", "is_active"], name="suggestmodel_active_idx")]

    def __str__(self) -> str:
        return f"{self.kind} v{self.version}"


class OptionKeywords(models.Model):
    """The keyword list of one classification option (type or tag) for the rule-based suggestions."""

    option = models.OneToOneField(
        "requirements.ClassOption", on_delete=models.CASCADE, related_name="suggest_keywords", verbose_name=_("选项")
    )
    keywords = models.TextField(_("关键词"), blank=True, help_text=_("用空格、逗号或换行分隔"))
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("选项关键词")
        verbose_name_plural = _("选项关键词")

    def __str__(self) -> str:
        return str(self.option)


class Suggestion(models.Model):
    """A suggested value for one field of a feedback item or an interaction, and what a person did with it.

    Computed when first shown and kept (``text_hash`` + ``model_version`` tell when it is stale); never
    applied by itself. ``value`` is an option key (type, tag) or a choice value (sentiment, mood); an
    empty value records "nothing to suggest". ``chosen`` is what the person set (the value, or their
    correction).
    """

    feedback = models.ForeignKey(
        "requirements.Feedback", on_delete=models.CASCADE, null=True, blank=True, related_name="suggestions"
    )
    interaction = models.ForeignKey(
        "customers.Interaction", on_delete=models.CASCADE, null=True, blank=True, related_name="suggestions"
    )
    field = models.CharField(_("字段"), max_length=20, choices=SuggestField.choices)
    value = models.CharField(_("建议值"), max_length=40, blank=True)
    confidence = models.FloatField(_("置信度"), default=0.0)
    source = models.CharField(_("来源"), max_length=10, choices=Source.choices)
    model_version = models.PositiveIntegerField(_("模型版本"), default=0)
    text_hash = models.CharField(max_length=16)
    outcome = models.CharField(_("结果"), max_length=10, choices=Outcome.choices, default=Outcome.PENDING)
    chosen = models.CharField(_("最终值"), max_length=40, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("处理人"),
    )
    decided_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("智能建议")
        verbose_name_plural = _("智能建议")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(feedback__isnull=False) & Q(interaction__isnull=True))
                | (Q(feedback__isnull=True) & Q(interaction__isnull=False)),
                name="suggestion_one_target",
            ),
            models.UniqueConstraint(
                fields=["feedback", "field", "value", "text_hash"],
                condition=Q(feedback__isnull=False),
                name="suggestion_feedback_uniq",
            ),
            models.UniqueConstraint(
                fields=["interaction", "field", "value", "text_hash"],
                condition=Q(interaction__isnull=False),
                name="suggestion_interaction_uniq",
            ),
        ]
        indexes = [models.Index(fields=["outcome", "decided_at"], name="suggestion_outcome_idx")]

    def __str__(self) -> str:
        return f"{self.field}={self.value or '—'} ({self.confidence:.2f})"

    @property
    def target(self) -> models.Model:
        return self.feedback if self.feedback_id else self.interaction  # type: ignore[return-value]

    @property
    def is_pending(self) -> bool:
        return self.outcome == Outcome.PENDING
