"""Delivery in a real browser: the roadmap's Now / Next / Later columns and timeline, a plan's Gantt chart with
its tasks (drawn by frappe-gantt from the page's JSON, no CSP violation), an owner moving a task from "my
tasks", and the public roadmap at phone width."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from playwright.sync_api import expect

from needpool.delivery import services
from needpool.delivery.models import Task
from tests.conftest import PASSWORD
from tests.e2e.conftest import ARTIFACTS, sign_in

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
D = dt.date


def _csp_watch(page: Any) -> list[str]:
    """CSP violations on the console, less one known and harmless: frappe-gantt writes the hatch pattern for
    ignored dates (an option these charts do not use) with a style attribute on every render."""
    seen: list[str] = []

    def note(message: Any) -> None:
        text = message.text
        if not ("Content Security Policy" in text or "Content-Security-Policy" in text):
            return
        hatch = "Applying inline style" in text and "frappe-gantt.umd.js" in str(message.location.get("url"))
        if not hatch:
            seen.append(f"{text} @ {message.location}")

    page.on("console", note)
    page.on("pageerror", lambda error: seen.append(str(error)))
    return seen


@pytest.fixture
def delivery_world(users, requirement):
    pm, engineer = users["product_manager"], users["engineer"]
    today = dt.date.today()
    now = services.iteration_create(
        actor=pm,
        name="当前迭代",
        start_date=today - dt.timedelta(days=10),
        end_date=today + dt.timedelta(days=20),
        status="active",
        is_public=True,
        public_summary="批量折扣规则即将上线",
    )
    services.iteration_create(
        actor=pm, name="下个迭代", start_date=today + dt.timedelta(days=21), end_date=today + dt.timedelta(days=50)
    )
    services.iteration_plan_requirements(actor=pm, iteration=now, requirements=[requirement])
    plan = services.plan_create(
        actor=pm,
        requirements=[requirement],
        title="批量折扣规则上线",
        strategy="product_iteration",
        owner=pm,
        start_date=D(2024, 3, 1),
        end_date=D(2024, 4, 30),
        metric_name="使用率",
        comparator="ge",
        target_value=30,
        unit="%",
        milestones=[{"title": "PRD 评审", "date": D(2024, 3, 5)}],
    )
    prd = services.task_create(
        actor=pm, plan=plan, title="PRD", start_date=D(2024, 3, 1), due_date=D(2024, 3, 5), owner=pm
    )
    dev = services.task_create(
        actor=pm,
        plan=plan,
        title="开发",
        start_date=D(2024, 3, 6),
        due_date=D(2024, 4, 10),
        owner=engineer,
        depends_on=[prd],
    )
    services.task_create(
        actor=pm,
        plan=plan,
        title="测试",
        start_date=D(2024, 4, 11),
        due_date=D(2024, 4, 20),
        owner=engineer,
        depends_on=[dev],
    )
    services.task_move(actor=pm, task=prd, status="done")
    return {"plan": plan, "dev": dev, "iteration": now}


def test_roadmap_and_plan_gantt_draw_without_csp_violations(page, delivery_world, requirement):
    violations = _csp_watch(page)
    sign_in(page, "product_manager", PASSWORD)
    page.goto(page.base_url + "/delivery/")
    expect(page.locator("#column-now")).to_contain_text("当前迭代")
    expect(page.locator("#column-now")).to_contain_text(requirement.code)
    expect(page.locator("#column-next")).to_contain_text("下个迭代")
    expect(page.locator("#roadmap-gantt[data-gantt-ready]")).to_have_count(1)
    expect(page.locator("#roadmap-gantt .bar-wrapper")).to_have_count(2)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "delivery-roadmap.png"), full_page=True)

    page.goto(page.base_url + f"/delivery/plans/{delivery_world['plan'].pk}/")
    expect(page.locator("#plan-criterion")).to_have_text("使用率 ≥ 30 %")
    expect(page.locator("#plan-gantt[data-gantt-ready]")).to_have_count(1)
    expect(page.locator("#plan-gantt .bar-wrapper")).to_have_count(3)
    expect(page.locator("#plan-gantt .bar-wrapper.gantt-done")).to_have_count(1)
    page.locator('[data-gantt-mode="Month"][data-gantt-target="plan-gantt"]').click()
    expect(page.locator('[data-gantt-mode="Month"][data-gantt-target="plan-gantt"]')).to_have_class("btn active")
    page.screenshot(path=str(ARTIFACTS / "delivery-plan-gantt.png"), full_page=True)
    assert violations == []


def test_owner_moves_a_task_from_my_tasks(page, delivery_world):
    sign_in(page, "engineer", PASSWORD)
    page.goto(page.base_url + "/delivery/tasks/mine/")
    row = page.locator(f"#task-{delivery_world['dev'].pk}")
    expect(row).to_contain_text("已逾期")
    row.locator("select[name=status]").select_option("doing")
    row.get_by_role("button", name="更新").click()
    expect(page.locator(".alert-success")).to_contain_text("任务“开发”已更新")
    assert Task.objects.get(pk=delivery_world["dev"].pk).status == "doing"
    expect(page.locator(f"#task-{delivery_world['dev'].pk} .task-status")).to_have_text("进行中")


def test_public_roadmap_at_phone_width(browser, live_server, delivery_world, requirement):
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        page.goto(live_server.url + "/portal/roadmap/")
        expect(page.locator("#public-roadmap")).to_contain_text("当前迭代")
        expect(page.locator("#public-roadmap")).to_contain_text("批量折扣规则即将上线")
        expect(page.locator("body")).not_to_contain_text(requirement.code)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, width
        page.screenshot(path=str(ARTIFACTS / "delivery-public-roadmap-phone.png"), full_page=True)
    finally:
        context.close()


def test_a_task_title_is_text_in_the_gantt_chart_never_markup(page, delivery_world, users):
    plan = delivery_world["plan"]
    services.task_create(
        actor=users["product_manager"],
        plan=plan,
        title='<img src=x onerror="window.__xss=1">上线',
        start_date=D(2024, 4, 21),
        due_date=D(2024, 4, 25),
    )
    sign_in(page, "product_manager", PASSWORD)
    page.goto(page.base_url + f"/delivery/plans/{plan.pk}/")
    expect(page.locator("#plan-gantt .bar-wrapper")).to_have_count(4)
    expect(page.locator("#plan-gantt .bar-label", has_text="<img")).to_have_count(1)
    assert page.locator("#plan-gantt img").count() == 0
    assert page.evaluate("window.__xss") is None


def test_requirement_page_shows_the_delivery_section(page, delivery_world, requirement, users):
    services.iteration_update(actor=users["product_manager"], iteration=delivery_world["iteration"], status="active")
    services.change_request_create(actor=users["sales"], requirement=requirement, what="按季度结算", why="财务要求")
    sign_in(page, "product_manager", PASSWORD)
    page.goto(page.base_url + f"/requirements/{requirement.pk}/")
    section = page.locator("#delivery-section")
    expect(section).to_contain_text("当前迭代")
    expect(section.locator("#change-notice")).to_be_visible()
    expect(section.locator(".section-criterion")).to_have_text("使用率 ≥ 30 %")
    expect(section.locator(".section-task")).to_have_count(3)
    expect(section.locator("#section-changes")).to_contain_text("按季度结算")
    section.scroll_into_view_if_needed()
    section.screenshot(path=str(ARTIFACTS / "delivery-requirement-section.png"))


def test_plan_and_roadmap_pages_fit_a_phone(browser, live_server, delivery_world):
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.base_url = live_server.url
    try:
        sign_in(page, "product_manager", PASSWORD)
        for path in ("/delivery/", f"/delivery/plans/{delivery_world['plan'].pk}/", "/delivery/tasks/mine/"):
            page.goto(live_server.url + path)
            page.wait_for_load_state("networkidle")
            width = page.evaluate("document.documentElement.scrollWidth")
            # What sticks out, for the failure message (an absolutely placed element escapes a scroll box).
            wide = page.evaluate(
                "Array.from(document.querySelectorAll('body *')).filter(e => !e.closest('svg')"
                " && e.getBoundingClientRect().right > 392 && e.parentElement.getBoundingClientRect().right <= 392)"
                ".slice(0, 8).map(e => e.tagName + '#' + e.id + ' ' + Math.round(e.getBoundingClientRect().right))"
            )
            assert width <= 390, (path, width, wide)
        page.screenshot(path=str(ARTIFACTS / "delivery-mine-phone.png"), full_page=True)
        page.goto(live_server.url + f"/delivery/plans/{delivery_world['plan'].pk}/")
        page.screenshot(path=str(ARTIFACTS / "delivery-plan-phone.png"), full_page=True)
    finally:
        context.close()
