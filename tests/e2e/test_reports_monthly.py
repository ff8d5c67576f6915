"""In a real browser: a manager opens last month's review (figures, structure sentences, movers), types the
team's conclusions and saves them; the months list shows them; the page also fits a phone."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from needpool.reports import monthly
from needpool.reports.models import MonthlyReview
from needpool.requirements.models import Requirement
from tests.conftest import PASSWORD, option
from tests.e2e.conftest import sign_in
from tests.e2e.helpers import assert_no_horizontal_overflow, screenshot

pytestmark = pytest.mark.e2e


def test_a_manager_writes_the_conclusions_of_last_month(
    page: Any, users: dict[str, Any], make_requirements: Callable[..., list[Requirement]]
) -> None:
    month = monthly.previous_month(timezone.localdate().replace(day=1))
    key = monthly.month_key(month)
    function = option("type", "function")
    for day in (2, 9, 16):
        when = timezone.make_aware(dt.datetime.combine(month.replace(day=day), dt.time(10, 0)))
        make_requirements(1, prefix="复盘", submitted_at=when, type=function)

    sign_in(page, "manager", PASSWORD)
    page.goto(page.base_url + "/reports/monthly/")
    page.locator(f'tr.monthly-row[data-month="{key}"] a').click()
    page.wait_for_url(re.compile(rf"/reports/monthly/{key}/$"))

    document = page.locator("#report-document")
    expect(document).to_contain_text("数据截至")
    expect(document).to_contain_text("月份结束后对需求的修改也会反映在其中")
    expect(document).to_contain_text(f"本月 100% 的需求为{function.label}（3/3）")
    expect(document).to_contain_text("较上月 +3")

    form = page.locator("#conclusions-form")
    form.locator("#id_conclusions").fill("功能优化集中在批量操作。\n下月：缩短首次响应。")
    form.get_by_role("button", name="保存团队结论").click()
    expect(page.locator(".alert-success")).to_contain_text("团队结论已保存")
    expect(page.locator("#id_conclusions")).to_have_value("功能优化集中在批量操作。\n下月：缩短首次响应。")
    expect(page.locator("#conclusions-updated")).to_contain_text("manager")
    review = MonthlyReview.objects.get(month=month)
    assert review.conclusions.startswith("功能优化集中在批量操作") and review.version == 2
    screenshot(page, "reports_monthly_review")

    page.goto(page.base_url + "/reports/monthly/")
    expect(page.locator(f'tr.monthly-row[data-month="{key}"]')).to_contain_text("已填写")
    screenshot(page, "reports_monthly_list")

    page.get_by_role("link", name="定时发送").click()
    page.locator("#id_enabled").check()
    page.locator("#id_recipients").select_option([str(users["viewer"].pk), str(users["product_manager"].pk)])
    page.get_by_role("button", name="保存").click()
    expect(page.locator(".alert-success")).to_contain_text("发送设置已保存")
    expect(page.locator("#id_recipients option:checked")).to_have_count(2)
    screenshot(page, "reports_monthly_schedule")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(page.base_url + f"/reports/monthly/{key}/")
    expect(page.locator("#section-conclusions")).to_be_visible()
    assert_no_horizontal_overflow(page, 390)
    screenshot(page, "reports_monthly_review_phone")
