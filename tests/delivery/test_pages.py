"""Delivery pages: what they show, who may open them, forms that call the services, and query counts that do
not grow with the list."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from needpool.delivery import services
from needpool.delivery.models import ChangeRequest, Iteration, IterationItem, Plan, Task
from tests.conftest import count_queries

D = dt.date
pytestmark = pytest.mark.django_db


@pytest.fixture
def as_pm(client, pm):
    client.force_login(pm)
    return client


def test_roadmap_columns_now_next_later(as_pm, pm, pool):
    now = services.iteration_create(
        actor=pm, name="进行中迭代", start_date=D(2024, 3, 1), end_date=D(2024, 3, 31), status="active"
    )
    nxt = services.iteration_create(actor=pm, name="下个迭代", start_date=D(2024, 4, 1), end_date=D(2024, 4, 30))
    later = services.iteration_create(actor=pm, name="以后迭代", start_date=D(2024, 5, 1), end_date=D(2024, 5, 31))
    services.iteration_plan_requirements(actor=pm, iteration=now, requirements=[pool["r1"]])
    page = as_pm.get(reverse("delivery:roadmap"))
    assert page.status_code == 200
    html = page.content.decode()
    now_col, next_col, later_col = (html.split(f'id="column-{c}"')[1] for c in ("now", "next", "later"))
    assert now.name in now_col.split('id="column-next"')[0] and pool["r1"].code in now_col.split('id="column-next"')[0]
    assert nxt.name in next_col.split('id="column-later"')[0]
    assert later.name in later_col
    assert pool["r2"].code in later_col  # accepted (处理中) but in no iteration
    assert 'id="roadmap-gantt-data"' in html and "<script>" not in html.replace(
        '<script id="roadmap-gantt-data" type="application/json">', ""
    )


def test_roadmap_query_count_does_not_grow(as_pm, pm, make_requirements):
    def add(n):
        for _i in range(n):
            it = services.iteration_create(
                actor=pm, name=f"迭代{Iteration.objects.count()}", start_date=D(2024, 1, 1), end_date=D(2024, 2, 1)
            )
            services.iteration_plan_requirements(actor=pm, iteration=it, requirements=make_requirements(2))

    add(1)
    few = count_queries(as_pm, reverse("delivery:roadmap"))
    add(4)
    assert count_queries(as_pm, reverse("delivery:roadmap")) <= few


@pytest.mark.parametrize("name", ["delivery:iterations", "delivery:plans", "delivery:changes", "delivery:my_tasks"])
def test_lists_query_counts_do_not_grow(as_pm, pm, users, make_requirements, name):
    def grow():
        reqs = make_requirements(3)
        it = services.iteration_create(
            actor=pm, name=f"迭代{Iteration.objects.count()}", start_date=D(2024, 1, 1), end_date=D(2024, 2, 1)
        )
        services.iteration_plan_requirements(actor=pm, iteration=it, requirements=reqs)
        plan = services.plan_create(
            actor=pm,
            requirements=reqs,
            title=f"计划{Plan.objects.count()}",
            strategy="customer_care",
            start_date=D(2024, 1, 1),
            end_date=D(2024, 2, 1),
            owner=pm,
        )
        for i in range(3):
            services.task_create(
                actor=pm, plan=plan, title=f"任务{i}", start_date=D(2024, 1, 1), due_date=D(2024, 1, 5), owner=pm
            )
        for r in reqs:
            services.change_request_create(actor=pm, requirement=r, what="改", why="因")

    grow()
    few = count_queries(as_pm, reverse(name))
    grow()
    grow()
    assert count_queries(as_pm, reverse(name)) <= few


def test_detail_pages_query_counts_do_not_grow(as_pm, pm, make_requirements, iteration):
    plan = services.plan_create(
        actor=pm, title="大计划", strategy="product_iteration", start_date=D(2024, 1, 1), end_date=D(2024, 12, 1)
    )

    def grow(n):
        reqs = make_requirements(n)
        services.iteration_plan_requirements(actor=pm, iteration=iteration, requirements=reqs)
        services.plan_update(actor=pm, plan=plan, requirements=list(plan.requirements.all()) + reqs)
        previous = None
        for _i in range(n):
            previous = services.task_create(
                actor=pm,
                plan=plan,
                title=f"任务{Task.objects.count()}",
                start_date=D(2024, 1, 1),
                due_date=D(2024, 1, 9),
                owner=pm,
                depends_on=[previous] if previous else [],
            )

    grow(1)
    plan_few = count_queries(as_pm, reverse("delivery:plan", args=[plan.pk]))
    iteration_few = count_queries(as_pm, reverse("delivery:iteration", args=[iteration.pk]))
    grow(4)
    assert count_queries(as_pm, reverse("delivery:plan", args=[plan.pk])) <= plan_few
    assert count_queries(as_pm, reverse("delivery:iteration", args=[iteration.pk])) <= iteration_few


def test_plan_page_shows_criterion_tasks_gantt_and_warnings(as_pm, pm, plan, example_tasks):
    services.task_update(actor=pm, task=example_tasks["dev"], start_date=D(2024, 3, 3))
    html = as_pm.get(reverse("delivery:plan", args=[plan.pk])).content.decode()
    assert "使用率 ≥ 30 %" in html
    for title in ("PRD", "开发", "测试"):
        assert title in html
    assert 'id="plan-gantt-data"' in html and "needpool/delivery.js" in html
    assert "task-warning" in html


def test_create_iteration_add_by_code_and_remove(as_pm, pm, requirement):
    response = as_pm.post(
        reverse("delivery:iteration_create"),
        {"name": "Q3", "start_date": "2024-07-01", "end_date": "2024-09-30", "status": "planned", "public_summary": ""},
    )
    iteration = Iteration.objects.get(name="Q3")
    assert response.status_code == 302
    as_pm.post(reverse("delivery:iteration_add", args=[iteration.pk]), {"codes": f"{requirement.code}, NOPE-1"})
    assert IterationItem.objects.filter(iteration=iteration, requirement=requirement).exists()
    page = as_pm.get(reverse("delivery:iteration", args=[iteration.pk]))
    assert requirement.code in page.content.decode()
    as_pm.post(reverse("delivery:iteration_remove", args=[iteration.pk, requirement.pk]))
    assert not IterationItem.objects.exists()


def test_add_by_posted_ids(as_pm, iteration, pool):
    as_pm.post(reverse("delivery:iteration_add", args=[iteration.pk]), {"ids": [pool["r1"].pk, pool["r2"].pk, "x"]})
    assert IterationItem.objects.filter(iteration=iteration).count() == 2


def test_iteration_form_refuses_dates_out_of_order(as_pm):
    response = as_pm.post(
        reverse("delivery:iteration_create"),
        {"name": "坏", "start_date": "2024-07-01", "end_date": "2024-06-01", "status": "planned"},
    )
    assert response.status_code == 200 and "结束日期不能早于开始日期" in response.content.decode()
    assert not Iteration.objects.exists()


def test_plan_form_creates_the_worked_example(as_pm, requirement):
    data = {
        "title": "折扣规则",
        "requirement_codes": requirement.code,
        "strategy": "product_iteration",
        "solution": "配置",
        "start_date": "2024-03-01",
        "end_date": "2024-04-30",
        "milestones": "PRD 评审 2024-03-05\n上线 2024-04-25 x",
        "budget": "50000",
        "people": "4 人",
        "tools": "PingCode",
        "metric_name": "使用率",
        "comparator": "ge",
        "target_value": "30",
        "unit": "%",
    }
    response = as_pm.post(reverse("delivery:plan_create"), data)
    plan = Plan.objects.get()
    assert response.status_code == 302 and plan.criterion == "使用率 ≥ 30 %"
    assert list(plan.milestones.values_list("title", "done")) == [("PRD 评审", False), ("上线", True)]
    bad = as_pm.post(reverse("delivery:plan_create"), {**data, "requirement_codes": "NOPE-9", "milestones": "坏行"})
    assert bad.status_code == 200 and Plan.objects.count() == 1


def test_task_form_shows_the_cycle_refusal(as_pm, plan, example_tasks):
    prd = example_tasks["prd"]
    response = as_pm.post(
        reverse("delivery:task_edit", args=[prd.pk]),
        {
            "title": "PRD",
            "start_date": "2024-03-01",
            "due_date": "2024-03-05",
            "status": "todo",
            "depends_on": [example_tasks["test"].pk],
            "version": prd.version,
        },
    )
    assert response.status_code == 200 and "循环依赖" in response.content.decode()


def test_owner_moves_own_task_from_my_tasks_and_others_cannot(client, engineer, users, example_tasks):
    dev = example_tasks["dev"]
    client.force_login(engineer)
    page = client.get(reverse("delivery:my_tasks"))
    assert "开发" in page.content.decode() and "PRD" not in page.content.decode()
    client.post(
        reverse("delivery:task_move", args=[dev.pk]),
        {"status": "doing", "version": dev.version, "next": "https://evil.example/"},
    )
    assert Task.objects.get(pk=dev.pk).status == "doing"
    prd = example_tasks["prd"]
    assert client.post(reverse("delivery:task_move", args=[prd.pk]), {"status": "done"}).status_code == 403
    client.force_login(users["sales"])
    assert client.post(reverse("delivery:task_move", args=[dev.pk]), {"status": "done"}).status_code == 404


@pytest.mark.parametrize(
    "name", ["delivery:roadmap", "delivery:iterations", "delivery:iteration_create", "delivery:plan_create"]
)
def test_sales_cannot_open_planning_pages(client, users, name):
    client.force_login(users["sales"])
    assert client.get(reverse(name)).status_code == 403


def test_viewer_reads_but_cannot_create(client, users, iteration):
    client.force_login(users["viewer"])
    assert client.get(reverse("delivery:iteration", args=[iteration.pk])).status_code == 200
    assert client.get(reverse("delivery:iteration_edit", args=[iteration.pk])).status_code == 403
    assert client.post(reverse("delivery:iteration_add", args=[iteration.pk]), {"codes": "X"}).status_code == 403


def test_acceptance_page_records_and_returns_to_the_requirement(as_pm, requirement, plan, customer):
    url = reverse("delivery:acceptance_create", args=[requirement.pk])
    page = as_pm.get(url)
    assert "王总" in page.content.decode()
    response = as_pm.post(
        url,
        {
            "plan": plan.pk,
            "accepted_by_contact": customer.contacts.first().pk,
            "accepted_at": "2024-04-21T10:00",
            "passed": "1",
            "actual_value": "32",
            "remarks": "",
        },
    )
    assert response.status_code == 302
    detail = as_pm.get(reverse("requirements:detail", args=[requirement.pk])).content.decode()
    assert 'id="delivery-section"' in detail and "使用率 ≥ 30 %" in detail and "32" in detail


def test_change_request_pages_walk_the_steps(client, users, requirement):
    client.force_login(users["sales"])
    response = client.post(
        reverse("delivery:change_create", args=[requirement.pk]),
        {"what": "按季度结算", "why": "财务要求", "requested_by": "王总"},
    )
    change = ChangeRequest.objects.get()
    assert response.status_code == 302
    client.force_login(users["product_manager"])
    page = client.get(reverse("delivery:change", args=[change.pk])).content.decode()
    assert 'id="step-evaluate"' in page and 'id="step-decide"' not in page
    client.post(
        reverse("delivery:change_evaluate", args=[change.pk]),
        {
            "evaluate-impact_scope": "a",
            "evaluate-impact_schedule": "b",
            "evaluate-impact_cost": "c",
            "evaluate-impact_risk": "d",
            "version": 1,
        },
    )
    client.post(reverse("delivery:change_implement", args=[change.pk]), {"implement-note": "跳步"})
    change.refresh_from_db()
    assert change.status == "evaluated"
    client.post(
        reverse("delivery:change_decide", args=[change.pk]), {"decide-approved": "0", "decide-reason": "超范围"}
    )
    change.refresh_from_db()
    assert change.status == "rejected"
    history = client.get(reverse("requirements:detail", args=[requirement.pk])).content.decode()
    assert "已驳回" in history


def test_active_iteration_shows_the_change_request_notice(as_pm, pm, requirement, iteration):
    services.iteration_plan_requirements(actor=pm, iteration=iteration, requirements=[requirement])
    detail = reverse("requirements:detail", args=[requirement.pk])
    assert 'id="change-notice"' not in as_pm.get(detail).content.decode()
    services.iteration_update(actor=pm, iteration=iteration, status="active")
    assert 'id="change-notice"' in as_pm.get(detail).content.decode()
    from needpool.requirements.services import requirement_transition

    requirement_transition(actor=pm, requirement=requirement, to="rejected", note="不做了")
    assert 'id="change-notice"' not in as_pm.get(detail).content.decode()  # nothing is being built any more


def test_sales_sees_the_section_without_other_customers_contacts(client, users, pm, requirement, customer_b, plan):
    from needpool.customers.services import contact_create
    from needpool.requirements.services import feedback_create

    other = contact_create(actor=pm, customer=customer_b, name="李秘书", email="li@b-corp.cn")
    feedback_create(actor=pm, requirement=requirement, customer=customer_b, raw_text="B 公司也要", channel="sales")
    services.acceptance_record(actor=pm, requirement=requirement, plan=plan, accepted_by_contact=other, passed=True)
    client.force_login(users["sales"])
    html = client.get(reverse("requirements:detail", args=[requirement.pk])).content.decode()
    assert 'id="delivery-section"' in html and "使用率 ≥ 30 %" in html
    assert "李秘书" not in html and "B制造企业" not in html.split('id="delivery-section"')[1].split("</section>")[0]


def test_a_sales_task_owner_opens_the_plan_but_sees_no_acceptance_records(client, users, pm, plan, requirement):
    services.task_create(
        actor=pm, plan=plan, title="客户回访", start_date=D(2024, 3, 1), due_date=D(2024, 3, 2), owner=users["sales"]
    )
    services.acceptance_record(
        actor=pm, requirement=requirement, plan=plan, accepted_by_user=pm, passed=False, remarks="内部备注XYZ"
    )
    client.force_login(users["sales"])
    page = client.get(reverse("delivery:plan", args=[plan.pk]))
    assert page.status_code == 200 and "客户回访" in page.content.decode()
    assert "内部备注XYZ" not in page.content.decode() and "不通过" not in page.content.decode()
    client.force_login(users["service"])  # same team, but owns no task of the plan
    assert client.get(reverse("delivery:plan", args=[plan.pk])).status_code == 404


def test_plan_into_an_iteration_from_the_requirement_page(as_pm, client, users, requirement, iteration):
    detail = reverse("requirements:detail", args=[requirement.pk])
    assert 'id="plan-into-iteration"' in as_pm.get(detail).content.decode()
    url = reverse("delivery:requirement_iteration", args=[requirement.pk])
    assert as_pm.post(url, {"iteration": iteration.pk}).status_code == 302
    assert IterationItem.objects.get(requirement=requirement).iteration_id == iteration.pk
    html = as_pm.get(detail).content.decode()
    assert 'id="plan-into-iteration"' not in html and iteration.name in html
    assert as_pm.post(url, {"iteration": "x"}).status_code == 404
    client.force_login(users["engineer"])
    assert client.post(url, {"iteration": iteration.pk}).status_code == 403


def test_requirement_section_query_count_does_not_grow(as_pm, pm, requirement):
    detail = reverse("requirements:detail", args=[requirement.pk])

    def grow():
        plan = services.plan_create(
            actor=pm,
            requirements=[requirement],
            title=f"计划{Plan.objects.count()}",
            strategy="customer_care",
            start_date=D(2024, 1, 1),
            end_date=D(2024, 2, 1),
        )
        first = services.task_create(
            actor=pm, plan=plan, title="a", start_date=D(2024, 1, 1), due_date=D(2024, 1, 3), owner=pm
        )
        services.task_create(
            actor=pm, plan=plan, title="b", start_date=D(2024, 1, 4), due_date=D(2024, 1, 9), depends_on=[first]
        )
        services.acceptance_record(actor=pm, requirement=requirement, plan=plan, accepted_by_user=pm, passed=True)
        services.change_request_create(actor=pm, requirement=requirement, what="a", why="b")

    grow()
    as_pm.get(detail)
    few = count_queries(as_pm, detail)
    grow()
    grow()
    assert count_queries(as_pm, detail) <= few


def test_the_change_log_names_delivery_entries(as_pm, pm, requirement, plan, iteration):
    services.iteration_plan_requirements(actor=pm, iteration=iteration, requirements=[requirement])
    services.acceptance_record(actor=pm, requirement=requirement, accepted_by_user=pm, passed=True)
    services.change_request_create(actor=pm, requirement=requirement, what="a", why="b")
    html = as_pm.get(reverse("requirements:detail", args=[requirement.pk])).content.decode()
    import re

    shown = set(re.findall(r"<th class=\"w-25 fw-normal text-secondary\">([^<]*)</th>", html))
    assert {"迭代", "落地计划", "验收", "需求变更"} <= shown
    assert not {"iteration", "plan", "acceptance", "change_request"} & shown
