"""Error pages in a real browser: in the user's language, in the app's frame, with a way back, at phone and
laptop widths — a page that does not exist, a page the user may not open, and an address too long."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in
from tests.e2e.helpers import assert_no_horizontal_overflow, screenshot

SIZES = [(390, 844), (1366, 768)]


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_not_found_and_forbidden_pages_lead_back(page, users, width, height):
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, "viewer", PASSWORD)
    # As when a stale link on the list is followed: the list is the page to go back to.
    response = page.goto(page.base_url + "/requirements/999999/", referer=page.base_url + "/requirements/")
    assert response is not None and response.status == 404
    expect(page.locator("#error-title")).to_have_text("页面不存在")
    expect(page.locator(".navbar-brand")).to_be_visible()  # the app's frame
    expect(page.locator("#error-back")).to_be_visible()
    assert_no_horizontal_overflow(page, width)
    screenshot(page, f"error-404-{width}")
    page.locator("#error-back").click()
    expect(page).to_have_url(page.base_url + "/requirements/")

    response = page.goto(page.base_url + "/requirements/new/")
    assert response is not None and response.status == 403
    expect(page.locator("#error-message")).to_contain_text("您没有创建需求的权限")
    page.locator("#error-home").click()
    expect(page).to_have_url(page.base_url + "/")


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_an_address_too_long_is_a_page_not_a_server_error(page, users, width, height):
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, "product_manager", PASSWORD)
    response = page.goto(page.base_url + "/requirements/?q=" + "长" * 700)
    assert response is not None and response.status == 414
    expect(page.locator("#error-title")).to_have_text("地址太长")
    assert_no_horizontal_overflow(page, width)
    screenshot(page, f"error-414-{width}")


def test_error_page_in_english(browser, live_server, django_db_serialized_rollback, users):
    context = browser.new_context(locale="en-US", viewport={"width": 1366, "height": 768})
    page = context.new_page()
    page.base_url = live_server.url
    try:
        sign_in(page, "viewer", PASSWORD)
        page.context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
        response = page.goto(live_server.url + "/no-such-page/")
        assert response is not None and response.status == 404
        assert page.locator("html").get_attribute("lang") == "en"
        expect(page.locator("#error-back")).to_have_text("Go back")
        screenshot(page, "error-404-english")
    finally:
        context.close()
