"""What the evaluation app contributes to a requirement's life (registered in ``EvaluationConfig.ready()``).

- A status listener: a move that launches the requirement (into 已上线, or into a done status from one
  that was not) opens the launch's effect evaluation, due ``delay_days`` later, for the requirement's owner.
- A section ``evaluation`` on the requirement page and in its archive: its evaluations and their results.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from needpool.requirements import lifecycle
from needpool.requirements.models import Requirement


def on_status_moved(event: lifecycle.StatusMoved) -> None:
    from needpool.evaluation.services import evaluation_open_for_launch, is_launch
    from needpool.requirements.models import StatusChange

    if not is_launch(
        target_key=event.target_key, target_category=event.target_category, source_category=event.source_category
    ):
        return
    change = (
        StatusChange.objects.filter(requirement_id=event.requirement_id, target__key=event.target_key)
        .order_by("-at", "-pk")
        .first()
    )
    if change is not None:
        evaluation_open_for_launch(change=change)


def section_context(requirement: Requirement, user: Any) -> dict[str, Any] | None:
    from needpool.evaluation import permissions
    from needpool.evaluation.plans import plan_criterion
    from needpool.evaluation.selectors import evaluations_of_requirement

    evaluations = evaluations_of_requirement(requirement.pk)
    if not evaluations:
        return None
    rows = [{"evaluation": e, "can_complete": permissions.can_complete(user, e)} for e in evaluations]
    return {"rows": rows, "criterion": plan_criterion(requirement.pk)}


def section_probe() -> Any:
    """Whether the page's requirement has any evaluation."""
    from django.db.models import Exists, OuterRef

    from needpool.evaluation.models import Evaluation

    return Exists(Evaluation.objects.filter(requirement_id=OuterRef("pk")))


EVALUATION_SECTION = lifecycle.Section(
    key="evaluation",
    label=lambda: _("效果评估"),
    order=80,
    template="evaluation/_section.html",
    context=section_context,
    probe=section_probe,
    places=frozenset({"detail", "dossier"}),
)


def register() -> None:
    """Register this app's status listener and requirement section (idempotent by key)."""
    lifecycle.register_status_listener("evaluation", on_status_moved)
    lifecycle.register_section(EVALUATION_SECTION)
