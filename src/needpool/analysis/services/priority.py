"""Scores and priority: scoring inputs, the manual override, and the recompute of every priority."""

from __future__ import annotations

import itertools
import json
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Min
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

# Rows per batch (one transaction and one progress step each): scored in SQL, or in Python (weighted, RICE).
RECOMPUTE_BATCH = 10000
RECOMPUTE_BATCH_PYTHON = 2000
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


def computed_values(analysis: RequirementAnalysis, config: AnalysisSettings) -> tuple[str, float | None, str, Any, str]:
    """What the active model makes of one requirement's inputs: (model, score, priority, parts, error).

    The reference for every write of the computed priority: a single edit stores it, and the recompute
    job builds its SQL from it (see ``_lookup``), so the two cannot differ.
    """
    try:
        result = score(analysis, config)
    except scoring.ScoringError as exc:
        return (config.active_model, None, "", {}, f"{exc.field}: {exc.message}"[:200])
    return (result.model, result.score, result.priority, result.parts, "")


def _apply_score(analysis: RequirementAnalysis, config: AnalysisSettings) -> None:
    (
        analysis.computed_model,
        analysis.computed_score,
        analysis.computed_priority,
        analysis.computed_parts,
        analysis.computed_error,
    ) = computed_values(analysis, config)
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


# Models whose inputs take few values. Every combination of them is scored once by computed_values and the
# rows are joined to that table in SQL, so a recompute is one UPDATE per batch and cannot drift from a single
# edit. "Missing" and "out of range" each give one message whatever the stored value (scoring._check_range),
# so one representative stands for each.
SMALL_MODEL_INPUTS: dict[str, tuple[str, ...]] = {
    PriorityModelKind.MATRIX: ("urgency_score", "importance_score"),
    PriorityModelKind.MATRIX_3D: ("importance_score", "urgency_score", "resource_cost"),
    PriorityModelKind.VALUE_COST: ("value_score", "cost_score"),
    PriorityModelKind.MOSCOW: ("moscow",),
}
_KEY_BASE = 8  # more than the values one input can take (missing, out of range, 1–5)


def _domain(name: str) -> list[Any]:
    """One representative per distinct outcome of an input, in the order of its code (0, 1, …)."""
    if name == "moscow":
        return ["", *scoring.MOSCOW]
    low, high = scoring.SCORE_RANGE
    return [None, low - 1, *range(low, high + 1)]


def _code_sql(name: str, table: str) -> tuple[str, list[Any]]:
    """SQL giving an input's code: its representative's index in ``_domain``."""
    column = f"{table}.{connection.ops.quote_name(name)}"
    if name == "moscow":
        categories = list(scoring.MOSCOW)
        whens = " ".join(f"WHEN %s THEN {i + 1}" for i in range(len(categories)))
        return f"CASE {column} {whens} ELSE 0 END", categories
    low, high = scoring.SCORE_RANGE
    return (
        f"CASE WHEN {column} IS NULL THEN 0 WHEN {column} BETWEEN %s AND %s THEN {column} - %s + 2 ELSE 1 END",
        [low, high, low],
    )


def _key_sql(names: tuple[str, ...], table: str) -> tuple[str, list[Any]]:
    terms, params = [], []
    for position, name in enumerate(names):
        sql, more = _code_sql(name, table)
        terms.append(f"{_KEY_BASE**position} * ({sql})")
        params.extend(more)
    return " + ".join(terms), params


def _lookup(config: AnalysisSettings, names: tuple[str, ...]) -> tuple[str, list[Any]]:
    """A derived table ``l(k, model, score, priority, parts, error)``: computed_values of every input combination."""
    parts_field = RequirementAnalysis._meta.get_field("computed_parts")
    params: list[Any] = []
    domains = [list(enumerate(_domain(name))) for name in names]
    combinations = list(itertools.product(*domains))
    for combination in combinations:
        analysis = RequirementAnalysis(**{name: value for name, (_code, value) in zip(names, combination, strict=True)})
        model, result, priority, parts, error = computed_values(analysis, config)
        key = sum(code * _KEY_BASE**position for position, (code, _value) in enumerate(combination))
        params.extend([key, model, result, priority, parts_field.get_db_prep_save(parts, connection), error])
    if connection.vendor == "postgresql":
        one = "(%s::integer, %s::varchar, %s::double precision, %s::varchar, %s::jsonb, %s::varchar)"
    else:
        one = "(%s, %s, %s, %s, %s, %s)"
    values = ", ".join([one] * len(combinations))
    return (
        "(SELECT column1 AS k, column2 AS model, column3 AS score, column4 AS priority, column5 AS parts, "
        f"column6 AS error FROM (VALUES {values}) AS v) AS l",
        params,
    )


def _next_start(after: int, version: int) -> int | None:
    """The first primary key after ``after`` still below ``version``, or None when none is left."""
    found = RequirementAnalysis.objects.filter(pk__gt=after, computed_version__lt=version).aggregate(first=Min("pk"))
    return cast("int | None", found["first"])


def _recompute_batch_sql(
    config: AnalysisSettings,
    names: tuple[str, ...],
    lookup: tuple[str, list[Any]],
    *,
    last_pk: int,
    end: int,
    version: int,
) -> tuple[int, list[tuple[int, str]]]:
    """Score one batch in SQL; returns (rows written, requirements whose priority follows)."""
    qn = connection.ops.quote_name
    table = qn(RequirementAnalysis._meta.db_table)
    requirements = qn(Requirement._meta.db_table)
    lookup_sql, lookup_params = lookup
    key, key_params = _key_sql(names, "t")
    where = "t.id > %s AND t.id <= %s AND t.computed_version < %s"
    where_params = [last_pk, end, version]
    effective = "CASE WHEN t.override_priority <> '' THEN t.override_priority ELSE l.priority END"
    # The rows drive the joins (CROSS JOIN keeps that order on SQLite; the table of combinations is small).
    # A priority entered by hand stays until the analysis gives one (as in analysis_update); only
    # requirements whose priority differs are handed on.
    follow_sql = (
        f"SELECT t.requirement_id, {effective} FROM {table} AS t CROSS JOIN {lookup_sql} "
        f"CROSS JOIN {requirements} AS r WHERE l.k = {key} AND r.id = t.requirement_id AND {where} "
        f"AND r.priority <> {effective} "
        f"AND ({effective} <> '' OR t.override_priority <> '' OR t.computed_priority <> '') ORDER BY t.id"
    )
    if connection.vendor == "postgresql":
        assignments = (
            "computed_model = l.model, computed_score = l.score, computed_priority = l.priority, "
            "computed_parts = l.parts, computed_error = l.error, computed_version = %s"
        )
        update_sql = f"UPDATE {table} AS t SET {assignments} FROM {lookup_sql} WHERE l.k = {key} AND {where}"
    else:
        # SQLite would scan the batch once per combination in a joined UPDATE; a row-value subquery
        # looks each row's combination up through an automatic index instead.
        update_sql = (
            f"UPDATE {table} AS t SET ({', '.join(COMPUTED_FIELDS)}) = "
            f"(SELECT l.model, l.score, l.priority, l.parts, l.error, %s FROM {lookup_sql} WHERE l.k = {key}) "
            f"WHERE {where}"
        )
    update_params = [config.version, *lookup_params, *key_params, *where_params]
    with connection.cursor() as cursor:
        cursor.execute(follow_sql, [*lookup_params, *key_params, *where_params])
        follow = [(int(pk), str(priority)) for pk, priority in cursor.fetchall()]
        cursor.execute(update_sql, update_params)
        written = cursor.rowcount
    return written, follow


def _recompute_batch_python(
    config: AnalysisSettings, *, last_pk: int, end: int, version: int
) -> tuple[int, list[tuple[int, str]]]:
    """Score one batch row by row (models over continuous inputs: weighted, RICE); inputs read as tuples."""
    rows = RequirementAnalysis.objects.filter(pk__gt=last_pk, pk__lte=end, computed_version__lt=version).order_by("pk")
    values = rows.values_list(
        "pk", "requirement_id", "override_priority", "computed_priority", "requirement__priority", *SCORE_FIELDS
    )
    memo: dict[str, tuple[str, float | None, str, Any, str]] = {}
    written: list[tuple[Any, ...]] = []
    follow: list[tuple[int, str]] = []
    for pk, requirement_id, override, previous, current, *inputs in values:
        known = json.dumps(inputs, sort_keys=True, default=str)
        if known not in memo:
            memo[known] = computed_values(RequirementAnalysis(**dict(zip(SCORE_FIELDS, inputs, strict=True))), config)
        result = memo[known]
        written.append((pk, *result, config.version))
        effective = override or result[2]
        if (effective or override or previous) and current != effective:
            follow.append((requirement_id, effective))
    bulk_set(RequirementAnalysis, COMPUTED_FIELDS, written)
    return len(written), follow


def priorities_recompute(*, version: int, job: BackgroundJob | None = None, batch_size: int | None = None) -> int:
    """Bring every requirement's computed priority to settings ``version``, batch by batch; safe to rerun.

    Per batch (a range of primary keys): the models over 1–5 scores and MoSCoW are one UPDATE that looks
    each row's inputs up in a table of every combination scored by computed_values (the function a
    single edit uses); weighted scoring and RICE are scored in Python from the inputs read as tuples and
    written with one joined UPDATE (core.bulk). Requirements whose priority must follow the effective
    one go through requirements_priority_set (audit and notifications), and
    the job's progress is written after every batch.
    """
    config = analysis_settings()
    names = SMALL_MODEL_INPUTS.get(config.active_model)
    size = batch_size or (RECOMPUTE_BATCH if names else RECOMPUTE_BATCH_PYTHON)
    lookup = _lookup(config, names) if names else None
    done = 0
    start = _next_start(0, version)
    while start is not None:
        # Batches are ranges of primary keys (no query to find where one ends); a range without a row
        # left jumps to the next row.
        last_pk, end = start - 1, start - 1 + size
        with transaction.atomic():
            if names and lookup:
                written, follow = _recompute_batch_sql(config, names, lookup, last_pk=last_pk, end=end, version=version)
            else:
                written, follow = _recompute_batch_python(config, last_pk=last_pk, end=end, version=version)
            if follow:
                requirements_priority_set(actor=None, priorities=follow)
            if written:
                done += written
                if job is not None:
                    BackgroundJob.objects.filter(pk=job.pk).update(
                        done=F("done") + written, status=BackgroundJob.Status.RUNNING
                    )
        start = end + 1 if written else _next_start(end, version)
    return done
