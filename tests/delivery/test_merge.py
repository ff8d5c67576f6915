"""A merge carries delivery along: acceptance records and change requests move to the survivor, the survivor
joins the merged requirements' plans and takes over an iteration when it has none; undo moves them back."""

from __future__ import annotations

import datetime as dt

import pytest

from needpool.delivery import services
from needpool.delivery.models import Acceptance, ChangeRequest, IterationItem, Plan
from needpool.requirements.merging.services import requirements_merge, requirements_merge_undo

D = dt.date
pytestmark = pytest.mark.django_db


def test_merge_moves_delivery_to_the_survivor_and_undo_moves_it_back(users, pm, pool, iteration):
    survivor, merged = pool["r2"], pool["r3"]
    plan = services.plan_create(
        actor=pm,
        requirements=[merged],
        title="P",
        strategy="pilot_service",
        start_date=D(2024, 1, 1),
        end_date=D(2024, 2, 1),
    )
    services.iteration_plan_requirements(actor=pm, iteration=iteration, requirements=[merged])
    acceptance = services.acceptance_record(actor=pm, requirement=merged, accepted_by_user=pm, passed=True)
    change = services.change_request_create(actor=pm, requirement=merged, what="a", why="b")

    merge = requirements_merge(actor=pm, survivor_id=survivor.pk, merged_ids=[merged.pk])
    assert Acceptance.objects.get(pk=acceptance.pk).requirement_id == survivor.pk
    assert ChangeRequest.objects.get(pk=change.pk).requirement_id == survivor.pk
    assert set(Plan.objects.get(pk=plan.pk).requirements.values_list("pk", flat=True)) == {merged.pk, survivor.pk}
    assert IterationItem.objects.get(iteration=iteration).requirement_id == survivor.pk
    assert services.acceptance_passed(survivor)

    undone = requirements_merge_undo(actor=users["admin"], merge=merge)
    assert undone.left_count == 0
    assert Acceptance.objects.get(pk=acceptance.pk).requirement_id == merged.pk
    assert ChangeRequest.objects.get(pk=change.pk).requirement_id == merged.pk
    assert list(Plan.objects.get(pk=plan.pk).requirements.values_list("pk", flat=True)) == [merged.pk]
    assert IterationItem.objects.get(iteration=iteration).requirement_id == merged.pk


def test_a_survivor_in_an_iteration_keeps_it(pm, pool, iteration):
    other = services.iteration_create(actor=pm, name="别的", start_date=D(2024, 5, 1), end_date=D(2024, 6, 1))
    services.iteration_plan_requirements(actor=pm, iteration=iteration, requirements=[pool["r2"]])
    services.iteration_plan_requirements(actor=pm, iteration=other, requirements=[pool["r3"]])
    requirements_merge(actor=pm, survivor_id=pool["r2"].pk, merged_ids=[pool["r3"].pk])
    assert IterationItem.objects.get(requirement=pool["r2"]).iteration_id == iteration.pk
    assert IterationItem.objects.get(requirement=pool["r3"]).iteration_id == other.pk
