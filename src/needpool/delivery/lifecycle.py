"""What the delivery app contributes to a requirement's life (gates, facts, listeners, sections), registered from
its AppConfig.ready().

- Fact ``acceptance_passed``: the latest acceptance record of the requirement passed.
- Gate ``acceptance_passed``: a move into a status carrying it (opt-in per status, e.g. 已上线 or 已关闭) is
  refused unless the latest acceptance passed.
- Section ``delivery``: the requirement's iteration, plans with the acceptance criterion, tasks (overdue
  marked), acceptance records and change requests, on the detail page and in the closed requirement's
  archive; a requirement planned into an active iteration says that changes need a change request.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from needpool.requirements import lifecycle
from needpool.requirements import workflow as flow_rules
from needpool.requirements.choices import StatusCategory
from needpool.requirements.models import Requirement

GATE_ACCEPTANCE = "acceptance_passed"


def check_acceptance(move: flow_rules.Move, facts: flow_rules.Facts) -> str | None:
    """Pure: the refusal for a move into a gated status without a passed latest acceptance."""
    if facts.get("acceptance_passed"):
        return None
    return _("验收通过后才能进入“%(target)s”：请先记录一次通过的验收。") % {"target": move.target_label}


ACCEPTANCE_GATE = flow_rules.Gate(
    key=GATE_ACCEPTANCE,
    label=lambda: _("验收通过后才能上线/关闭"),
    check=check_acceptance,
    facts=("acceptance_passed",),
)


def _acceptance_passed(requirement: Requirement) -> bool:
    from needpool.delivery.services.acceptance import acceptance_passed

    return acceptance_passed(requirement)


#: What ``requirement_delivery`` gives for a requirement in no iteration, plan, acceptance or change request.
_NOTHING: dict[str, Any] = {"iteration": None, "plans": [], "acceptances": [], "changes": []}


def section_probe() -> Any:
    """Whether the page's requirement is in an iteration or a plan, or has an acceptance or a change request."""
    from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q

    from needpool.delivery.models import Acceptance, ChangeRequest, IterationItem, Plan

    rows = (
        IterationItem.objects,
        Plan.requirements.through.objects,
        Acceptance.objects,
        ChangeRequest.objects,
    )
    found = Q()
    for manager in rows:
        found |= Q(Exists(manager.filter(requirement_id=OuterRef("pk"))))
    return ExpressionWrapper(found, output_field=BooleanField())


def section_empty(requirement: Requirement, user: Any) -> dict[str, Any] | None:
    """The section of a requirement with nothing delivered yet: for planners, the way to plan it."""
    return section_context(requirement, user, data=_NOTHING)


def section_context(requirement: Requirement, user: Any, data: dict[str, Any] | None = None) -> dict[str, Any] | None:
    from needpool.delivery import permissions, selectors
    from needpool.delivery.models import Iteration
    from needpool.delivery.services import next_steps, task_warnings

    if data is None:
        data = selectors.requirement_delivery(requirement, user=user)
    nothing = not (data["iteration"] or data["plans"] or data["acceptances"] or data["changes"])
    if nothing and not permissions.can_plan(user):
        return None
    today = timezone.localdate()
    staff = permissions.can_see_delivery(user)
    plans = []
    for plan in data["plans"]:
        tasks = [
            {"task": t, "overdue": t.is_overdue(today), "warnings": task_warnings(t, plan=plan) if staff else []}
            for t in plan.tasks.all()
        ]
        plans.append({"plan": plan, "tasks": tasks})
    acceptances = [{"record": a, "by": selectors.shown_acceptor(a, user)} for a in data["acceptances"]]
    changes = [{"change": c, "steps": next_steps(c.status)} for c in data["changes"]]
    iteration = data["iteration"]
    open_iterations: list[Any] = []
    if place_allows_planning(user, iteration):
        open_iterations = list(
            Iteration.objects.exclude(status=Iteration.Status.DONE).order_by("start_date", "id").only("id", "name")[:50]
        )
    return {
        "open_iterations": open_iterations,
        "iteration": iteration,
        # Changes to a requirement still being built in an active iteration go through a change request.
        "change_notice": bool(
            iteration
            and iteration.status == Iteration.Status.ACTIVE
            and requirement.status.category in (StatusCategory.NEW, StatusCategory.ACTIVE)
        ),
        "plans": plans,
        "acceptances": acceptances,
        "changes": changes,
        "staff": staff,
        "allowed": {
            "plan": permissions.can_plan(user),
            "change": permissions.can_request_change(user, requirement),
        },
    }


def place_allows_planning(user: Any, iteration: Any) -> bool:
    """Offer the "plan into an iteration" form to planners while the requirement is in none."""
    from needpool.delivery import permissions

    return iteration is None and permissions.can_plan(user)


SECTION = lifecycle.Section(
    key="delivery",
    label=lambda: _("计划与交付"),
    order=40,
    template="delivery/_requirement_section.html",
    context=section_context,
    probe=section_probe,
    when_empty=section_empty,
)


# ---------------------------------------------------------------- merge participant


def _merge_fk_rows(model: Any, survivor: Requirement, merged_ids: list[int]) -> dict[str, list[int]]:
    by_origin: dict[str, list[int]] = {}
    for pk, origin in (
        model.objects.filter(requirement_id__in=merged_ids).order_by("pk").values_list("pk", "requirement_id")
    ):
        by_origin.setdefault(str(origin), []).append(pk)
    moved = [pk for ids in by_origin.values() for pk in ids]
    if moved:
        model.objects.filter(pk__in=moved).update(requirement_id=survivor.pk)
    return by_origin


def _move_delivery(survivor: Requirement, merged_ids: list[int]) -> dict[str, Any]:
    """Acceptance records and change requests move to the survivor; the survivor joins the merged ones'
    plans; it takes over the first merged one's iteration when it is in none."""
    from needpool.delivery.models import Acceptance, ChangeRequest, IterationItem, Plan

    moved: dict[str, Any] = {
        "delivery_acceptances": _merge_fk_rows(Acceptance, survivor, merged_ids),
        "delivery_changes": _merge_fk_rows(ChangeRequest, survivor, merged_ids),
    }
    through = Plan.requirements.through
    has = set(through.objects.filter(requirement_id=survivor.pk).values_list("plan_id", flat=True))
    added: dict[str, list[int]] = {}
    for plan_id, origin in (
        through.objects.filter(requirement_id__in=merged_ids)
        .order_by("plan_id")
        .values_list("plan_id", "requirement_id")
    ):
        if plan_id not in has:
            has.add(plan_id)
            added.setdefault(str(origin), []).append(plan_id)
    through.objects.bulk_create(
        through(plan_id=plan_id, requirement_id=survivor.pk) for ids in added.values() for plan_id in ids
    )
    moved["delivery_plans"] = added
    item: dict[str, int] = {}
    if not IterationItem.objects.filter(requirement_id=survivor.pk).exists():
        first = IterationItem.objects.filter(requirement_id__in=merged_ids).order_by("requirement_id").first()
        if first is not None:
            item[str(first.requirement_id)] = first.pk
            IterationItem.objects.filter(pk=first.pk).update(requirement_id=survivor.pk)
    moved["delivery_iteration"] = item
    return moved


def _undo_delivery(survivor: Requirement, moved: Mapping[str, Any], left: dict[str, list[int]]) -> None:
    from needpool.delivery.models import Acceptance, ChangeRequest, IterationItem, Plan

    for name, model in (("delivery_acceptances", Acceptance), ("delivery_changes", ChangeRequest)):
        for origin, ids in (moved.get(name) or {}).items():
            here = list(model.objects.filter(pk__in=ids, requirement_id=survivor.pk).values_list("pk", flat=True))
            model.objects.filter(pk__in=here).update(requirement_id=int(origin))
            stayed = sorted(set(ids) - set(here))
            if stayed:
                left.setdefault(name, []).extend(stayed)
    plans = [pk for ids in (moved.get("delivery_plans") or {}).values() for pk in ids]
    if plans:
        Plan.requirements.through.objects.filter(plan_id__in=plans, requirement_id=survivor.pk).delete()
    for origin, pk in (moved.get("delivery_iteration") or {}).items():
        taken = IterationItem.objects.filter(requirement_id=int(origin)).exists()
        if taken or not IterationItem.objects.filter(pk=pk, requirement_id=survivor.pk).update(
            requirement_id=int(origin)
        ):
            left.setdefault("delivery_iteration", []).append(pk)


def _count_delivery(moved: Mapping[str, Any]) -> int:
    return sum(
        len(ids)
        for name in ("delivery_acceptances", "delivery_changes", "delivery_plans")
        for ids in (moved.get(name) or {}).values()
    ) + len(moved.get("delivery_iteration") or {})


DELIVERY_MERGE = lifecycle.MergeParticipant(
    key="delivery",
    labels={
        "delivery_acceptances": lambda: _("验收单"),
        "delivery_changes": lambda: _("需求变更"),
        "delivery_plans": lambda: _("落地计划"),
        "delivery_iteration": lambda: _("迭代"),
    },
    move=_move_delivery,
    undo=_undo_delivery,
    count=_count_delivery,
)


# What a requirement asks for: once it is being built in an active iteration, these change by a change request.
SCOPE_FIELDS = frozenset({"title", "description", "background", "concrete_ask", "expected_date", "type"})


def change_request_guard(requirement: Requirement, changed: set[str]) -> str | None:
    """Pure over the database's answer: an edit of the scope of a requirement still being built in an active
    iteration needs an approved change request that is not implemented yet (the edit is its implementation)."""
    from needpool.delivery.choices import ChangeStatus
    from needpool.delivery.models import ChangeRequest, Iteration, IterationItem

    if not (changed & SCOPE_FIELDS) or requirement.status.category not in (StatusCategory.NEW, StatusCategory.ACTIVE):
        return None
    item = (
        IterationItem.objects.filter(requirement=requirement, iteration__status=Iteration.Status.ACTIVE)
        .select_related("iteration")
        .first()
    )
    if item is None:
        return None
    if ChangeRequest.objects.filter(requirement=requirement, status=ChangeStatus.APPROVED).exists():
        return None
    return _("本需求所在迭代“%(name)s”正在进行中：修改需求内容须先提出需求变更，评估影响并获批准后再修改。") % {
        "name": item.iteration.name
    }


def register() -> None:
    """Register this app's gates, facts, status listeners and requirement sections (idempotent)."""
    lifecycle.register_edit_guard("delivery_change_request", change_request_guard)
    lifecycle.register_fact("acceptance_passed", _acceptance_passed)
    lifecycle.register_gate(ACCEPTANCE_GATE)
    lifecycle.register_section(SECTION)
    lifecycle.register_merge_participant(DELIVERY_MERGE)
    lifecycle.register_history_labels(
        {
            "iteration": gettext_lazy("迭代"),
            "plan": gettext_lazy("落地计划"),
            "acceptance": gettext_lazy("验收"),
            "change_request": gettext_lazy("需求变更"),
        }
    )
