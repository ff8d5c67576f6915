"""Races with real threads on PostgreSQL: two planners put one requirement into two iterations at once (it ends
in exactly one), and two people move one task from the same version (one move applies, the other is refused)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from needpool.delivery.models import IterationItem, Task
from tests.races import at_once as _at_once

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are proven on PostgreSQL"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
D = dt.date


def _world() -> dict[str, Any]:
    from needpool.accounts.models import User
    from needpool.customers.services import customer_create
    from needpool.delivery.services import iteration_create, plan_create, task_create
    from needpool.requirements.services import requirement_create

    a = User.objects.create_user(username="planner-a", password="x-9-long-enough", role="product_manager")
    b = User.objects.create_user(username="planner-b", password="x-9-long-enough", role="manager")
    owner = User.objects.create_user(username="task-owner", password="x-9-long-enough", role="engineer")
    customer = customer_create(actor=a, name="并发客户")
    requirement = requirement_create(actor=a, customer=customer, title="并发排期", background="b", concrete_ask="c")
    one = iteration_create(actor=a, name="迭代一", start_date=D(2030, 1, 1), end_date=D(2030, 2, 1))
    two = iteration_create(actor=b, name="迭代二", start_date=D(2030, 2, 1), end_date=D(2030, 3, 1))
    plan = plan_create(
        actor=a, title="并发计划", strategy="product_iteration", start_date=D(2030, 1, 1), end_date=D(2030, 3, 1)
    )
    task = task_create(actor=a, plan=plan, title="开发", start_date=D(2030, 1, 1), due_date=D(2030, 1, 9), owner=owner)
    return {"a": a, "b": b, "owner": owner, "requirement": requirement, "one": one, "two": two, "task": task}


def test_two_planners_plan_one_requirement_into_two_iterations_at_once():
    from django.core.exceptions import ValidationError

    from needpool.delivery.services import iteration_plan_requirements

    w = _world()

    def plan_into(actor: Any, iteration: Any) -> Callable[[], Any]:
        return lambda: iteration_plan_requirements(actor=actor, iteration=iteration, requirements=[w["requirement"]])

    for _round in range(3):
        IterationItem.objects.all().delete()
        _results, errors = _at_once([plan_into(w["a"], w["one"]), plan_into(w["b"], w["two"])])
        assert all(isinstance(e, ValidationError) for e in errors), errors
        items = list(IterationItem.objects.filter(requirement=w["requirement"]))
        assert len(items) == 1
        assert items[0].iteration_id in (w["one"].pk, w["two"].pk)


def test_two_people_move_one_task_from_the_same_version():
    from django.core.exceptions import ValidationError

    from needpool.delivery.services import task_move

    w = _world()
    task = w["task"]
    calls = [
        lambda: task_move(actor=w["owner"], task=task, status="doing", expected_version=task.version),
        lambda: task_move(actor=w["a"], task=task, status="blocked", expected_version=task.version),
    ]
    results, errors = _at_once(calls)
    assert len(results) == 1 and len(errors) == 1 and isinstance(errors[0], ValidationError), errors
    fresh = Task.objects.get(pk=task.pk)
    assert fresh.status == results[0].status and fresh.version == task.version + 1
