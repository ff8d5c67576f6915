"""Permission-scoped reads of effect evaluations."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from needpool.accounts.models import Viewer
from needpool.evaluation.models import Evaluation
from needpool.evaluation.permissions import can_list_all, visible_evaluations

LIST_RELATED = ("requirement", "requirement__status", "owner", "completed_by")
STATES = ("open", "done", "overdue")


def evaluation_list(*, user: Viewer, mine: bool = False, state: str = "", today: Any = None) -> QuerySet[Evaluation]:
    """Visible evaluations, open ones first by due date. ``mine``: the user's own (everyone); otherwise all
    visible ones for people who may list them, and the own ones for the others. ``state``: open / done /
    overdue (open and due before ``today``); an unknown state is ignored."""
    qs = visible_evaluations(user)
    if mine or not can_list_all(user):
        qs = qs.filter(owner=getattr(user, "pk", None))
    if state == "open":
        qs = qs.filter(completed_at__isnull=True)
    elif state == "done":
        qs = qs.filter(completed_at__isnull=False)
    elif state == "overdue" and today is not None:
        qs = qs.filter(completed_at__isnull=True, due_date__lt=today)
    return qs.select_related(*LIST_RELATED).order_by("completed_at", "due_date", "-id")


def evaluation_get(*, user: Viewer, pk: Any) -> Evaluation:
    """One evaluation whose requirement ``user`` may see; 404 otherwise (as for a missing one)."""
    try:
        return visible_evaluations(user).select_related(*LIST_RELATED).get(pk=pk)
    except (Evaluation.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def evaluations_of_requirement(requirement_id: int) -> list[Evaluation]:
    """A requirement's evaluations, newest launch first (the caller has checked that the requirement is
    visible: evaluations are as visible as their requirement)."""
    return list(
        Evaluation.objects.filter(requirement_id=requirement_id)
        .select_related("owner", "completed_by")
        .order_by("-launched_at", "-id")
    )


def evaluations_due(*, user: Viewer, today: Any, limit: int = 20) -> QuerySet[Evaluation]:
    """The user's own open evaluations due by ``today``, the most overdue first (for the home page)."""
    return evaluation_list(user=user, mine=True, state="open").filter(due_date__lte=today)[:limit]
