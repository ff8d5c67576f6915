"""Permission-scoped reads of delivery: iterations, the roadmap, plans, tasks, acceptance, change requests.

Delivery is read by staff who see the whole pool and by planners (``can_see_delivery``). Anyone else sees
only the tasks they own and the plans those tasks belong to; a change request only on a requirement they
can see. "Not found" and "forbidden" look the same (404).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from needpool.accounts.models import Viewer
from needpool.customers.permissions import visible_customers
from needpool.delivery.choices import ChangeStatus, TaskStatus
from needpool.delivery.models import Acceptance, ChangeRequest, Iteration, IterationItem, Milestone, Plan, Task
from needpool.delivery.permissions import can_see_delivery
from needpool.requirements.choices import StatusCategory
from needpool.requirements.models import Requirement, WorkflowStatus
from needpool.requirements.permissions import visible_requirements, visible_through

TASK_RELATED = ("owner", "plan")


def _signed_in(user: Viewer) -> bool:
    return bool(user and user.is_authenticated)


def _get(qs: QuerySet[Any], pk: Any) -> Any:
    try:
        return qs.get(pk=pk)
    except (qs.model.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


# ---------------------------------------------------------------- iterations and the roadmap


def iteration_list(*, user: Viewer, status: str = "", q: str = "") -> QuerySet[Iteration]:
    if not can_see_delivery(user):
        return Iteration.objects.none()
    qs = Iteration.objects.annotate(requirement_count=Count("items")).order_by("-start_date", "-id")
    if status in Iteration.Status.values:
        qs = qs.filter(status=status)
    if q:
        qs = qs.filter(name__icontains=q[:100])
    return qs


def iteration_get(*, user: Viewer, pk: Any) -> Iteration:
    if not can_see_delivery(user):
        raise Http404
    found: Iteration = _get(Iteration.objects.select_related("created_by"), pk)
    return found


def _plans_prefetch() -> Prefetch[Any]:
    return Prefetch(
        "delivery_plans",
        queryset=Plan.objects.select_related("owner", "team").prefetch_related(
            Prefetch("tasks", queryset=Task.objects.select_related("owner").order_by("start_date", "id"))
        ),
    )


def iteration_requirements(iteration: Iteration, *, user: Viewer) -> QuerySet[Requirement]:
    """The requirements planned into ``iteration`` that ``user`` may see, with their plans and tasks."""
    return (
        visible_requirements(user)
        .filter(iteration_item__iteration=iteration)
        .select_related("status", "owner")
        .prefetch_related(_plans_prefetch())
        .order_by("iteration_item__position", "id")
    )


def iteration_tasks(iteration: Iteration, *, user: Viewer) -> QuerySet[Task]:
    """Every task of a plan that carries a requirement of ``iteration`` (for its Gantt chart)."""
    if not can_see_delivery(user):
        return Task.objects.none()
    plans = Plan.objects.filter(requirements__iteration_item__iteration=iteration).values("pk")
    return (
        Task.objects.filter(plan__in=plans)
        .select_related(*TASK_RELATED)
        .prefetch_related("depends_on")
        .order_by("plan_id", "start_date", "id")
    )


@dataclass
class Roadmap:
    """Now / Next / Later: the active iteration(s), the next planned one, and the rest with what is accepted
    but not planned into any iteration."""

    now: list[Iteration] = field(default_factory=list)
    next: list[Iteration] = field(default_factory=list)
    later: list[Iteration] = field(default_factory=list)
    unplanned: list[Requirement] = field(default_factory=list)
    unplanned_count: int = 0
    timeline: list[Iteration] = field(default_factory=list)


ROADMAP_LIMIT = 50
UNPLANNED_LIMIT = 30


def _accepted_unplanned(user: Viewer) -> QuerySet[Requirement]:
    """Requirements that are being worked on (active, not merged, not done) but in no iteration yet."""
    # NOT EXISTS and the statuses as a list, not LEFT JOIN … IS NULL and a join on the category: PostgreSQL
    # estimated that shape at one row and sorted the whole pool through a nested loop (0.4 s at 100,000).
    active = WorkflowStatus.objects.filter(category=StatusCategory.ACTIVE).values("pk")
    return (
        visible_requirements(user)
        .filter(merged_into__isnull=True, status__in=active)
        .exclude(Exists(IterationItem.objects.filter(requirement=OuterRef("pk"))))
        .select_related("status")
        .order_by("priority", "-submitted_at", "-id")
    )


def roadmap(*, user: Viewer) -> Roadmap:
    if not can_see_delivery(user):
        return Roadmap()
    iterations = list(
        Iteration.objects.exclude(status=Iteration.Status.DONE)
        .prefetch_related(
            Prefetch(
                "items",
                queryset=IterationItem.objects.filter(visible_through(user))
                .select_related("requirement__status")
                .order_by("position", "id"),
            )
        )
        .order_by("start_date", "id")[:ROADMAP_LIMIT]
    )
    result = Roadmap(timeline=iterations)
    planned = [i for i in iterations if i.status == Iteration.Status.PLANNED]
    result.now = [i for i in iterations if i.status == Iteration.Status.ACTIVE]
    result.next = planned[:1]
    result.later = planned[1:]
    unplanned = _accepted_unplanned(user)
    result.unplanned = list(unplanned[:UNPLANNED_LIMIT])
    result.unplanned_count = unplanned.count() if len(result.unplanned) == UNPLANNED_LIMIT else len(result.unplanned)
    return result


def public_roadmap() -> list[dict[str, Any]]:
    """The portal's roadmap: public iterations that are not done, with nothing but their name, dates, status
    and public summary (no requirement, customer, owner or internal note ever leaves through here)."""
    rows = (
        Iteration.objects.filter(is_public=True)
        .exclude(status=Iteration.Status.DONE)
        .order_by("start_date", "id")
        .values("name", "public_summary", "start_date", "end_date", "status")[:ROADMAP_LIMIT]
    )
    labels = dict(Iteration.Status.choices)
    columns = {"now": Iteration.Status.ACTIVE, "next": Iteration.Status.PLANNED}
    result = []
    for row in rows:
        result.append(
            {
                **row,
                "status_label": labels[row["status"]],
                "column": "now" if row["status"] == columns["now"] else "next",
            }
        )
    return result


def requirements_by_code(*, user: Viewer, codes: list[str]) -> tuple[list[Requirement], list[str]]:
    """The visible, unmerged requirements with these codes, and the codes not found among them."""
    wanted = [c.strip() for c in codes if c.strip()][:200]
    found = {
        r.code: r
        for r in visible_requirements(user).filter(code__in=wanted, merged_into__isnull=True).select_related("status")
    }
    return [found[c] for c in dict.fromkeys(wanted) if c in found], [c for c in dict.fromkeys(wanted) if c not in found]


def requirements_by_ids(*, user: Viewer, ids: list[int]) -> list[Requirement]:
    return list(visible_requirements(user).filter(pk__in=ids[:200]).select_related("status").order_by("id"))


# ---------------------------------------------------------------- plans and tasks


def plan_list(*, user: Viewer, q: str = "", strategy: str = "") -> QuerySet[Plan]:
    if not _signed_in(user):
        return Plan.objects.none()
    qs = Plan.objects.all()
    if not can_see_delivery(user):
        qs = qs.filter(
            Q(owner=getattr(user, "pk", None))
            | Q(Exists(Task.objects.filter(plan=OuterRef("pk"), owner=getattr(user, "pk", None))))
        )
    if q:
        qs = qs.filter(title__icontains=q[:100])
    if strategy:
        qs = qs.filter(strategy=strategy)
    return (
        qs.select_related("owner", "team")
        .annotate(
            task_count=Count("tasks", distinct=True),
            done_count=Count("tasks", filter=Q(tasks__status=TaskStatus.DONE), distinct=True),
        )
        .order_by("-start_date", "-id")
    )


def plan_get(*, user: Viewer, pk: Any) -> Plan:
    found: Plan = _get(plan_list(user=user).prefetch_related("milestones"), pk)
    return found


def plan_requirements(plan: Plan, *, user: Viewer) -> QuerySet[Requirement]:
    return visible_requirements(user).filter(delivery_plans=plan).select_related("status").order_by("id")


def plan_tasks(plan: Plan) -> QuerySet[Task]:
    return plan.tasks.select_related("owner").prefetch_related("depends_on").order_by("start_date", "id")


def plan_milestones(plan: Plan) -> QuerySet[Milestone]:
    return plan.milestones.order_by("date", "id")


def task_list(*, user: Viewer, status: str = "", owner: int | None = None) -> QuerySet[Task]:
    if not _signed_in(user):
        return Task.objects.none()
    qs = Task.objects.all() if can_see_delivery(user) else Task.objects.filter(owner=getattr(user, "pk", None))
    if status in TaskStatus.values:
        qs = qs.filter(status=status)
    if owner is not None:
        qs = qs.filter(owner=owner)
    return qs.select_related(*TASK_RELATED).prefetch_related("depends_on").order_by("due_date", "id")


def task_get(*, user: Viewer, pk: Any) -> Task:
    found: Task = _get(task_list(user=user), pk)
    return found


def my_tasks(*, user: Viewer, include_done: bool = False) -> QuerySet[Task]:
    if not _signed_in(user):
        return Task.objects.none()
    qs = Task.objects.filter(owner=getattr(user, "pk", None))
    if not include_done:
        qs = qs.exclude(status=TaskStatus.DONE)
    return qs.select_related(*TASK_RELATED).order_by("due_date", "id")


def overdue_tasks(user: Viewer, *, today: dt.date | None = None, limit: int = 20) -> QuerySet[Task]:
    """For the home page: open tasks past their due date that ``user`` owns or whose plan ``user`` manages."""
    if not _signed_in(user):
        return Task.objects.none()
    day = today or timezone.localdate()
    return (
        Task.objects.exclude(status=TaskStatus.DONE)
        .filter(due_date__lt=day)
        .filter(Q(owner=getattr(user, "pk", None)) | Q(plan__owner=getattr(user, "pk", None)))
        .select_related(*TASK_RELATED)
        .order_by("due_date", "id")[:limit]
    )


# ---------------------------------------------------------------- acceptance and change requests


def acceptance_list(*, user: Viewer, requirement: Requirement | None = None) -> QuerySet[Acceptance]:
    if not can_see_delivery(user):
        return Acceptance.objects.none()
    qs = Acceptance.objects.filter(visible_through(user))
    if requirement is not None:
        qs = qs.filter(requirement=requirement)
    return qs.select_related(
        "requirement", "plan", "accepted_by_contact__customer", "accepted_by_user", "created_by"
    ).order_by("-accepted_at", "-id")


def acceptance_get(*, user: Viewer, pk: Any) -> Acceptance:
    found: Acceptance = _get(acceptance_list(user=user), pk)
    return found


def change_list(*, user: Viewer, requirement: Requirement | None = None, status: str = "") -> QuerySet[ChangeRequest]:
    if not _signed_in(user):
        return ChangeRequest.objects.none()
    qs = ChangeRequest.objects.filter(visible_through(user))
    if requirement is not None:
        qs = qs.filter(requirement=requirement)
    if status in ChangeStatus.values:
        qs = qs.filter(status=status)
    return qs.select_related("requirement", "created_by", "evaluated_by", "decided_by").order_by("-created_at", "-id")


def change_get(*, user: Viewer, pk: Any) -> ChangeRequest:
    found: ChangeRequest = _get(change_list(user=user), pk)
    return found


def shown_acceptor(acceptance: Acceptance, user: Viewer) -> str:
    """Who accepted, as ``user`` may see it: a contact of a customer ``user`` cannot see is not named."""
    if acceptance.accepted_by_user_id:
        return str(acceptance.accepted_by_user)
    contact = acceptance.accepted_by_contact
    if contact is None:
        return ""
    if can_see_delivery(user) or visible_customers(user).filter(pk=contact.customer_id).exists():
        return f"{contact}（{contact.customer.name}）"
    return _("客户")


# ---------------------------------------------------------------- what a requirement shows


def requirement_delivery(requirement: Requirement, *, user: Viewer) -> dict[str, Any]:
    """Iteration, plans with their tasks, acceptance records and change requests of one requirement.

    One query says which of them exist (and reads the iteration); only those are then read.
    """
    flags: Mapping[str, Any] = (
        Requirement.objects.filter(pk=requirement.pk)
        .annotate(
            has_plans=Exists(Plan.requirements.through.objects.filter(requirement_id=OuterRef("pk"))),
            has_acceptances=Exists(Acceptance.objects.filter(requirement_id=OuterRef("pk"))),
            has_changes=Exists(ChangeRequest.objects.filter(requirement_id=OuterRef("pk"))),
        )
        .values("has_plans", "has_acceptances", "has_changes", "iteration_item__iteration_id")
        .first()
    ) or {}
    iteration_id = flags.get("iteration_item__iteration_id")
    iteration = Iteration.objects.filter(pk=iteration_id).first() if iteration_id else None
    plans: list[Plan] = []
    if flags.get("has_plans"):
        plans = list(
            Plan.objects.filter(requirements=requirement)
            .select_related("owner", "team")
            .prefetch_related(
                Prefetch(
                    "tasks",
                    queryset=Task.objects.select_related("owner")
                    .prefetch_related("depends_on")
                    .order_by("start_date", "id"),
                )
            )
            .order_by("start_date", "id")
        )
    acceptances: list[Acceptance] = []
    if flags.get("has_acceptances"):
        acceptances = list(
            Acceptance.objects.filter(requirement=requirement)
            .select_related("accepted_by_contact__customer", "accepted_by_user", "plan")
            .order_by("-accepted_at", "-id")[:20]
        )
    changes: list[ChangeRequest] = []
    if flags.get("has_changes"):
        changes = list(ChangeRequest.objects.filter(requirement=requirement).order_by("-created_at", "-id")[:20])
    return {"iteration": iteration, "plans": plans, "acceptances": acceptances, "changes": changes}
