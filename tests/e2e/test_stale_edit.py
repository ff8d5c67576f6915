"""In a real browser: two people edit one requirement in two windows; the second save shows the differences
instead of reverting the first, and resolving them keeps both people's work."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in
from tests.e2e.helpers import other_context

pytestmark = pytest.mark.e2e


def test_a_stale_edit_form_shows_the_differences_and_merges_on_request(page, browser, users, requirement):
    edit_url = f"{page.base_url}/requirements/{requirement.pk}/edit/"
    sign_in(page, "manager", PASSWORD)
    page.goto(edit_url)  # the manager opens the form first …
    with other_context(browser, page.base_url, "stale_edit_first_save") as other:
        sign_in(other, "product_manager", PASSWORD)
        other.goto(edit_url)  # … the product manager opens it too and saves a new title
        other.locator("#id_title").fill("按客户等级与地区设置批量折扣")
        other.get_by_role("button", name="保存").click()
        other.wait_for_url(f"**/requirements/{requirement.pk}/")

    page.locator("#id_title").fill("按客户等级设置阶梯折扣")
    page.locator("#id_background").fill("大客户要求阶梯折扣，已确认预算")
    page.get_by_role("button", name="保存").click()

    conflict = page.locator("#stale-conflict")
    expect(conflict).to_contain_text("此记录在您打开后已被他人修改")
    row = page.locator('#stale-conflict-table tr[data-field="title"]')
    expect(row).to_contain_text("按客户等级与地区设置批量折扣")  # theirs, now
    expect(row).to_contain_text("按客户等级设置阶梯折扣")  # mine
    expect(page.locator("#stale-conflict-table tbody tr")).to_have_count(1)  # background did not clash
    if os.environ.get("NEEDPOOL_STALE_SCREENSHOT"):
        page.screenshot(path=os.environ["NEEDPOOL_STALE_SCREENSHOT"], full_page=True)
    requirement.refresh_from_db()
    assert requirement.title == "按客户等级与地区设置批量折扣"  # nothing of the stale save was written

    row.get_by_label("他人的").check()
    page.locator("#stale-save-picked").click()
    page.wait_for_url(f"**/requirements/{requirement.pk}/")
    expect(page.locator("body")).to_contain_text("已保存")
    requirement.refresh_from_db()
    assert requirement.title == "按客户等级与地区设置批量折扣"
    assert requirement.background == "大客户要求阶梯折扣，已确认预算"
