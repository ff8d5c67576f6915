"""Input parsing for the analysis pages; the views then call analysis.services.

One module per page group: ``desk`` (one requirement's desk), ``kano``, ``settings``, ``projects``; ``common``
holds the shared fields and helpers. The names the views use are re-exported here.
"""

from __future__ import annotations

from needpool.analysis.forms.desk import (
    ComplianceForm,
    FeasibilityForm,
    FishboneForm,
    InsightsForm,
    OverrideForm,
    ScoresForm,
    whys_from_post,
)
from needpool.analysis.forms.kano import KanoAnswerForm, KanoEntryForm, KanoSurveyForm
from needpool.analysis.forms.projects import ProjectForm
from needpool.analysis.forms.settings import CriteriaFormSet, SettingsForm, criteria_formset, criteria_from_formset

__all__ = [
    "ComplianceForm",
    "CriteriaFormSet",
    "FeasibilityForm",
    "FishboneForm",
    "InsightsForm",
    "KanoAnswerForm",
    "KanoEntryForm",
    "KanoSurveyForm",
    "OverrideForm",
    "ProjectForm",
    "ScoresForm",
    "SettingsForm",
    "criteria_formset",
    "criteria_from_formset",
    "whys_from_post",
]
