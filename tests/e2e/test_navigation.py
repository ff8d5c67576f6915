"""The top navigation groups the intake pages under one "收集" menu."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import ARTIFACTS, sign_in

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_collect_menu_lists_the_intake_pages_for_what_the_role_may_do(page, users):
    sign_in(page, "admin", PASSWORD)
    expect(page.locator("#nav-feedback-inbox")).to_be_hidden()
    page.locator("#nav-collect").click()
    for item in ("#nav-feedback-inbox", "#nav-intake", "#nav-import", "#nav-suggest"):
        expect(page.locator(item)).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "nav_collect_menu.png"))
    page.locator("#nav-feedback-inbox").click()
    page.wait_for_url("**/requirements/feedback/")
    expect(page.locator("#nav-collect")).to_be_visible()


def test_viewer_sees_no_import_or_model_pages_in_the_menu(page, users):
    sign_in(page, "viewer", PASSWORD)
    page.locator("#nav-collect").click()
    expect(page.locator("#nav-feedback-inbox")).to_be_visible()
    expect(page.locator("#nav-import")).to_have_count(0)
    expect(page.locator("#nav-suggest")).to_have_count(0)
