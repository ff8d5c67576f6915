"""The language select in the navbar switches the interface to English and back."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in
from tests.e2e.helpers import screenshot


def test_choosing_english_in_the_navbar_switches_the_page_language(page, users, requirement):
    sign_in(page, "sales", PASSWORD)
    page.goto(page.base_url + "/requirements/")
    html = page.locator("html")
    expect(html).to_have_attribute("lang", "zh-hans")

    page.locator("#nav-language").select_option("en")

    expect(html).to_have_attribute("lang", "en")
    assert page.url.endswith("/requirements/")  # set_language came back to the same page
    expect(page.locator(".page-title")).to_be_visible()
    expect(page.locator("#requirement-table .requirement-row")).to_have_count(1)
    expect(page.locator("#nav-language")).to_have_value("en")
    screenshot(page, "english-requirement-list")

    # The choice sticks for the next page, and switching back restores Chinese.
    page.goto(page.base_url + "/customers/")
    expect(html).to_have_attribute("lang", "en")
    expect(page.locator(".page-title")).to_be_visible()
    screenshot(page, "english-customer-list")
    page.locator("#nav-language").select_option("zh-hans")
    expect(html).to_have_attribute("lang", "zh-hans")
    expect(page.locator(".page-title")).to_have_text("客户")
