"""Scores and priority: scoring inputs, the manual override, and the recompute of every priority."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from needpool.accounts.models import User
from needpool.analysis import permissions, scoring
from needpool.analysis.choices import MoSCoW, PriorityModelKind
from needpool.analysis.models import AnalysisSettings, RequirementAnalysis
from needpool.analysis.services.common import locked_analysis, whole_number
from needpool.analysis.services.config import analysis_settings, thresholds_of
from needpool.core.audit import audit_record, diff, snapshot
from needpool.core.bulk import bulk_set
from needpool.core.models import AuditEntry, BackgroundJob
from needpool.requirements.choices import Priority
from needpool.requirements.models import Requirement
from needpool.requirements.services import requirements_priority_set

RECOMPUTE_BATCH = 2000
SCORE_FIELDS = (
    "urgency_score",
    "importance_score",
    "resource_cost",
    "value_score",
    "cost_score",
    "criteria_scores",
    "reach",
    "impact",
    "confidence",
    "effort",
    "moscow",
)
INSIGHT_FIELDS = ("pain_points", "value_statement")
_ONE_TO_FIVE = ("urgency_score", "importance_score", "resource_cost", "value_score", "cost_score")
# The largest values the columns hold (and RICE accepts): bigger ones would fail on PostgreSQL.
MAX_REACH = 10**9
MAX_EFFORT = Decimal("999999.99")


def score(analysis: RequirementAnalysis, config: AnalysisSettings) -> scoring.Scored:
    """Score one requirement's inputs with the active model; raises scoring.ScoringError on missing input."""
    model = config.active_model
    if model == PriorityModelKind.MATRIX:
        return scoring.matrix(analysis.urgency_score, analysis.importance_score, cutoff=config.matrix_cutoff)
    if model == PriorityModelKind.MATRIX_3D:
        return scoring.matrix_3d(
            analysis.importance_score,
            analysis.urgency_score,
            analysis.resource_cost,
            weights={k: float(v) for k, v in (config.weights_3d or {}).items()} or None,
            thresholds=thresholds_of(config, model),
        )
    if model == PriorityModelKind.VALUE_COST:
        return scoring.value_cost(analysis.value_score, analysis.cost_score, thresholds=thresholds_of(config, model))
    if model == PriorityModelKind.WEIGHTED:
        weights = {c["key"]: float(c["weight"]) for c in config.criteria or []}
        return scoring.weighted(analysis.criteria_scores or {}, weights, thresholds=thresholds_of(config, model))
    if model == PriorityModelKind.RICE:
        return scoring.rice(
            analysis.reach,
            analysis.impact,
            analysis.confidence,
            analysis.effort,
            thresholds=thresholds_of(config, model),
        )
    return scoring.moscow(analysis.moscow or None)


def _apply_score(analysis: RequirementAnalysis, config: AnalysisSettings) -> None:
    try:
        result = score(analysis, config)
    except scoring.ScoringError as exc:
        analysis.computed_model = config.active_model
        analysis.computed_score = None
        analysis.computed_priority = ""
        analysis.computed_parts = {}
        analysis.computed_error = f"{exc.field}: {exc.message}"[:200]
    else:
        analysis.computed_model = result.model
        analysis.computed_score = result.score
        analysis.computed_priority = result.priority
        analysis.computed_parts = result.parts
        analysis.computed_error = ""
    analysis.computed_version = config.version


COMPUTED_FIELDS = (
    "computed_model",
    "computed_score",
    "computed_priority",
    "computed_parts",
    "computed_error",
    "computed_version",
)


def _sync_requirement_priority(analysis: RequirementAnalysis, previous: str, *, actor: User, reason: str = "") -> None:
    """Copy the effective priority to the requirement; one entered by hand stays until the analysis gives one."""
    if analysis.effective_priority or previous:
        requirements_priority_set(
            actor=actor, priorities=[(analysis.requirement_id, analysis.effective_priority)], reason=reason
        )


def _clean_inputs(data: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    cleaned: dict[str, Any] = {}
    for name, value in data.items():
        if value in ("", None):
            cleaned[name] = {} if name == "criteria_scores" else ("" if name == "moscow" else None)
            continue
        try:
            if name in _ONE_TO_FIVE:
                number = whole_number(value)
                if not 1 <= number <= 5:
                    raise ValueError
                cleaned[name] = number
            elif name == "reach":
                cleaned[name] = whole_number(value)
                if not 0 <= cleaned[name] <= MAX_REACH:
                    raise ValueError
            elif name == "confidence":
                cleaned[name] = whole_number(value)
                if not 0 <= cleaned[name] <= 100:
                    raise ValueError
            elif name == "impact":
                cleaned[name] = Decimal(str(value))
                if float(cleaned[name]) not in scoring.RICE_IMPACTS:
                    raise ValueError
            elif name == "effort":
                cleaned[name] = Decimal(str(value))
                if not Decimal("0.01") <= cleaned[name] <= MAX_EFFORT:
                    raise ValueError
            elif name == "moscow":
                if value not in MoSCoW.values:
                    raise ValueError
                cleaned[name] = value
            elif name == "criteria_scores":
                if not isinstance(value, dict):
                    raise ValueError
                scores = {str(k): float(v) for k, v in value.items()}
                if any(not 0 <= v <= 10 for v in scores.values()):
                    raise ValueError
                cleaned[name] = scores
        except (TypeError, ValueError, InvalidOperation):
            errors[name] = {
                "impact": _("Impact 只能是 0.25、0.5、1、2 或 3。"),
                "confidence": _("Confidence 必须在 0 到 100 之间。"),
                "effort": _("Effort 必须在 0.01 到 999999.99 人月之间。"),
                "reach": _("Reach 必须是 0 到 10 亿之间的整数。"),
                "moscow": _("MoSCoW 分类必须是 must、should、could 或 wont。"),
                "criteria_scores": _("每个维度的评分必须在 0 到 10 之间。"),
            }.get(name, _("评分必须是 1 到 5 的整数。"))
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def analysis_update(*, actor: User, requirement: Requirement, **data: Any) -> RequirementAnalysis:
    """Change a requirement's scoring inputs, pain points or value statement; recompute its priority."""
    if not permissions.can_score(actor, requirement):
        raise permissions.deny(_("只有产品经理及以上角色可以修改评分。"))
    unknown = set(data) - set(SCORE_FIELDS) - set(INSIGHT_FIELDS)
    if unknown:
        raise ValidationError({name: _("未知字段。") for name in sorted(unknown)})
    scores = _clean_inputs({k: v for k, v in data.items() if k in SCORE_FIELDS})
    analysis = locked_analysis(requirement)
    previous = analysis.effective_priority
    fields = (*SCORE_FIELDS, *INSIGHT_FIELDS)
    before = snapshot(analysis, fields)
    for name, value in {**data, **scores}.items():
        setattr(analysis, name, value.strip() if isinstance(value, str) and name in INSIGHT_FIELDS else value)
    _apply_score(analysis, analysis_settings())
    analysis.save()
    _sync_requirement_priority(analysis, previous, actor=actor)
    changes = diff(before, snapshot(analysis, fields))
    if changes:
        audit_record(
            actor=actor,
            obj=requirement,
            action=AuditEntry.Action.UPDATE,
            changes={f"analysis.{k}": v for k, v in changes.items()},
        )
    return analysis


@transaction.atomic
def priority_override(*, actor: User, requirement: Requirement, priority: str, reason: str) -> RequirementAnalysis:
    """Set (or clear, with ``priority=""``) a manual priority; the computed one stays beside it."""
    if not permissions.can_override_priority(actor, requirement):
        raise permissions.deny(_("只有产品经理及以上角色可以调整优先级。"))
    reason = (reason or "").strip()
    if priority and priority not in Priority.values:
        raise ValidationError({"priority": _("优先级必须是 P0、P1、P2 或 P3。")})
    if priority and not reason:
        raise ValidationError({"reason": _("人工调整优先级必须填写理由。")})
    if len(reason) > 500:
        raise ValidationError({"reason": _("理由不能超过 500 个字符。")})
    analysis = locked_analysis(requirement)
    previous = analysis.effective_priority
    before = (analysis.override_priority, analysis.override_reason)
    analysis.override_priority = priority
    analysis.override_reason = reason if priority else ""
    analysis.override_by = actor if priority else None
    analysis.override_at = timezone.now() if priority else None
    analysis.save()
    _sync_requirement_priority(analysis, previous, actor=actor, reason=reason)
    audit_record(
        actor=actor,
        obj=requirement,
        action=AuditEntry.Action.UPDATE,
        changes={"priority_override": (before[0], priority), "override_reason": (before[1], reason)},
    )
    return analysis


def priorities_recompute(*, version: int, job: BackgroundJob | None = None, batch_size: int | None = None) -> int:
    """Bring every requirement's computed priority to settings ``version``, batch by batch; safe to rerun.

    Each batch is read by primary key, scored in Python (the same function as a single edit) and written
    back with one joined UPDATE per table (core.bulk), so a million rows take minutes, not hours.
    """
    config = analysis_settings()
    size = batch_size or RECOMPUTE_BATCH
    done = 0
    last_pk = 0
    inputs = ("requirement_id", "override_priority", "computed_priority", *SCORE_FIELDS)
    while True:
        with transaction.atomic():
            batch = list(
                RequirementAnalysis.objects.filter(pk__gt=last_pk, computed_version__lt=version)
                .order_by("pk")
                .only(*inputs)[:size]
            )
            if not batch:
                break
            sync = []
            for analysis in batch:
                previous = analysis.effective_priority
                _apply_score(analysis, config)
                # A priority entered by hand stays until the analysis gives one (as in analysis_update).
                if analysis.effective_priority or previous:
                    sync.append((analysis.requirement_id, analysis.effective_priority))
            bulk_set(
                RequirementAnalysis,
                COMPUTED_FIELDS,
                [(a.pk, *(getattr(a, f) for f in COMPUTED_FIELDS)) for a in batch],
            )
            requirements_priority_set(actor=None, priorities=sync)
            done += len(batch)
            last_pk = batch[-1].pk
            if job is not None:
                BackgroundJob.objects.filter(pk=job.pk).update(
                    done=F("done") + len(batch), status=BackgroundJob.Status.RUNNING
                )
    return done
