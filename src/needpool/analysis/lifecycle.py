"""What the analysis desk contributes to a requirement's life (registered in ``AnalysisConfig.ready()``).

- Facts: ``root_cause_required`` (the setting), ``root_cause_complete`` (a 5-Whys chain ending in a root
  cause), ``priority_from_analysis`` (the priority comes from scores or an override, so the requirement
  form may not change it).
- The gate ``root_cause``: a P0/P1 requirement enters a status carrying it (评审中 in the default flow)
  only with its root cause found.
- A merge participant: Kano surveys and answers follow the feedback to the survivor of a merge.
- A dossier section ``analysis``: scores and priority, the 5-Whys chain and root cause, the fishbone's
  categories, in the requirement's archive.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import Subquery
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from needpool.analysis.models import KanoResponse, KanoSurvey, RequirementAnalysis
from needpool.analysis.services.config import analysis_settings
from needpool.requirements import lifecycle
from needpool.requirements import workflow as flow_rules
from needpool.requirements.choices import Priority
from needpool.requirements.models import Requirement

ROOT_CAUSE_PRIORITIES = (Priority.P0, Priority.P1)


def root_cause_required(requirement: Requirement) -> bool:
    return bool(analysis_settings().require_whys_for_review)


def root_cause_complete(requirement: Requirement) -> bool:
    analysis = RequirementAnalysis.objects.filter(requirement=requirement).only("root_cause").first()
    return bool(requirement.whys.exists() and analysis is not None and analysis.root_cause.strip())


def priority_from_analysis(requirement: Requirement) -> bool:
    return (
        RequirementAnalysis.objects.filter(requirement=requirement)
        .exclude(computed_priority="", override_priority="")
        .exists()
    )


def check_root_cause(move: flow_rules.Move, facts: flow_rules.Facts) -> str | None:
    """Pure: the refusal for a P0/P1 requirement without its root cause, when the setting requires it."""
    priority = facts.get("priority")
    if priority not in ROOT_CAUSE_PRIORITIES or not facts.get("root_cause_required"):
        return None
    if facts.get("root_cause_complete"):
        return None
    if move.target_key == "in_review":
        return _("%(priority)s 需求进入评审前必须完成 5 Whys 根因分析（以根本原因结束）。") % {"priority": priority}
    return _("%(priority)s 需求进入“%(target)s”前必须完成 5 Whys 根因分析（以根本原因结束）。") % {
        "priority": priority,
        "target": move.target_label,
    }


ROOT_CAUSE_GATE = flow_rules.Gate(
    key=flow_rules.GATE_ROOT_CAUSE,
    label=lambda: _("P0/P1 需完成 5 Whys 根因分析"),
    check=check_root_cause,
    facts=("priority", "root_cause_required", "root_cause_complete"),
)


# ---------------------------------------------------------------- merge participant: Kano


def _move_kano(survivor: Requirement, merged_ids: list[int]) -> dict[str, Any]:
    """Kano answers follow the feedback: the survivor takes the first survey it lacks, and others' answers."""
    surveys = {
        s.requirement_id: s
        for s in KanoSurvey.objects.select_for_update().filter(requirement_id__in=[survivor.pk, *merged_ids])
    }
    target = surveys.get(survivor.pk)
    repointed: dict[str, int] = {}
    answers: dict[str, list[int]] = {}
    for origin in merged_ids:
        survey = surveys.get(origin)
        if survey is None:
            continue
        if target is None:
            survey.requirement = survivor
            survey.save(update_fields=["requirement", "updated_at"])
            repointed[str(origin)] = survey.pk
            target = survey
            continue
        answered = KanoResponse.objects.filter(survey=target, customer__isnull=False).values("customer_id")
        movable = list(
            KanoResponse.objects.filter(survey=survey)
            .exclude(customer_id__in=Subquery(answered))
            .values_list("pk", flat=True)
        )
        if movable:
            KanoResponse.objects.filter(pk__in=movable).update(survey=target)
            answers[str(origin)] = movable
    return {"kano_survey": repointed, "kano_responses": answers}


def _undo_kano(survivor: Requirement, moved: Mapping[str, Any], left: dict[str, list[int]]) -> None:

    # Answers first: they moved into the survivor's survey, which may itself be one that goes back.
    target = KanoSurvey.objects.filter(requirement_id=survivor.pk).first()
    for origin, ids in (moved.get("kano_responses") or {}).items():
        home = KanoSurvey.objects.filter(requirement_id=int(origin)).first()
        back: list[int] = []
        if home is not None and target is not None:
            answered = KanoResponse.objects.filter(survey=home, customer__isnull=False).values("customer_id")
            back = list(
                KanoResponse.objects.filter(pk__in=ids, survey=target)
                .exclude(customer_id__in=Subquery(answered))
                .values_list("pk", flat=True)
            )
            KanoResponse.objects.filter(pk__in=back).update(survey=home)
        stayed = sorted(set(ids) - set(back))
        if stayed:
            left.setdefault("kano_responses", []).extend(stayed)
    for origin, survey_pk in (moved.get("kano_survey") or {}).items():
        if KanoSurvey.objects.filter(requirement_id=int(origin)).exists():
            left.setdefault("kano_survey", []).append(survey_pk)
            continue
        if not KanoSurvey.objects.filter(pk=survey_pk, requirement_id=survivor.pk).update(requirement_id=int(origin)):
            left.setdefault("kano_survey", []).append(survey_pk)


def _count_kano(moved: Mapping[str, Any]) -> int:
    return sum(len(ids) for ids in (moved.get("kano_responses") or {}).values()) + len(moved.get("kano_survey") or {})


KANO_MERGE = lifecycle.MergeParticipant(
    key="kano",
    labels={"kano_survey": lambda: _("Kano 问卷"), "kano_responses": lambda: _("Kano 回答")},
    move=_move_kano,
    undo=_undo_kano,
    count=_count_kano,
)


# ---------------------------------------------------------------- the archive's analysis section


def dossier_context(requirement: Requirement, user: Any) -> dict[str, Any] | None:
    """Scores and priority, 5 Whys and root cause, fishbone by category; None when nothing was analysed."""
    from needpool.analysis.choices import FishboneCategory
    from needpool.analysis.selectors import analysis_of, fishbone_of, whys_of

    analysis = analysis_of(requirement)
    whys = whys_of(requirement)
    fishbone = fishbone_of(requirement)
    if analysis.pk is None and not whys and not fishbone:
        return None
    labels = dict(FishboneCategory.choices)
    scores = [
        (str(getattr(analysis._meta.get_field(name), "verbose_name", name)), getattr(analysis, name))
        for name in (
            "urgency_score",
            "importance_score",
            "resource_cost",
            "value_score",
            "cost_score",
            "reach",
            "impact",
            "confidence",
            "effort",
        )
        if getattr(analysis, name) is not None
    ]
    return {
        "analysis": analysis,
        "scores": scores,
        "whys": whys,
        "fishbone": [
            {"category": key, "label": labels.get(key, key), "causes": causes} for key, causes in fishbone.items()
        ],
    }


ANALYSIS_DOSSIER_SECTION = lifecycle.Section(
    key="analysis",
    label=lambda: _("需求分析"),
    order=10,
    template="loop/dossier_analysis.html",
    context=dossier_context,
    places=frozenset({"dossier"}),
)


def register() -> None:
    lifecycle.register_fact("root_cause_required", root_cause_required)
    lifecycle.register_fact("root_cause_complete", root_cause_complete)
    lifecycle.register_fact("priority_from_analysis", priority_from_analysis)
    lifecycle.register_gate(ROOT_CAUSE_GATE)
    lifecycle.register_merge_participant(KANO_MERGE)
    lifecycle.register_section(ANALYSIS_DOSSIER_SECTION)
    lifecycle.register_history_labels(history_labels())
    lifecycle.register_history_values(history_values())


def history_labels() -> dict[str, Any]:
    """The names of what the desk writes on a requirement's change log (``analysis.<field>``)."""
    labels: dict[str, Any] = {
        f"analysis.{field.name}": field.verbose_name
        for field in RequirementAnalysis._meta.get_fields()
        if hasattr(field, "verbose_name") and not field.is_relation
    }
    labels.update(
        {
            "analysis.whys": gettext_lazy("5 Whys"),
            "analysis.fishbone": gettext_lazy("鱼骨图"),
            "analysis.computed_version": gettext_lazy("评分规则版本"),
            "analysis.override_by": gettext_lazy("调整人"),
            "analysis.override_at": gettext_lazy("调整时间"),
            "kano_survey": gettext_lazy("Kano 问卷"),
            # written by the priority override, without the ``analysis.`` prefix
            "priority_override": gettext_lazy("人工优先级"),
            "override_reason": gettext_lazy("调整理由"),
        }
    )
    return labels


def _fishbone_text(value: Any) -> str:
    """``people:培训不足, method:流程缺失`` (as stored) → ``人：培训不足；法：流程缺失``."""
    from needpool.analysis.choices import FishboneCategory

    names = dict(FishboneCategory.choices)
    parts = []
    for item in str(value).split(", "):
        category, sep, text = item.partition(":")
        parts.append(f"{names[category]}：{text}" if sep and category in names else item)
    return "；".join(parts)


def history_values() -> dict[str, Any]:
    """How the desk's stored values read: a choice's name instead of its key, the fishbone's categories."""
    formatters: dict[str, Any] = {"analysis.fishbone": _fishbone_text}
    for field in RequirementAnalysis._meta.get_fields():
        choices = dict(getattr(field, "flatchoices", None) or ())
        if choices and not field.is_relation:
            formatters[f"analysis.{field.name}"] = lambda value, names=choices: names.get(value, value)
    formatters["priority_override"] = formatters.get("analysis.override_priority", str)
    return formatters
