"""The sales rep opens A科技公司's needs report from the customer page (worked example 3): the explicit and
implicit needs, the priority chart and the next step, on a desktop and on a phone without sideways scrolling."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from playwright.sync_api import expect

from needpool.customers.models import Customer
from needpool.demo.examples import load_examples
from needpool.demo.users import DEMO_SALES, demo_users_ensure
from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in
from tests.e2e.helpers import assert_no_horizontal_overflow, screenshot


def _demo_sales() -> Any:
    users = demo_users_ensure()
    load_examples(users=users)
    sales = users[DEMO_SALES]
    sales.set_password(PASSWORD)
    sales.save()
    return sales


def test_the_customer_needs_report_on_desktop_and_phone(page: Any) -> None:
    _demo_sales()
    customer = Customer.objects.get(code="C2024001")
    next_step = (timezone.localdate() + dt.timedelta(days=14)).isoformat()
    sign_in(page, DEMO_SALES, PASSWORD)
    page.goto(page.base_url + f"/customers/{customer.pk}/")
    page.locator("#customer-report").click()
    page.wait_for_load_state("networkidle")
    assert page.url.endswith(f"/reports/customers/{customer.pk}/")
    document = page.locator("#report-document")
    expect(page.locator("h2.page-title, .page-title").first).to_contain_text("客户需求报告 · A科技公司")
    expect(document).to_contain_text("实时监控：业务系统运行状态与告警大屏")
    expect(document).to_contain_text("开放 API：与客户自有平台对接")
    expect(document).to_contain_text("降低运营成本：上线后的运维投入测算与优化")
    expect(document).to_contain_text(next_step)
    expect(document).to_contain_text("发送实时监控与开放 API 方案及运营成本测算")
    expect(document.locator("canvas, svg").first).to_be_visible()
    screenshot(page, "reports_customer_1366")

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    page.wait_for_load_state("networkidle")
    expect(page.locator("#report-document")).to_contain_text("降低运营成本")
    assert_no_horizontal_overflow(page, 390)
    screenshot(page, "reports_customer_390")


def test_the_project_report_opens_from_the_project_page(page: Any, users: Any) -> None:
    from needpool.analysis.services.projects import project_create

    sales = _demo_sales()
    pm = users["product_manager"]
    project = project_create(
        actor=pm,
        name="互联网与制造业客户需求",
        goal="找出影响潜力客户转化的需求",
        leader=pm,
        start_date=timezone.localdate() - dt.timedelta(days=30),
        end_date=timezone.localdate() + dt.timedelta(days=60),
        scope={"industries": ["互联网", "制造业"]},
        members=[(sales, "客户访谈")],
    )
    sign_in(page, "product_manager", PASSWORD)
    page.goto(page.base_url + f"/analysis/projects/{project.pk}/")
    page.locator("#project-report").click()
    page.wait_for_load_state("networkidle")
    assert page.url.endswith(f"/reports/projects/{project.pk}/")
    document = page.locator("#report-document")
    expect(document).to_contain_text("找出影响潜力客户转化的需求")
    expect(document).to_contain_text("A科技公司")
    expect(document).to_contain_text("B制造企业")
    expect(document).not_to_contain_text("悦购电子商务有限公司")
    screenshot(page, "reports_project_1366")
