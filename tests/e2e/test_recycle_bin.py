"""Delete and restore in the browser: a sales rep deletes a requirement through the confirm dialog, an admin
finds it in 回收站 and restores it; at laptop (1366×768) and phone (390×844) width."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from needpool.requirements.models import Requirement
from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in
from tests.e2e.helpers import assert_no_horizontal_overflow, other_context, screenshot


@pytest.mark.parametrize(("width", "height"), [(1366, 768), (390, 844)])
def test_delete_a_requirement_and_restore_it(page, browser, users, requirement, width, height):
    page.set_viewport_size({"width": width, "height": height})
    page.goto(page.base_url + "/accounts/login/", timeout=60_000)  # the live server's first answer may be slow
    sign_in(page, "sales", PASSWORD)
    page.goto(page.base_url + f"/requirements/{requirement.pk}/")
    dialog = page.locator("#delete-dialog")
    expect(dialog).to_be_hidden()
    button = page.locator("#delete-requirement")
    expect(button).to_be_visible()
    button.click()
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(requirement.code)
    screenshot(page, f"recycle-bin-confirm-{width}")
    dialog.get_by_role("button", name="取消").click()
    expect(dialog).to_be_hidden()
    assert Requirement.objects.filter(pk=requirement.pk).exists()
    button.click()
    dialog.locator("#delete-confirm").click()
    page.wait_for_url(re.compile(r"/requirements/$"))
    expect(page.locator(".alert-success")).to_contain_text("管理员可在 30 天内从回收站恢复")
    expect(page.locator(f'a[href="/requirements/{requirement.pk}/"]')).to_have_count(0)
    assert not Requirement.objects.filter(pk=requirement.pk).exists()

    with other_context(
        browser, page.base_url, f"recycle-bin-restored-{width}", viewport={"width": width, "height": height}
    ) as admin:
        sign_in(admin, "admin", PASSWORD)
        if width > 800:
            admin.locator("#nav-admin").click()
            admin.locator("#nav-recycle-bin").click()
        else:
            admin.goto(admin.base_url + "/recycle-bin/")
        row = admin.locator(f'.bin-row[data-kind="requirement"][data-pk="{requirement.pk}"]')
        expect(row).to_contain_text(requirement.code)
        expect(row).to_contain_text("sales")
        expect(row.locator(".bin-days")).to_contain_text("还可恢复 30 天")
        restore = row.get_by_role("button", name="恢复")
        expect(restore).to_be_visible()
        assert_no_horizontal_overflow(admin, width)
        screenshot(admin, f"recycle-bin-list-{width}")
        restore.click()
        expect(admin.locator(".alert-success")).to_contain_text("已恢复")
        expect(admin.locator(f'.bin-row[data-pk="{requirement.pk}"]')).to_have_count(0)
    assert Requirement.objects.filter(pk=requirement.pk).exists()
    page.goto(page.base_url + f"/requirements/{requirement.pk}/")
    expect(page.locator("h2.page-title")).to_contain_text(requirement.title)
