"""Delivery services: every rule and permission, with nothing written on a refusal."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from needpool.accounts.models import User
from needpool.accounts.roles import Role
from needpool.core.models import AuditEntry
from needpool.delivery import services
from needpool.delivery.models import Acceptance, ChangeRequest, Milestone, Plan, Task
from needpool.requirements.models import Requirement

D = dt.date
pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------- plans


def test_the_worked_example_plan_carries_its_criterion_and_resources(plan, requirement):
    assert plan.criterion == "使用率 ≥ 30 %"
    assert plan.criterion_met(Decimal("31")) is True
    assert plan.criterion_met(Decimal("29.99")) is False
    assert plan.budget == Decimal("50000.00")
    assert list(plan.requirements.all()) == [requirement]
    assert [m.title for m in plan.milestones.order_by("date")] == ["PRD 评审", "上线"]
    history = AuditEntry.objects.filter(object_id=requirement.pk, changes__has_key="plan")
    assert history.exists()


@pytest.mark.parametrize("role", ["sales", "service", "engineer", "compliance", "viewer"])
def test_only_planners_make_plans(users, role, requirement):
    with pytest.raises(PermissionDenied):
        services.plan_create(
            actor=users[role], title="x", strategy="product_iteration", start_date=D(2024, 1, 1), end_date=D(2024, 1, 2)
        )
    assert not Plan.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"title": " "}, "title"),
        ({"strategy": "magic"}, "strategy"),
        ({"end_date": D(2024, 2, 1)}, "end_date"),
        ({"metric_name": "使用率", "target_value": None}, "target_value"),
        ({"metric_name": "", "target_value": Decimal("3")}, "metric_name"),
        ({"budget": Decimal("-1")}, "budget"),
        ({"comparator": "gt"}, "comparator"),
        ({"start_date": D(1800, 1, 1)}, "start_date"),
    ],
)
def test_bad_plan_input_is_refused_with_a_message_and_nothing_written(pm, fields, field):
    data = {"title": "计划", "strategy": "customer_care", "start_date": D(2024, 3, 1), "end_date": D(2024, 3, 31)}
    data.update(fields)
    with pytest.raises(ValidationError) as caught:
        services.plan_create(actor=pm, **data)
    assert field in caught.value.message_dict
    assert not Plan.objects.exists()


def test_a_merged_requirement_cannot_be_planned(pm, pool):
    from needpool.requirements.merging.services import requirements_merge

    requirements_merge(actor=pm, survivor_id=pool["r2"].pk, merged_ids=[pool["r3"].pk])
    merged = Requirement.objects.get(pk=pool["r3"].pk)
    with pytest.raises(ValidationError):
        services.plan_create(
            actor=pm,
            requirements=[merged],
            title="x",
            strategy="pilot_service",
            start_date=D(2024, 1, 1),
            end_date=D(2024, 1, 2),
        )


def test_plan_update_replaces_requirements_and_milestones_and_is_audited(pm, plan, pool):
    services.plan_update(
        actor=pm,
        plan=plan,
        requirements=[pool["r1"], pool["r2"]],
        milestones=[{"title": "上线", "date": D(2024, 4, 25), "done": True}],
        target_value=Decimal("40"),
    )
    plan.refresh_from_db()
    assert plan.version == 2 and plan.criterion == "使用率 ≥ 40 %"
    assert set(plan.requirements.values_list("pk", flat=True)) == {pool["r1"].pk, pool["r2"].pk}
    assert list(Milestone.objects.filter(plan=plan).values_list("title", "done")) == [("上线", True)]
    entry = AuditEntry.objects.filter(object_id=plan.pk, action=AuditEntry.Action.UPDATE).latest("id")
    assert {"target_value", "milestones", "requirements"} <= set(entry.changes)


def test_a_stale_plan_edit_is_refused(pm, plan):
    services.plan_update(actor=pm, plan=plan, title="新名字")
    with pytest.raises(ValidationError):
        services.plan_update(actor=pm, plan=plan, expected_version=1, title="旧版本")
    assert Plan.objects.get(pk=plan.pk).title == "新名字"


# ---------------------------------------------------------------- tasks and dependencies


def test_the_worked_example_tasks_have_no_warnings(example_tasks):
    for task in example_tasks.values():
        assert services.task_warnings(task) == []


def test_a_task_cannot_depend_on_itself(pm, example_tasks):
    prd = example_tasks["prd"]
    with pytest.raises(ValidationError) as caught:
        services.task_update(actor=pm, task=prd, depends_on=[prd])
    assert "不能依赖自己" in str(caught.value)


def test_a_dependency_cycle_is_refused_with_a_clear_message(pm, example_tasks):
    prd, test = example_tasks["prd"], example_tasks["test"]
    with pytest.raises(ValidationError) as caught:
        services.task_update(actor=pm, task=prd, depends_on=[test])
    assert "循环依赖" in str(caught.value)
    assert not prd.depends_on.exists()


def test_a_dependency_must_be_of_the_same_plan(pm, make_task, example_tasks, requirement):
    other = services.plan_create(
        actor=pm, title="别的计划", strategy="market_education", start_date=D(2024, 1, 1), end_date=D(2024, 12, 1)
    )
    with pytest.raises(ValidationError) as caught:
        make_task("别处", plan=other, depends_on=[example_tasks["prd"]])
    assert "不属于本计划" in str(caught.value)
    assert not other.tasks.exists()


def test_starting_before_a_dependency_finishes_is_warned_not_refused(pm, example_tasks):
    dev = services.task_update(actor=pm, task=example_tasks["dev"], start_date=D(2024, 3, 4))
    warnings = services.task_warnings(dev)
    assert len(warnings) == 1 and "PRD" in warnings[0]
    services.task_move(actor=pm, task=example_tasks["prd"], status="done")
    assert services.task_warnings(Task.objects.get(pk=dev.pk)) == []


def test_a_task_outside_its_plan_is_warned(make_task):
    task = make_task("越界", D(2024, 2, 1), D(2024, 3, 2))
    assert any("超出计划周期" in w for w in services.task_warnings(task))


def test_due_before_start_is_refused(make_task):
    with pytest.raises(ValidationError) as caught:
        make_task("倒置", D(2024, 3, 5), D(2024, 3, 1))
    assert "due_date" in caught.value.message_dict
    assert not Task.objects.exists()


def test_an_owner_moves_their_own_task_but_edits_nothing_else(example_tasks, engineer, users):
    dev = example_tasks["dev"]
    moved = services.task_move(actor=engineer, task=dev, status="doing")
    assert moved.status == "doing"
    # The generic update with only the status is the same move.
    assert services.task_update(actor=engineer, task=moved, status="blocked").status == "blocked"
    with pytest.raises(PermissionDenied):
        services.task_update(actor=engineer, task=moved, title="改名")
    with pytest.raises(PermissionDenied):
        services.task_move(actor=users["sales"], task=moved, status="done")
    with pytest.raises(PermissionDenied):
        services.task_move(actor=engineer, task=example_tasks["prd"], status="done")  # the PM's task


def test_done_stamps_the_time_and_a_bad_status_is_refused(pm, example_tasks):
    prd = services.task_move(actor=pm, task=example_tasks["prd"], status="done")
    assert prd.done_at is not None
    assert services.task_move(actor=pm, task=prd, status="doing").done_at is None
    with pytest.raises(ValidationError):
        services.task_move(actor=pm, task=prd, status="finished")


def test_two_moves_from_the_same_version_give_one_refusal(pm, engineer, example_tasks):
    dev = example_tasks["dev"]
    services.task_move(actor=engineer, task=dev, status="doing", expected_version=dev.version)
    with pytest.raises(ValidationError):
        services.task_move(actor=pm, task=dev, status="blocked", expected_version=dev.version)
    assert Task.objects.get(pk=dev.pk).status == "doing"


def test_an_assigned_owner_is_notified(example_tasks, engineer):
    assert engineer.notifications.filter(kind="task", text__contains="开发").exists()


class TaskDateProperties(TestCase):
    """Property: a task is created exactly when its dates are in order; nothing is written otherwise."""

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.dates(dt.date(2000, 1, 1), dt.date(2100, 1, 1)), st.integers(-30, 30))
    def test_dates(self, start, offset):
        pm = User.objects.get_or_create(username="pm-prop", defaults={"role": Role.PRODUCT_MANAGER})[0]
        plan = Plan.objects.get_or_create(
            title="性质测试", defaults={"strategy": "product_iteration", "start_date": start, "end_date": start}
        )[0]
        due = start + dt.timedelta(days=offset)
        before = Task.objects.count()
        if offset >= 0:
            task = services.task_create(actor=pm, plan=plan, title="t", start_date=start, due_date=due)
            assert task.due_date >= task.start_date
        else:
            with pytest.raises(ValidationError):
                services.task_create(actor=pm, plan=plan, title="t", start_date=start, due_date=due)
            assert Task.objects.count() == before


class PlanPermissionProperties(TestCase):
    """Property: for every role, making a plan succeeds exactly when the role holds Cap.PLAN."""

    @settings(max_examples=16, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.sampled_from([r.value for r in Role]))
    def test_roles(self, role):
        from needpool.accounts.roles import Cap, role_has

        user = User.objects.get_or_create(username=f"prop-{role}", defaults={"role": role})[0]
        call = lambda: services.plan_create(  # noqa: E731
            actor=user, title="p", strategy="customer_care", start_date=D(2024, 1, 1), end_date=D(2024, 1, 1)
        )
        if role_has(role, Cap.PLAN):
            assert call().pk
        else:
            with pytest.raises(PermissionDenied):
                call()


# ---------------------------------------------------------------- acceptance and its gate


def _to(actor, requirement, *keys):
    from needpool.requirements.services import requirement_transition

    for key in keys:
        requirement = requirement_transition(actor=actor, requirement=requirement, to=key, note="推进")
    return requirement


def _gate_on_launched(requirement):
    from needpool.requirements.models import WorkflowStatus

    status = WorkflowStatus.objects.get(workflow_id=requirement.status.workflow_id, key="launched")
    status.entry_gates = [*(status.entry_gates or []), "acceptance_passed"]
    status.save()


def test_the_gate_refuses_launch_until_the_latest_acceptance_passed(pm, requirement, plan, customer):
    _gate_on_launched(requirement)
    requirement = _to(pm, requirement, "in_progress", "testing")
    with pytest.raises(ValidationError) as caught:
        _to(pm, requirement, "launched")
    assert "验收通过后才能进入" in str(caught.value)
    services.acceptance_record(
        actor=pm,
        requirement=requirement,
        plan=plan,
        accepted_by_contact=customer.contacts.first(),
        passed=True,
        actual_value=Decimal("32"),
        remarks="客户确认",
    )
    assert _to(pm, Requirement.objects.get(pk=requirement.pk), "launched").status.key == "launched"


def test_a_failed_acceptance_reopens_the_requirement_with_the_remarks(pm, requirement, plan):
    requirement = _to(pm, requirement, "in_progress", "testing")
    services.acceptance_record(
        actor=pm, requirement=requirement, accepted_by_user=pm, passed=False, remarks="折扣计算错误"
    )
    requirement.refresh_from_db()
    assert requirement.status.key == "in_progress"
    change = requirement.status_changes.order_by("-id").first()
    assert change.note == "折扣计算错误"
    assert services.acceptance_passed(requirement) is False


def test_long_failed_acceptance_remarks_still_reopen_and_stay_whole_on_the_acceptance(pm, requirement, plan):
    from needpool.requirements.models import NOTE_MAX_LENGTH

    requirement = _to(pm, requirement, "in_progress", "testing")
    remarks = "回归失败：" + "折扣计算错误。" * 200
    acceptance = services.acceptance_record(
        actor=pm, requirement=requirement, accepted_by_user=pm, passed=False, remarks=remarks
    )
    requirement.refresh_from_db()
    assert requirement.status.key == "in_progress"  # a note over the limit does not stop the move back
    note = requirement.status_changes.order_by("-id").first().note
    assert len(note) == NOTE_MAX_LENGTH and note.endswith("…") and remarks.startswith(note[:-1])
    acceptance.refresh_from_db()
    assert acceptance.remarks == remarks


def test_a_failed_acceptance_leaves_a_requirement_where_no_move_back_is_allowed(pm, requirement):
    services.acceptance_record(actor=pm, requirement=requirement, accepted_by_user=pm, passed=False, remarks="未达标")
    requirement.refresh_from_db()
    assert requirement.status.key == "new"
    assert Acceptance.objects.filter(requirement=requirement).count() == 1


def test_the_latest_acceptance_decides(pm, requirement):
    services.acceptance_record(
        actor=pm,
        requirement=requirement,
        accepted_by_user=pm,
        passed=True,
        accepted_at=dt.datetime(2024, 4, 21, tzinfo=dt.UTC),
    )
    assert services.acceptance_passed(requirement)
    services.acceptance_record(
        actor=pm,
        requirement=requirement,
        accepted_by_user=pm,
        passed=False,
        remarks="回归失败",
        accepted_at=dt.datetime(2024, 4, 22, tzinfo=dt.UTC),
    )
    assert not services.acceptance_passed(requirement)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({}, "accepted_by_contact"),
        ({"accepted_by_user": "pm", "accepted_by_contact": "contact"}, "accepted_by_contact"),
        ({"accepted_by_user": "pm", "passed": False}, "remarks"),
        ({"accepted_by_contact": "other_contact"}, "accepted_by_contact"),
        ({"accepted_by_user": "pm", "actual_value": "abc"}, "actual_value"),
        ({"accepted_by_user": "pm", "accepted_at": dt.datetime(2999, 1, 1, tzinfo=dt.UTC)}, "accepted_at"),
    ],
)
def test_bad_acceptance_input_is_refused(pm, requirement, customer, customer_b, kwargs, field):
    from needpool.customers.services import contact_create

    other = contact_create(actor=pm, customer=customer_b, name="李工", email="li@b-corp.cn")
    lookup = {"pm": pm, "contact": customer.contacts.first(), "other_contact": other}
    data = {"passed": True, **{k: lookup.get(v, v) if isinstance(v, str) else v for k, v in kwargs.items()}}
    with pytest.raises(ValidationError) as caught:
        services.acceptance_record(actor=pm, requirement=requirement, **data)
    assert field in caught.value.message_dict
    assert not Acceptance.objects.exists()


def test_an_acceptance_plan_must_carry_the_requirement(pm, requirement, pool):
    other = services.plan_create(
        actor=pm,
        requirements=[pool["r2"]],
        title="其他",
        strategy="pilot_service",
        start_date=D(2024, 1, 1),
        end_date=D(2024, 1, 2),
    )
    with pytest.raises(ValidationError):
        services.acceptance_record(actor=pm, requirement=requirement, plan=other, accepted_by_user=pm, passed=True)


def test_only_planners_record_acceptance(users, requirement):
    with pytest.raises(PermissionDenied):
        services.acceptance_record(
            actor=users["engineer"], requirement=requirement, accepted_by_user=users["engineer"], passed=True
        )


# ---------------------------------------------------------------- change requests


def _change(users, requirement):
    return services.change_request_create(
        actor=users["sales"], requirement=requirement, what="折扣按季度结算", why="客户财务要求", requested_by="王总"
    )


def test_a_change_goes_through_every_step_in_order_and_shows_on_the_requirement(users, requirement):
    change = _change(users, requirement)
    change = services.change_evaluate(
        actor=users["engineer"],
        change=change,
        impact_scope="结算模块",
        impact_schedule="+3 天",
        impact_cost="1 人周",
        impact_risk="低",
    )
    change = services.change_decide(actor=users["manager"], change=change, approved=True, reason="价值高")
    change = services.change_implement(actor=users["product_manager"], change=change, note="已上线")
    change = services.change_tell(actor=users["product_manager"], change=change, note="已邮件告知王总")
    assert change.status == "told" and change.version == 5
    rows = AuditEntry.objects.filter(object_id=requirement.pk, changes__has_key="change_request")
    assert rows.count() == 5


def test_a_rejected_change_is_told_without_implementation(users, requirement):
    change = _change(users, requirement)
    services.change_evaluate(
        actor=users["engineer"],
        change=change,
        impact_scope="大",
        impact_schedule="大",
        impact_cost="大",
        impact_risk="高",
    )
    change = services.change_decide(actor=users["manager"], change=change, approved=False, reason="超出范围")
    with pytest.raises(ValidationError):
        services.change_implement(actor=users["product_manager"], change=change)
    assert services.change_tell(actor=users["product_manager"], change=change, note="电话告知").status == "told"


def test_steps_cannot_be_skipped_or_repeated(users, requirement):
    change = _change(users, requirement)
    with pytest.raises(ValidationError) as caught:
        services.change_decide(actor=users["manager"], change=change, approved=True, reason="跳过评估")
    assert "不能跳过或回退" in str(caught.value)
    services.change_evaluate(
        actor=users["engineer"], change=change, impact_scope="a", impact_schedule="b", impact_cost="c", impact_risk="d"
    )
    with pytest.raises(ValidationError):
        services.change_evaluate(
            actor=users["engineer"],
            change=change,
            impact_scope="a",
            impact_schedule="b",
            impact_cost="c",
            impact_risk="d",
        )
    assert ChangeRequest.objects.get(pk=change.pk).status == "evaluated"


@pytest.mark.parametrize(
    ("step", "role"),
    [("evaluate", "sales"), ("decide", "engineer"), ("decide", "sales"), ("implement", "engineer"), ("tell", "sales")],
)
def test_each_step_needs_its_permission(users, requirement, step, role):
    change = _change(users, requirement)
    calls = {
        "evaluate": lambda u: services.change_evaluate(
            actor=u, change=change, impact_scope="a", impact_schedule="b", impact_cost="c", impact_risk="d"
        ),
        "decide": lambda u: services.change_decide(actor=u, change=change, approved=True, reason="r"),
        "implement": lambda u: services.change_implement(actor=u, change=change),
        "tell": lambda u: services.change_tell(actor=u, change=change, note="n"),
    }
    with pytest.raises(PermissionDenied):
        calls[step](users[role])


def test_a_change_needs_what_and_why_and_viewers_cannot_ask(users, requirement):
    with pytest.raises(ValidationError) as caught:
        services.change_request_create(actor=users["sales"], requirement=requirement, what=" ", why="")
    assert {"what", "why"} <= set(caught.value.message_dict)
    with pytest.raises(PermissionDenied):
        services.change_request_create(actor=users["viewer"], requirement=requirement, what="a", why="b")
    assert not ChangeRequest.objects.exists()


def test_an_evaluation_needs_all_four_impacts(users, requirement):
    change = _change(users, requirement)
    with pytest.raises(ValidationError) as caught:
        services.change_evaluate(
            actor=users["engineer"], change=change, impact_scope="a", impact_schedule="", impact_cost="", impact_risk=""
        )
    assert {"impact_schedule", "impact_cost", "impact_risk"} <= set(caught.value.message_dict)


# ---------------------------------------------------------------- iterations


def test_planning_moves_a_requirement_between_iterations_and_done_ones_take_nothing(pm, iteration, requirement):
    second = services.iteration_create(actor=pm, name="Q2", start_date=D(2024, 5, 1), end_date=D(2024, 6, 30))
    services.iteration_plan_requirements(actor=pm, iteration=iteration, requirements=[requirement])
    services.iteration_plan_requirements(actor=pm, iteration=second, requirements=[requirement])
    from needpool.delivery.models import IterationItem

    assert IterationItem.objects.get(requirement=requirement).iteration_id == second.pk
    services.iteration_update(actor=pm, iteration=iteration, status="done")
    with pytest.raises(ValidationError):
        services.iteration_plan_requirements(actor=pm, iteration=iteration, requirements=[requirement])


class DependencyProperties(TestCase):
    """Property: whatever dependencies planners try to set, each change the rule accepts is stored, each it
    refuses leaves nothing changed, and the stored graph of a plan never holds a cycle."""

    @settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(st.tuples(st.integers(0, 4), st.sets(st.integers(0, 4), max_size=3)), min_size=1, max_size=8))
    def test_no_cycle_is_ever_stored(self, attempts):
        from needpool.delivery import rules

        pm = User.objects.get_or_create(username="pm-deps", defaults={"role": Role.PRODUCT_MANAGER})[0]
        plan = services.plan_create(
            actor=pm, title="依赖性质", strategy="product_iteration", start_date=D(2024, 1, 1), end_date=D(2024, 12, 31)
        )
        tasks = [
            services.task_create(actor=pm, plan=plan, title=f"T{i}", start_date=D(2024, 1, 1), due_date=D(2024, 1, 2))
            for i in range(5)
        ]
        for index, deps in attempts:
            task = tasks[index]
            edges = {t.pk: set(t.depends_on.values_list("pk", flat=True)) for t in tasks}
            wanted = [tasks[d] for d in deps]
            refused = rules.creates_cycle(edges, task.pk, [t.pk for t in wanted])
            if refused:
                with pytest.raises(ValidationError):
                    services.task_update(actor=pm, task=task, depends_on=wanted)
                assert set(task.depends_on.values_list("pk", flat=True)) == edges[task.pk]
            else:
                services.task_update(actor=pm, task=task, depends_on=wanted)
                assert set(task.depends_on.values_list("pk", flat=True)) == {t.pk for t in wanted}
        final = {t.pk: set(t.depends_on.values_list("pk", flat=True)) for t in tasks}
        assert not _has_cycle(final)


def _has_cycle(graph: dict[int, set[int]]) -> bool:
    """Plain depth-first search with colours (independent of the rule under test)."""
    colour: dict[int, int] = {}

    def visit(node: int) -> bool:
        colour[node] = 1
        for nxt in graph.get(node, ()):
            if colour.get(nxt) == 1 or (colour.get(nxt) is None and visit(nxt)):
                return True
        colour[node] = 2
        return False

    return any(colour.get(n) is None and visit(n) for n in graph)


class TaskMovePermissionProperties(TestCase):
    """Property: a task's status moves exactly for its owner and for planners."""

    @settings(max_examples=16, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.sampled_from([r.value for r in Role]), st.booleans())
    def test_moves(self, role, owns):
        from needpool.accounts.roles import Cap, role_has

        pm = User.objects.get_or_create(username="pm-move", defaults={"role": Role.PRODUCT_MANAGER})[0]
        actor = User.objects.get_or_create(username=f"mover-{role}", defaults={"role": role})[0]
        plan = services.plan_create(
            actor=pm, title="移动", strategy="customer_care", start_date=D(2024, 1, 1), end_date=D(2024, 1, 9)
        )
        task = services.task_create(
            actor=pm,
            plan=plan,
            title="t",
            start_date=D(2024, 1, 1),
            due_date=D(2024, 1, 2),
            owner=actor if owns else pm,
        )
        if owns or role_has(role, Cap.PLAN):
            assert services.task_move(actor=actor, task=task, status="doing").status == "doing"
        else:
            with pytest.raises(PermissionDenied):
                services.task_move(actor=actor, task=task, status="doing")
            assert Task.objects.get(pk=task.pk).status == "todo"
