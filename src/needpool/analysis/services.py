"""Write use-cases of the analysis desk. Atomic, permission-checked, audited; big recomputes go to a job."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from needpool.accounts.models import User
from needpool.analysis import permissions, scoring
from needpool.analysis.choices import ComplianceStatus, FishboneCategory, KanoAnswer, MoSCoW, PriorityModelKind
from needpool.analysis.models import (
    AnalysisProject,
    AnalysisSettings,
    FishboneCause,
    KanoResponse,
    KanoSurvey,
    ProjectMember,
    RequirementAnalysis,
    WhyStep,
)
from needpool.core.audit import audit_record, diff, snapshot
from needpool.core.bulk import bulk_set
from needpool.core.models import AuditEntry, BackgroundJob
from needpool.customers.models import Customer
from needpool.customers.permissions import can_view_customer
from needpool.requirements import lifecycle
from needpool.requirements import workflow as flow_rules
from needpool.requirements.choices import Priority
from needpool.requirements.models import Requirement
from needpool.requirements.services import requirements_priority_set

INLINE_RECOMPUTE_LIMIT = 2000
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
FEASIBILITY_FIELDS = ("tech_difficulty", "effort_days", "cost_estimate", "resources")
SETTINGS_FIELDS = ("active_model", "matrix_cutoff", "weights_3d", "criteria", "thresholds", "require_whys_for_review")
DEFAULT_THRESHOLDS: dict[str, tuple[float, float, float]] = {
    "matrix_3d": (75, 50, 25),
    "value_cost": (2, 1, 0.5),
    "weighted": (75, 50, 25),
    "rice": (100, 30, 10),
}
_ONE_TO_FIVE = ("urgency_score", "importance_score", "resource_cost", "value_score", "cost_score")
MAX_WHYS = 10
# The largest values the columns hold (and RICE accepts): bigger ones would fail on PostgreSQL.
MAX_REACH = 10**9
MAX_EFFORT = Decimal("999999.99")
MAX_EFFORT_DAYS = Decimal("9999999.9")


def _whole(value: Any) -> int:
    """An integer from an int or a numeric string; 2.5, True, NaN and infinity are refused (ValueError)."""
    if isinstance(value, bool):
        raise ValueError(value)
    number = Decimal(str(value).strip())
    if not number.is_finite() or number != number.to_integral_value():
        raise ValueError(value)
    return int(number)


# ------------------------------------------------------------------ settings and scoring


def analysis_settings() -> AnalysisSettings:
    found = AnalysisSettings.objects.filter(pk=1).first()
    if found is None:
        found, _created = AnalysisSettings.objects.get_or_create(pk=1)
    return found


def _thresholds(config: AnalysisSettings, model: str) -> tuple[float, float, float]:
    raw = (config.thresholds or {}).get(model)
    if raw is None:
        return DEFAULT_THRESHOLDS.get(model, (75, 50, 25))
    return (float(raw[0]), float(raw[1]), float(raw[2]))


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
            thresholds=_thresholds(config, model),
        )
    if model == PriorityModelKind.VALUE_COST:
        return scoring.value_cost(analysis.value_score, analysis.cost_score, thresholds=_thresholds(config, model))
    if model == PriorityModelKind.WEIGHTED:
        weights = {c["key"]: float(c["weight"]) for c in config.criteria or []}
        return scoring.weighted(analysis.criteria_scores or {}, weights, thresholds=_thresholds(config, model))
    if model == PriorityModelKind.RICE:
        return scoring.rice(
            analysis.reach, analysis.impact, analysis.confidence, analysis.effort, thresholds=_thresholds(config, model)
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


def _sync_requirement_priority(analysis: RequirementAnalysis, previous: str, *, actor: Any, reason: str = "") -> None:
    """Copy the effective priority to the requirement; one entered by hand stays until the analysis gives one."""
    if analysis.effective_priority or previous:
        requirements_priority_set(
            actor=actor, priorities=[(analysis.requirement_id, analysis.effective_priority)], reason=reason
        )


def _analysis_for(requirement: Requirement) -> RequirementAnalysis:
    analysis, _created = RequirementAnalysis.objects.select_for_update().get_or_create(requirement=requirement)
    return analysis


def _clean_inputs(data: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    cleaned: dict[str, Any] = {}
    for name, value in data.items():
        if value in ("", None):
            cleaned[name] = {} if name == "criteria_scores" else ("" if name == "moscow" else None)
            continue
        try:
            if name in _ONE_TO_FIVE:
                number = _whole(value)
                if not 1 <= number <= 5:
                    raise ValueError
                cleaned[name] = number
            elif name == "reach":
                cleaned[name] = _whole(value)
                if not 0 <= cleaned[name] <= MAX_REACH:
                    raise ValueError
            elif name == "confidence":
                cleaned[name] = _whole(value)
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
def analysis_update(*, actor: Any, requirement: Requirement, **data: Any) -> RequirementAnalysis:
    """Change a requirement's scoring inputs, pain points or value statement; recompute its priority."""
    if not permissions.can_score(actor, requirement):
        raise permissions.deny(_("只有产品经理及以上角色可以修改评分。"))
    unknown = set(data) - set(SCORE_FIELDS) - set(INSIGHT_FIELDS)
    if unknown:
        raise ValidationError({name: _("未知字段。") for name in sorted(unknown)})
    scores = _clean_inputs({k: v for k, v in data.items() if k in SCORE_FIELDS})
    analysis = _analysis_for(requirement)
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
def priority_override(*, actor: Any, requirement: Requirement, priority: str, reason: str) -> RequirementAnalysis:
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
    analysis = _analysis_for(requirement)
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


def _validate_settings(data: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    if "active_model" in data and data["active_model"] not in PriorityModelKind.values:
        errors["active_model"] = _("未知的优先级模型。")
    if "matrix_cutoff" in data:
        try:
            data["matrix_cutoff"] = int(data["matrix_cutoff"])
            if not 1 <= data["matrix_cutoff"] <= 5:
                raise ValueError
        except (TypeError, ValueError):
            errors["matrix_cutoff"] = _("分界值必须是 1 到 5 的整数。")
    if "weights_3d" in data:
        weights = data["weights_3d"] or {}
        try:
            values = {k: float(weights[k]) for k in ("importance", "urgency", "cost") if k in weights}
            if set(weights) - {"importance", "urgency", "cost"} or any(
                not math.isfinite(v) or v < 0 for v in values.values()
            ):
                raise ValueError
            if values and sum(values.values()) <= 0:
                raise ValueError
            data["weights_3d"] = values
        except (TypeError, ValueError, AttributeError):
            errors["weights_3d"] = _("三维权重只能包含 importance、urgency、cost，不能为负，且总和必须大于 0。")
    if "criteria" in data:
        try:
            criteria = [
                {
                    "key": str(c["key"]).strip(),
                    "label": str(c.get("label") or c["key"]).strip(),
                    "weight": float(c["weight"]),
                }
                for c in data["criteria"]
            ]
            keys = [c["key"] for c in criteria]
            if not criteria or any(not k for k in keys) or len(set(keys)) != len(keys):
                raise ValueError
            weights = [float(c["weight"]) for c in criteria]  # type: ignore[arg-type]
            if any(not math.isfinite(w) or w < 0 for w in weights) or sum(weights) <= 0:
                raise ZeroDivisionError
            data["criteria"] = criteria
        except ZeroDivisionError:
            errors["criteria"] = _("权重不能为负，且总和必须大于 0。")
        except (TypeError, ValueError, KeyError, AttributeError):
            errors["criteria"] = _("评分维度必须有不重复的键和数字权重。")
    if "thresholds" in data:
        try:
            thresholds = {}
            for model, values in (data["thresholds"] or {}).items():
                if model not in DEFAULT_THRESHOLDS:
                    raise ValueError
                numbers = [float(v) for v in values]
                if len(numbers) != 3 or not all(map(math.isfinite, numbers)):
                    raise ValueError
                if not numbers[0] >= numbers[1] >= numbers[2]:
                    raise ValueError
                thresholds[model] = numbers
            data["thresholds"] = thresholds
        except (TypeError, ValueError, AttributeError):
            errors["thresholds"] = _("阈值必须是从高到低的三个数字（P0、P1、P2 的下限）。")
    if errors:
        raise ValidationError(errors)
    return data


@transaction.atomic
def analysis_settings_update(*, actor: Any, **data: Any) -> tuple[AnalysisSettings, BackgroundJob | None]:
    """Change the active model or its weights; recompute every priority (a background job for big pools)."""
    if not permissions.can_change_settings(actor):
        raise permissions.deny(_("只有产品经理及以上角色可以修改优先级模型。"))
    unknown = set(data) - set(SETTINGS_FIELDS)
    if unknown:
        raise ValidationError({name: _("未知字段。") for name in sorted(unknown)})
    data = _validate_settings(dict(data))
    config = AnalysisSettings.objects.select_for_update().get(pk=analysis_settings().pk)
    before = snapshot(config, SETTINGS_FIELDS)
    for name, value in data.items():
        setattr(config, name, value)
    changes = diff(before, snapshot(config, SETTINGS_FIELDS))
    if not changes:
        return config, None
    config.version = F("version") + 1
    config.save()
    config.refresh_from_db()
    audit_record(actor=actor, obj=config, action=AuditEntry.Action.UPDATE, changes=changes)
    scoring_changed = set(changes) - {"require_whys_for_review"}
    if not scoring_changed:
        return config, None
    pending = RequirementAnalysis.objects.count()
    if pending <= INLINE_RECOMPUTE_LIMIT:
        priorities_recompute(version=config.version)
        return config, None
    job = BackgroundJob.objects.create(
        kind="priority_recompute",
        total=pending,
        created_by=actor if getattr(actor, "pk", None) else None,
        params={"version": config.version},
        message=_("重新计算优先级"),
    )
    from needpool.analysis.tasks import recompute_priorities

    transaction.on_commit(lambda: recompute_priorities(job.pk))
    return config, job


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


# ------------------------------------------------------------------ root cause


@transaction.atomic
def whys_set(
    *, actor: Any, requirement: Requirement, steps: Sequence[tuple[str, str]], root_cause: str
) -> list[WhyStep]:
    """Replace the 5-Whys chain: ordered (why, because) pairs ending in a root cause."""
    if not permissions.can_edit_root_cause(actor, requirement):
        raise permissions.deny()
    cleaned = [((q or "").strip(), (a or "").strip()) for q, a in steps]
    cleaned = [(q, a) for q, a in cleaned if q or a]
    root_cause = (root_cause or "").strip()
    errors: dict[str, str] = {}
    if len(cleaned) > MAX_WHYS:
        errors["steps"] = _("最多 %(n)s 个“为什么”。") % {"n": MAX_WHYS}
    for index, (question, answer) in enumerate(cleaned, start=1):
        if not question or not answer:
            errors["steps"] = _("第 %(n)s 步的“为什么”和“因为”都要填写。") % {"n": index}
            break
        if len(question) > 300 or len(answer) > 300:
            errors["steps"] = _("第 %(n)s 步超过 300 个字符。") % {"n": index}
            break
    if cleaned and not root_cause:
        errors["root_cause"] = _("5 Whys 必须以根本原因结束。")
    if len(root_cause) > 2000:
        errors["root_cause"] = _("根本原因不能超过 2000 个字符。")
    if errors:
        raise ValidationError(errors)
    analysis = _analysis_for(requirement)
    before = {"whys": [f"{w.question} → {w.answer}" for w in requirement.whys.all()], "root_cause": analysis.root_cause}
    WhyStep.objects.filter(requirement=requirement).delete()
    made = WhyStep.objects.bulk_create(
        WhyStep(requirement=requirement, position=i, question=q, answer=a) for i, (q, a) in enumerate(cleaned, start=1)
    )
    analysis.root_cause = root_cause
    analysis.save(update_fields=["root_cause", "updated_at"])
    after = {"whys": [f"{q} → {a}" for q, a in cleaned], "root_cause": root_cause}
    changes = diff(before, after)
    if changes:
        audit_record(
            actor=actor,
            obj=requirement,
            action=AuditEntry.Action.UPDATE,
            changes={f"analysis.{k}": v for k, v in changes.items()},
        )
    return made


@transaction.atomic
def fishbone_set(*, actor: Any, requirement: Requirement, causes: Iterable[tuple[str, str]]) -> list[FishboneCause]:
    """Replace the fishbone causes: (category, text) with categories 人 机 料 法 环 (测)."""
    if not permissions.can_edit_root_cause(actor, requirement):
        raise permissions.deny()
    cleaned = [(c, (t or "").strip()) for c, t in causes if (t or "").strip()]
    for category, text in cleaned:
        if category not in FishboneCategory.values:
            raise ValidationError({"causes": _("未知的鱼骨图类别：%(c)s。") % {"c": category}})
        if len(text) > 200:
            raise ValidationError({"causes": _("每条原因不能超过 200 个字符。")})
    if len(cleaned) > 60:
        raise ValidationError({"causes": _("原因太多（最多 60 条）。")})
    before = sorted(f"{c.category}:{c.text}" for c in requirement.fishbone.all())
    FishboneCause.objects.filter(requirement=requirement).delete()
    made = FishboneCause.objects.bulk_create(
        FishboneCause(requirement=requirement, category=c, text=t, position=i) for i, (c, t) in enumerate(cleaned)
    )
    after = sorted(f"{c}:{t}" for c, t in cleaned)
    if before != after:
        audit_record(
            actor=actor,
            obj=requirement,
            action=AuditEntry.Action.UPDATE,
            changes={"analysis.fishbone": (", ".join(before), ", ".join(after))},
        )
    return made


def whys_required_missing(requirement: Requirement, target_key: str = "in_review") -> str | None:
    """The refusal for entering review while a P0/P1 requirement lacks its 5 Whys (the ``root_cause`` gate)."""
    from needpool.analysis import lifecycle as analysis_lifecycle

    move = flow_rules.Move(
        source_key="",
        source_label="",
        source_category="",
        target_key=target_key,
        target_label="",
        target_category="",
    )
    gate = analysis_lifecycle.ROOT_CAUSE_GATE
    facts = {name: lifecycle.fact(name, requirement) for name in gate.facts}
    return gate.check(move, facts)


# ------------------------------------------------------------------ feasibility and compliance


@transaction.atomic
def feasibility_update(*, actor: Any, requirement: Requirement, **data: Any) -> RequirementAnalysis:
    if not permissions.can_estimate(actor, requirement):
        raise permissions.deny(_("只有技术人员和产品经理可以评估可行性。"))
    unknown = set(data) - set(FEASIBILITY_FIELDS)
    if unknown:
        raise ValidationError({name: _("未知字段。") for name in sorted(unknown)})
    errors: dict[str, str] = {}
    cleaned: dict[str, Any] = {}
    for name, value in data.items():
        if value in ("", None):
            cleaned[name] = "" if name == "resources" else None
            continue
        try:
            if name == "tech_difficulty":
                cleaned[name] = _whole(value)
                if not 1 <= cleaned[name] <= 5:
                    raise ValueError
            elif name in ("effort_days", "cost_estimate"):
                cleaned[name] = Decimal(str(value))
                limit = MAX_EFFORT_DAYS if name == "effort_days" else Decimal("999999999")
                if cleaned[name] < 0 or cleaned[name] > limit:
                    raise ValueError
            else:
                cleaned[name] = str(value).strip()[:2000]
        except (TypeError, ValueError, InvalidOperation):
            errors[name] = {
                "tech_difficulty": _("技术难度必须是 1 到 5 的整数。"),
            }.get(name, _("必须是不小于 0 的数字。"))
    if errors:
        raise ValidationError(errors)
    analysis = _analysis_for(requirement)
    before = snapshot(analysis, FEASIBILITY_FIELDS)
    for name, value in cleaned.items():
        setattr(analysis, name, value)
    analysis.save()
    changes = diff(before, snapshot(analysis, FEASIBILITY_FIELDS))
    if changes:
        audit_record(
            actor=actor,
            obj=requirement,
            action=AuditEntry.Action.UPDATE,
            changes={f"analysis.{k}": v for k, v in changes.items()},
        )
    return analysis


@transaction.atomic
def compliance_sign_off(*, actor: Any, requirement: Requirement, status: str, note: str = "") -> RequirementAnalysis:
    """A compliance officer approves or rejects; only the compliance role may sign."""
    if not permissions.can_sign_compliance(actor, requirement):
        raise permissions.deny(_("只有合规人员可以签署合规检查。"))
    if status not in (ComplianceStatus.APPROVED, ComplianceStatus.REJECTED):
        raise ValidationError({"status": _("合规结论必须是“合规通过”或“不合规”。")})
    note = (note or "").strip()
    if status == ComplianceStatus.REJECTED and not note:
        raise ValidationError({"note": _("判定不合规时必须说明原因。")})
    if len(note) > 500:
        raise ValidationError({"note": _("意见不能超过 500 个字符。")})
    analysis = _analysis_for(requirement)
    before = analysis.compliance_status
    analysis.compliance_status = status
    analysis.compliance_note = note
    analysis.compliance_by = actor
    analysis.compliance_at = timezone.now()
    analysis.save()
    audit_record(
        actor=actor,
        obj=requirement,
        action=AuditEntry.Action.UPDATE,
        changes={
            "analysis.compliance_status": (before, status),
            **({"analysis.compliance_note": note} if note else {}),
        },
    )
    return analysis


# ------------------------------------------------------------------ Kano


@transaction.atomic
def kano_survey_create(
    *, actor: Any, requirement: Requirement, functional_question: str, dysfunctional_question: str
) -> KanoSurvey:
    if not permissions.can_edit_kano_survey(actor, requirement):
        raise permissions.deny()
    functional_question = (functional_question or "").strip()
    dysfunctional_question = (dysfunctional_question or "").strip()
    errors = {}
    if not functional_question:
        errors["functional_question"] = _("请填写正向问题，例如“如果提供此功能，您觉得如何？”")
    if not dysfunctional_question:
        errors["dysfunctional_question"] = _("请填写反向问题，例如“如果不提供此功能，您觉得如何？”")
    if errors:
        raise ValidationError(errors)
    survey, created = KanoSurvey.objects.get_or_create(
        requirement=requirement,
        defaults={
            "functional_question": functional_question[:300],
            "dysfunctional_question": dysfunctional_question[:300],
            "created_by": actor,
        },
    )
    if not created:
        survey.functional_question = functional_question[:300]
        survey.dysfunctional_question = dysfunctional_question[:300]
        survey.save()
    audit_record(
        actor=actor, obj=requirement, action=AuditEntry.Action.UPDATE, changes={"kano_survey": functional_question}
    )
    return survey


@transaction.atomic
def kano_answer(
    *,
    survey: KanoSurvey,
    functional: str,
    dysfunctional: str,
    actor: Any = None,
    customer: Customer | None = None,
    respondent: str = "",
) -> KanoResponse:
    """Record one answer pair: by a customer through the public link (no actor) or by staff on their behalf."""
    if actor is not None and not permissions.can_enter_kano_answer(actor, survey):
        raise permissions.deny()
    # A survey left on a merged requirement takes no more answers: the survivor's survey is the one that counts.
    if (not survey.is_open or survey.requirement.merged_into_id) and actor is None:
        raise ValidationError({"survey": _("该问卷已关闭。")})
    errors = {}
    if functional not in KanoAnswer.values:
        errors["functional"] = _("请为正向问题选择一个回答。")
    if dysfunctional not in KanoAnswer.values:
        errors["dysfunctional"] = _("请为反向问题选择一个回答。")
    respondent = (respondent or "").strip()
    if len(respondent) > 80:
        errors["respondent"] = _("姓名不能超过 80 个字符。")
    if errors:
        raise ValidationError(errors)
    if actor is not None and customer is not None and not can_view_customer(actor, customer):
        raise ValidationError({"customer": _("客户不存在或您无权访问。")})
    if customer is not None and KanoResponse.objects.filter(survey=survey, customer=customer).exists():
        raise ValidationError({"customer": _("该客户已经回答过此问卷。")})
    return KanoResponse.objects.create(
        survey=survey,
        customer=customer,
        respondent=respondent,
        functional=functional,
        dysfunctional=dysfunctional,
        category=scoring.kano_classify(functional, dysfunctional),
        entered_by=actor,
    )


# ------------------------------------------------------------------ analysis projects

SCOPE_KEYS = ("industries", "regions", "segments", "top_n_by_order", "period_start", "period_end")


def _clean_scope(scope: dict[str, Any]) -> dict[str, Any]:
    unknown = set(scope) - set(SCOPE_KEYS)
    if unknown:
        raise ValidationError({"scope": _("未知的范围条件：%(keys)s。") % {"keys": ", ".join(sorted(unknown))}})
    cleaned: dict[str, Any] = {}
    for key in ("industries", "regions", "segments"):
        values = scope.get(key) or []
        if isinstance(values, str):
            values = [v for v in values.replace("，", ",").split(",")]
        cleaned[key] = sorted({str(v).strip() for v in values if str(v).strip()})
    top_n = scope.get("top_n_by_order")
    if top_n not in (None, ""):
        try:
            cleaned["top_n_by_order"] = int(top_n)
            if not 1 <= cleaned["top_n_by_order"] <= 10000:
                raise ValueError
        except (TypeError, ValueError) as exc:
            raise ValidationError({"scope": _("按订单金额取前 N 名：N 必须在 1 到 10000 之间。")}) from exc
    for key in ("period_start", "period_end"):
        value = scope.get(key)
        if value in (None, ""):
            continue
        try:
            cleaned[key] = (value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))).isoformat()
        except ValueError as exc:
            raise ValidationError({"scope": _("日期格式应为 YYYY-MM-DD。")}) from exc
    if cleaned.get("period_start") and cleaned.get("period_end") and cleaned["period_start"] > cleaned["period_end"]:
        raise ValidationError({"scope": _("范围的开始日期不能晚于结束日期。")})
    return {k: v for k, v in cleaned.items() if v not in ([], None, "")}


def _clean_members(members: Iterable[tuple[User, str]]) -> list[tuple[User, str]]:
    seen: dict[int, tuple[User, str]] = {}
    for user, duty in members:
        if len((duty or "").strip()) > 200:
            raise ValidationError({"members": _("职责不能超过 200 个字符。")})
        seen[user.pk] = (user, (duty or "").strip())
    return list(seen.values())


@transaction.atomic
def project_create(
    *,
    actor: Any,
    name: str,
    goal: str,
    leader: User,
    start_date: dt.date,
    end_date: dt.date,
    scope: dict[str, Any] | None = None,
    members: Iterable[tuple[User, str]] = (),
) -> AnalysisProject:
    if not permissions.can_create_project(actor):
        raise permissions.deny(_("只有经理和产品经理可以创建分析项目。"))
    project = AnalysisProject(
        name=(name or "").strip(),
        goal=(goal or "").strip(),
        leader=leader,
        start_date=start_date,
        end_date=end_date,
        scope=_clean_scope(scope or {}),
        created_by=actor,
    )
    if start_date and end_date and end_date < start_date:
        raise ValidationError({"end_date": _("结束日期不能早于开始日期。")})
    project.full_clean(exclude=["created_by"])
    project.save()
    ProjectMember.objects.bulk_create(
        ProjectMember(project=project, user=u, duty=d) for u, d in _clean_members(members)
    )
    audit_record(
        actor=actor,
        obj=project,
        action=AuditEntry.Action.CREATE,
        changes={"name": project.name, "scope": project.scope, "leader": str(leader)},
    )
    return project


@transaction.atomic
def project_update(*, actor: Any, project: AnalysisProject, **data: Any) -> AnalysisProject:
    """Change a project's name, goal, dates, leader, scope or members; scope changes are recorded."""
    if not permissions.can_edit_project(actor, project):
        raise permissions.deny()
    allowed = {"name", "goal", "leader", "start_date", "end_date", "scope", "members"}
    unknown = set(data) - allowed
    if unknown:
        raise ValidationError({name: _("未知字段。") for name in sorted(unknown)})
    project = AnalysisProject.objects.select_for_update().get(pk=project.pk)
    fields = ("name", "goal", "leader", "start_date", "end_date", "scope")
    before = snapshot(project, fields)
    members = data.pop("members", None)
    if "scope" in data:
        data["scope"] = _clean_scope(data["scope"] or {})
    for name, value in data.items():
        setattr(project, name, value.strip() if isinstance(value, str) else value)
    project.clean_fields(exclude=["created_by"])
    if project.end_date < project.start_date:
        raise ValidationError({"end_date": _("结束日期不能早于开始日期。")})
    project.full_clean(exclude=["created_by"])
    project.save()
    changes: dict[str, Any] = dict(diff(before, snapshot(project, fields)))
    if members is not None:
        old = sorted(f"{m.user}:{m.duty}" for m in project.members.select_related("user"))
        ProjectMember.objects.filter(project=project).delete()
        cleaned = _clean_members(members)
        ProjectMember.objects.bulk_create(ProjectMember(project=project, user=u, duty=d) for u, d in cleaned)
        new = sorted(f"{u}:{d}" for u, d in cleaned)
        if old != new:
            changes["members"] = (", ".join(old), ", ".join(new))
    if changes:
        audit_record(actor=actor, obj=project, action=AuditEntry.Action.UPDATE, changes=changes)
    return project
