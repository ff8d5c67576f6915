"""In a real browser, laptop and phone: an admin opens 分类规则 from the menu, changes an urgency's SLA hours,
sees old → new in the history, adds a tag, deactivates it, moves an option, and marks the rules reviewed;
the requirement page names its rule version."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from needpool.requirements.models import ClassOption
from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in
from tests.e2e.helpers import assert_no_horizontal_overflow, screenshot

pytestmark = pytest.mark.e2e

SIZES = {"laptop": (1366, 768), "phone": (390, 844)}


def _open_from_menu(page, phone: bool) -> None:
    page.goto(page.base_url + "/")
    if phone:
        page.locator(".navbar-toggler").click()
        expect(page.locator("#nav-admin")).to_be_visible()  # the menu has finished unfolding
    item = page.locator("#nav-classification")
    for _attempt in range(3):
        # On a loaded machine a click during the menu's animation can be lost: open the dropdown until it shows.
        page.locator("#nav-admin").click()
        try:
            expect(item).to_be_visible(timeout=3000)
            break
        except AssertionError:
            continue
    item.click()
    page.wait_for_url("**/settings/classification/")


@pytest.mark.parametrize("size", list(SIZES))
def test_an_admin_edits_the_rules(page, users, requirement, size):
    width, height = SIZES[size]
    page.set_viewport_size({"width": width, "height": height})
    page.goto(page.base_url + "/accounts/login/", timeout=60_000)  # the live server's first page can be slow
    sign_in(page, "admin", PASSWORD)
    _open_from_menu(page, phone=size == "phone")
    expect(page.locator("#current-rule-version")).to_have_text("v1")
    assert_no_horizontal_overflow(page, width)
    screenshot(page, f"classification_index_{size}")

    # Urgency: 紧急 from 24 to 12 hours.
    page.locator("#classification-nav").get_by_role("link", name="紧急程度").click()
    urgent = ClassOption.objects.get(dimension="urgency", key="urgent")
    row = page.locator(f"#option-{urgent.pk}")
    expect(row).to_contain_text("首次响应 24 小时")
    row.locator(".option-edit").click()
    expect(page.locator("#id_sla_hours_helptext")).to_contain_text("已有需求保留提交时的截止时间")
    page.locator("#id_sla_hours").fill("0")
    page.locator("#option-save").click()
    expect(page.locator("#id_sla_hours_error")).to_contain_text("首次响应时限须为 1 到 8760 之间的整数")
    page.locator("#id_sla_hours").fill("12")
    page.locator("#option-save").click()
    page.wait_for_url("**/settings/classification/urgency/")
    expect(page.locator(".alert-success")).to_contain_text("分类规则为 v2")
    expect(row).to_contain_text("首次响应 12 小时")
    history = page.locator("#classification-history .history-entry").first
    expect(history).to_contain_text("首次响应时限（小时）")
    expect(history.locator("del")).to_have_text("24")
    assert_no_horizontal_overflow(page, width)
    screenshot(page, f"classification_urgency_{size}")

    # Tags: add one, move it up, deactivate it.
    page.locator("#classification-nav").get_by_role("link", name="标签").click()
    page.locator("#option-add").click()
    page.locator("#id_label").fill("数据导出")
    page.locator("#id_label_en").fill("Data export")
    page.locator("#id_key").fill("data_export")
    page.locator("#option-save").click()
    page.wait_for_url("**/settings/classification/tag/")
    made = ClassOption.objects.get(dimension="tag", key="data_export")
    new_row = page.locator(f"#option-{made.pk}")
    expect(new_row).to_contain_text("0 条需求在用")
    expect(page.locator(".option-row").last).to_have_id(f"option-{made.pk}")
    new_row.locator(".option-up").click()
    expect(page.locator(".option-row").nth(-2)).to_have_id(f"option-{made.pk}")
    page.locator(f"#option-{made.pk} .option-deactivate").click()
    expect(page.locator(f"#option-{made.pk} .option-state")).to_have_text("已停用")
    assert_no_horizontal_overflow(page, width)
    screenshot(page, f"classification_tags_{size}")

    # The overview: version 5 now; mark the rules reviewed.
    page.locator("#classification-nav").get_by_role("link", name="概览").click()
    expect(page.locator("#current-rule-version")).to_have_text("v5")
    expect(page.locator(".rule-version").first).to_contain_text("停用")
    page.locator("#review-note").fill("本季度复核：紧急改为 12 小时")
    page.locator("#review-mark").click()
    expect(page.locator("#last-review")).to_contain_text("规则 v5")
    expect(page.locator("#review-due")).to_have_count(0)
    screenshot(page, f"classification_reviewed_{size}")

    # The requirement page names the version that classified it.
    page.goto(f"{page.base_url}/requirements/{requirement.pk}/")
    expect(page.locator("#rule-version")).to_have_text("分类规则 v1")
