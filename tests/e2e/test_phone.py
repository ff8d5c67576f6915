"""At phone width (375 px) the main pages fit the screen and the navigation collapses behind the toggler."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in
from tests.e2e.helpers import assert_no_horizontal_overflow, other_context, screenshot

WIDTH = 375
PHONE = {
    "viewport": {"width": WIDTH, "height": 812},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}


@pytest.fixture
def phone(browser: Any, live_server: Any, django_db_serialized_rollback: None, request: Any) -> Iterator[Any]:
    """Like ``page``, but a phone: 375x812, mobile viewport rules, touch (screenshot: phone-<id>-menu-open)."""
    name = f"phone-{request.node.callspec.id}-menu-open"
    with other_context(browser, live_server.url, name, **PHONE) as page:
        yield page


@pytest.mark.parametrize(
    ("path", "title"),
    [
        ("/requirements/", "需求列表"),
        ("/requirements/board/", "需求看板"),
        ("/customers/{customer}/", "A科技公司"),
    ],
    ids=["requirement-list", "board", "customer-detail"],
)
def test_page_fits_a_phone_screen_and_nav_collapses(phone, request, users, customer, requirement, path, title):
    sign_in(phone, "sales", PASSWORD)
    phone.goto(phone.base_url + path.format(customer=customer.pk))
    expect(phone.locator(".page-title")).to_contain_text(title)

    toggler = phone.locator(".navbar-toggler")
    menu = phone.locator("#navbar-menu")
    expect(toggler).to_be_visible()
    expect(menu).to_be_hidden()
    assert_no_horizontal_overflow(phone, WIDTH)

    screenshot(phone, f"phone-{request.node.callspec.id}")

    toggler.click()
    # Bootstrap's collapse ends with class "collapse show" once its height transition is over.
    expect(menu).to_have_class(re.compile(r"^(?=.*\bshow\b)(?!.*\bcollapsing\b)"))
    expect(toggler).to_have_attribute("aria-expanded", "true")
    expect(menu.get_by_role("link", name="看板")).to_be_visible()
    expect(phone.locator("#nav-language")).to_be_visible()
    assert_no_horizontal_overflow(phone, WIDTH)
