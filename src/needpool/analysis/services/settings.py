"""Changing the priority model's settings; a change recomputes every priority (a job for big pools)."""

from __future__ import annotations

import math
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from needpool.accounts.models import User
from needpool.analysis import permissions
from needpool.analysis.choices import PriorityModelKind
from needpool.analysis.models import AnalysisSettings, RequirementAnalysis
from needpool.analysis.services.config import DEFAULT_THRESHOLDS, analysis_settings
from needpool.analysis.services.priority import priorities_recompute
from needpool.core.audit import audit_record, diff, snapshot
from needpool.core.models import AuditEntry, BackgroundJob

INLINE_RECOMPUTE_LIMIT = 2000
SETTINGS_FIELDS = ("active_model", "matrix_cutoff", "weights_3d", "criteria", "thresholds", "require_whys_for_review")


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
def analysis_settings_update(*, actor: User, **data: Any) -> tuple[AnalysisSettings, BackgroundJob | None]:
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
