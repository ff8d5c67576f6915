"""The delivery API: the same services behind /api/v1/delivery/…, 403 before 400, 404 for what the caller may
not see, per-field 400s with nothing written, and list query counts that do not grow."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from needpool.delivery import services
from needpool.delivery.models import Acceptance, ChangeRequest, Iteration, Plan, Task

D = dt.date
pytestmark = pytest.mark.django_db
BASE = "/api/v1/delivery"


def test_iteration_create_plan_requirements_and_read(api, pm, requirement):
    client = api(pm)
    made = client.post(
        f"{BASE}/iterations/", {"name": "Q1", "start_date": "2024-03-01", "end_date": "2024-04-30"}, format="json"
    )
    assert made.status_code == 201, made.content
    pk = made.json()["id"]
    planned = client.post(f"{BASE}/iterations/{pk}/requirements/", {"requirements": [requirement.pk]}, format="json")
    assert planned.status_code == 200 and planned.json()["requirement_ids"] == [requirement.pk]
    missing = client.post(f"{BASE}/iterations/{pk}/requirements/", {"requirements": [987654]}, format="json")
    assert missing.status_code == 400
    bad = client.patch(f"{BASE}/iterations/{pk}/", {"end_date": "2024-01-01"}, format="json")
    assert bad.status_code == 400 and "end_date" in bad.json()
    assert client.patch(f"{BASE}/iterations/{pk}/", {"status": "active"}, format="json").json()["status"] == "active"


def test_planning_needs_the_capability_before_input_is_checked(api, users):
    response = api(users["engineer"]).post(f"{BASE}/iterations/", {}, format="json")
    assert response.status_code == 403
    assert api(users["sales"]).get(f"{BASE}/iterations/").json()["count"] == 0
    assert not Iteration.objects.exists()


def test_plan_create_the_worked_example(api, pm, requirement, product_team):
    body = {
        "title": "折扣规则上线",
        "requirements": [requirement.pk],
        "strategy": "product_iteration",
        "solution": "配置",
        "team": product_team.pk,
        "owner": pm.pk,
        "start_date": "2024-03-01",
        "end_date": "2024-04-30",
        "milestones": [{"title": "PRD 评审", "date": "2024-03-05"}],
        "budget": 50000,
        "people": "4 人",
        "tools": "PingCode",
        "metric_name": "使用率",
        "comparator": "ge",
        "target_value": 30,
        "unit": "%",
    }
    response = api(pm).post(f"{BASE}/plans/", body, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["criterion"] == "使用率 ≥ 30 %" and data["requirements"] == [requirement.pk]
    assert data["milestones"][0]["title"] == "PRD 评审"
    bad = api(pm).post(f"{BASE}/plans/", {**body, "end_date": "2024-01-01", "surprise": 1}, format="json")
    assert bad.status_code == 400 and "surprise" in bad.json()
    assert Plan.objects.count() == 1


def test_a_requirement_another_sales_team_owns_is_not_plannable_by_id(api, pm, other_sales, requirement):
    # Planners see the whole pool; the check is that the field is scoped at all: an unknown id is a 400.
    response = api(pm).post(
        f"{BASE}/plans/",
        {
            "title": "x",
            "requirements": [requirement.pk + 1000],
            "strategy": "pilot_service",
            "start_date": "2024-01-01",
            "end_date": "2024-01-02",
        },
        format="json",
    )
    assert response.status_code == 400 and "requirements" in response.json()


def test_tasks_cycle_refused_owner_moves_and_others_do_not(api, pm, engineer, users, plan, example_tasks):
    prd, test = example_tasks["prd"], example_tasks["test"]
    cycle = api(pm).patch(f"{BASE}/tasks/{prd.pk}/", {"depends_on": [test.pk]}, format="json")
    assert cycle.status_code == 400 and "循环依赖" in str(cycle.json())
    dev = example_tasks["dev"]
    moved = api(engineer).post(
        f"{BASE}/tasks/{dev.pk}/status/", {"status": "doing", "version": dev.version}, format="json"
    )
    assert moved.status_code == 200 and moved.json()["status"] == "doing"
    stale = api(pm).post(f"{BASE}/tasks/{dev.pk}/status/", {"status": "blocked", "version": dev.version}, format="json")
    assert stale.status_code == 400
    assert api(engineer).patch(f"{BASE}/tasks/{dev.pk}/", {"title": "改"}, format="json").status_code == 403
    assert (
        api(users["sales"]).post(f"{BASE}/tasks/{dev.pk}/status/", {"status": "done"}, format="json").status_code == 404
    )
    mine = api(engineer).get(f"{BASE}/tasks/", {"mine": "1"}).json()
    assert {row["title"] for row in mine["results"]} == {"开发", "测试"}
    assert api(pm).get(f"{BASE}/tasks/", {"status": "nope"}).status_code == 400


def test_task_create_warns_and_refuses_foreign_dependencies(api, pm, plan, example_tasks):
    early = api(pm).post(
        f"{BASE}/tasks/",
        {
            "plan": plan.pk,
            "title": "提前",
            "start_date": "2024-03-02",
            "due_date": "2024-03-03",
            "depends_on": [example_tasks["prd"].pk],
        },
        format="json",
    )
    assert early.status_code == 201 and early.json()["warnings"]
    other = services.plan_create(
        actor=pm, title="别的", strategy="customer_care", start_date=D(2024, 1, 1), end_date=D(2024, 1, 2)
    )
    foreign = api(pm).post(
        f"{BASE}/tasks/",
        {
            "plan": other.pk,
            "title": "x",
            "start_date": "2024-01-01",
            "due_date": "2024-01-02",
            "depends_on": [example_tasks["prd"].pk],
        },
        format="json",
    )
    assert foreign.status_code == 400
    assert not Task.objects.filter(plan=other).exists()


def test_overdue_endpoint(api, engineer, example_tasks):
    response = api(engineer).get(f"{BASE}/tasks/overdue/")
    assert response.status_code == 200 and {row["title"] for row in response.json()["results"]} == {"开发", "测试"}


def test_acceptance_api_and_gate(api, pm, requirement, plan, customer):
    body = {
        "requirement": requirement.pk,
        "plan": plan.pk,
        "accepted_by_contact": customer.contacts.first().pk,
        "passed": True,
        "actual_value": 31,
    }
    made = api(pm).post(f"{BASE}/acceptances/", body, format="json")
    assert made.status_code == 201, made.content
    both = api(pm).post(f"{BASE}/acceptances/", {**body, "accepted_by_user": pm.pk}, format="json")
    assert both.status_code == 400
    failed = api(pm).post(f"{BASE}/acceptances/", {**body, "passed": False}, format="json")
    assert failed.status_code == 400 and "remarks" in failed.json()
    assert Acceptance.objects.count() == 1
    assert api(pm).get(f"{BASE}/acceptances/{made.json()['id']}/").json()["accepted_by_name"].startswith("王总")


def test_change_request_steps_over_the_api(api, users, requirement):
    made = api(users["sales"]).post(
        f"{BASE}/changes/", {"requirement": requirement.pk, "what": "改结算", "why": "财务"}, format="json"
    )
    assert made.status_code == 201, made.content
    pk = made.json()["id"]
    assert made.json()["next_steps"] == ["evaluate"]
    skip = api(users["manager"]).post(f"{BASE}/changes/{pk}/decide/", {"approved": True, "reason": "好"}, format="json")
    assert skip.status_code == 400
    assert api(users["sales"]).post(f"{BASE}/changes/{pk}/evaluate/", {}, format="json").status_code == 403
    ev = api(users["engineer"]).post(
        f"{BASE}/changes/{pk}/evaluate/",
        {"impact_scope": "a", "impact_schedule": "b", "impact_cost": "c", "impact_risk": "d"},
        format="json",
    )
    assert ev.status_code == 200 and ev.json()["status"] == "evaluated"
    decided = api(users["manager"]).post(
        f"{BASE}/changes/{pk}/decide/", {"approved": True, "reason": "好"}, format="json"
    )
    assert decided.json()["next_steps"] == ["implement"]
    assert api(users["product_manager"]).post(f"{BASE}/changes/{pk}/implement/", {}, format="json").status_code == 200
    told = api(users["product_manager"]).post(f"{BASE}/changes/{pk}/tell/", {"note": "已告知"}, format="json")
    assert told.json()["status"] == "told" and told.json()["next_steps"] == []
    assert ChangeRequest.objects.get().version == 5


def test_another_teams_sales_sees_no_change_request(api, users, other_sales, requirement):
    services.change_request_create(actor=users["sales"], requirement=requirement, what="a", why="b")
    assert api(other_sales).get(f"{BASE}/changes/").json()["count"] == 0
    assert api(users["sales"]).get(f"{BASE}/changes/").json()["count"] == 1


@pytest.mark.parametrize("path", ["iterations", "plans", "tasks", "acceptances", "changes"])
def test_list_query_counts_do_not_grow(api, pm, make_requirements, path):
    def grow():
        reqs = make_requirements(2)
        it = services.iteration_create(
            actor=pm, name=f"I{Iteration.objects.count()}", start_date=D(2024, 1, 1), end_date=D(2024, 2, 1)
        )
        services.iteration_plan_requirements(actor=pm, iteration=it, requirements=reqs)
        plan = services.plan_create(
            actor=pm,
            requirements=reqs,
            title=f"P{Plan.objects.count()}",
            strategy="customer_care",
            start_date=D(2024, 1, 1),
            end_date=D(2024, 2, 1),
            milestones=[{"title": "m", "date": D(2024, 1, 9)}],
        )
        first = services.task_create(
            actor=pm, plan=plan, title="a", start_date=D(2024, 1, 1), due_date=D(2024, 1, 5), owner=pm
        )
        services.task_create(
            actor=pm, plan=plan, title="b", start_date=D(2024, 1, 6), due_date=D(2024, 1, 9), depends_on=[first]
        )
        for r in reqs:
            services.acceptance_record(actor=pm, requirement=r, plan=plan, accepted_by_user=pm, passed=True)
            services.change_request_create(actor=pm, requirement=r, what="a", why="b")

    client = api(pm)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"{BASE}/{path}/").status_code == 200
        return len(ctx.captured_queries)

    grow()
    few = count()
    grow()
    grow()
    assert count() <= few
