"""Shared helpers of the analysis desk tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

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
from needpool.core.models import AuditEntry, BackgroundJob
from needpool.requirements.models import Feedback, Requirement
from needpool.requirements.services import requirement_create

ANALYSTS = frozenset({"admin", "manager", "product_manager"})


def make_requirement(actor: Any, title: str, customer: Any = None, **extra: Any) -> Requirement:
    """A requirement complete enough to leave its initial status."""
    extra.setdefault("background", "客户反馈")
    extra.setdefault("concrete_ask", "具体诉求")
    extra.setdefault("expected_date", dt.date(2030, 1, 1))
    return requirement_create(actor=actor, title=title, customer=customer, **extra)


def db_state() -> dict[str, Any]:
    """Everything the analysis services may write, to show that a refused call wrote nothing."""
    return {
        "analysis": list(RequirementAnalysis.objects.order_by("pk").values()),
        "requirements": list(Requirement.objects.order_by("pk").values_list("pk", "priority", "status_id")),
        "settings": list(AnalysisSettings.objects.values()),
        "audit": AuditEntry.objects.count(),
        "whys": list(WhyStep.objects.order_by("pk").values()),
        "fishbone": list(FishboneCause.objects.order_by("pk").values()),
        "surveys": list(KanoSurvey.objects.order_by("pk").values()),
        "responses": KanoResponse.objects.count(),
        "projects": list(AnalysisProject.objects.order_by("pk").values()),
        "members": list(ProjectMember.objects.order_by("pk").values()),
        "jobs": BackgroundJob.objects.count(),
        "feedback": list(Feedback.objects.order_by("pk").values_list("pk", "importance", "requirement_id")),
    }


def priority_of(requirement: Requirement) -> str:
    return Requirement.objects.values_list("priority", flat=True).get(pk=requirement.pk)
