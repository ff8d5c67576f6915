"""Write use-cases of the analysis desk. Atomic, permission-checked (``analysis.permissions``), audited; big
recomputes go to a job.

One module per concern: ``priority`` (scores, override, recompute), ``settings`` (the model's settings),
``root_cause`` (5 Whys, fishbone), ``feasibility`` (and compliance), ``kano``, ``projects``; ``config``
reads the settings row. The names other apps and tests use are re-exported here.
"""

from __future__ import annotations

from needpool.analysis.services.config import DEFAULT_THRESHOLDS, analysis_settings
from needpool.analysis.services.feasibility import (
    FEASIBILITY_FIELDS,
    MAX_EFFORT_DAYS,
    compliance_sign_off,
    feasibility_update,
)
from needpool.analysis.services.kano import kano_answer, kano_survey_create
from needpool.analysis.services.priority import (
    COMPUTED_FIELDS,
    INSIGHT_FIELDS,
    MAX_EFFORT,
    MAX_REACH,
    RECOMPUTE_BATCH,
    SCORE_FIELDS,
    analysis_update,
    priorities_recompute,
    priority_override,
    score,
)
from needpool.analysis.services.projects import SCOPE_KEYS, project_create, project_update
from needpool.analysis.services.root_cause import (
    MAX_ROOT_CAUSE_LENGTH,
    MAX_WHY_LENGTH,
    MAX_WHYS,
    fishbone_set,
    whys_required_missing,
    whys_set,
)
from needpool.analysis.services.settings import INLINE_RECOMPUTE_LIMIT, SETTINGS_FIELDS, analysis_settings_update

__all__ = [
    "COMPUTED_FIELDS",
    "DEFAULT_THRESHOLDS",
    "FEASIBILITY_FIELDS",
    "INLINE_RECOMPUTE_LIMIT",
    "INSIGHT_FIELDS",
    "MAX_EFFORT",
    "MAX_EFFORT_DAYS",
    "MAX_REACH",
    "MAX_ROOT_CAUSE_LENGTH",
    "MAX_WHYS",
    "MAX_WHY_LENGTH",
    "RECOMPUTE_BATCH",
    "SCOPE_KEYS",
    "SCORE_FIELDS",
    "SETTINGS_FIELDS",
    "analysis_settings",
    "analysis_settings_update",
    "analysis_update",
    "compliance_sign_off",
    "feasibility_update",
    "fishbone_set",
    "kano_answer",
    "kano_survey_create",
    "priorities_recompute",
    "priority_override",
    "project_create",
    "project_update",
    "score",
    "whys_required_missing",
    "whys_set",
]
