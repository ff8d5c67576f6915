"""The requirement detail page on a phone (390×844) and a laptop (1366×768): on the phone the status, the 流转
buttons and 编辑 are on the first screen and the long cards are folded; on the laptop the two columns stay."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from needpool.customers.models import Customer
from needpool.customers.services import interaction_create
from needpool.requirements.services import comment_create, feedback_create, requirement_create
from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in
from tests.e2e.helpers import assert_no_horizontal_overflow, other_context, screenshot

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
LAPTOP = {"viewport": {"width": 1366, "height": 768}}
LONG = "客户在月底对账时需要把全部订单按客户等级汇总，再逐条核对折扣是否正确，目前只能手工导出后在表格里处理。" * 6


@pytest.fixture
def phone(browser: Any, live_server: Any, django_db_serialized_rollback: None, request: Any) -> Iterator[Any]:
    with other_context(browser, live_server.url, f"{request.node.name}-end", **PHONE) as page:
        yield page


@pytest.fixture
def laptop(browser: Any, live_server: Any, django_db_serialized_rollback: None, request: Any) -> Iterator[Any]:
    with other_context(browser, live_server.url, f"{request.node.name}-end", **LAPTOP) as page:
        yield page


@pytest.fixture
def busy(users, customer, requirement):
    """A requirement with a long page: many feedback items, comments, a customer with history, other needs."""
    Customer.objects.filter(pk=customer.pk).update(employees=320, segment="high_value")
    for i in range(8):
        feedback_create(
            actor=users["sales"],
            raw_text=f"第{i}条：{LONG}",
            channel="sales",
            customer=customer,
            requirement=requirement,
        )
    for i in range(10):
        comment_create(actor=users["product_manager"], requirement=requirement, body=f"评论{i}：{LONG}")
    for days in (1, 5, 9, 20):
        interaction_create(
            actor=users["sales"],
            customer=customer,
            occurred_at=timezone.now() - dt.timedelta(days=days),
            channel="visit",
            key_content=f"{days} 天前拜访：讨论批量折扣",
        )
    requirement_create(actor=users["sales"], customer=customer, title="对账单按月导出")
    return requirement


def _in_first_screen(page: Any, selector: str, height: int) -> None:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, selector
    assert box["y"] >= 0 and box["y"] + box["height"] <= height, (selector, box)


def test_phone_shows_the_status_and_its_actions_first_and_folds_the_long_cards(phone, users, busy):
    sign_in(phone, "product_manager", PASSWORD)
    phone.goto(phone.base_url + f"/requirements/{busy.pk}/")
    phone.wait_for_selector("#comments.is-folded")
    assert_no_horizontal_overflow(phone, 390)
    screenshot(phone, "detail-phone-first-screen")

    # Without scrolling: the current status, the 流转 buttons and 编辑.
    _in_first_screen(phone, "#current-status", 844)
    _in_first_screen(phone, "#transition-form button[name=to]", 844)
    _in_first_screen(phone, "#edit-requirement", 844)
    assert phone.evaluate("() => window.scrollY") == 0

    # The long cards are folded to their headers; the page is no longer thousands of pixels long.
    for card in ("#evidence", "#comments", "#status-history"):
        assert "is-folded" in (phone.locator(card).get_attribute("class") or ""), card
    assert phone.locator("[data-fold]:has(#audit-log)").get_attribute("class") == "is-folded"
    expect(phone.locator("#comment-form")).to_be_hidden()
    height = phone.evaluate("() => document.documentElement.scrollHeight")
    assert height < 4000, height

    # Unfold the comments: the form is there.
    phone.locator("#comments .detail-fold-toggle").click()
    expect(phone.locator("#comment-form")).to_be_visible()
    expect(phone.locator("#comments .detail-fold-toggle")).to_have_attribute("aria-expanded", "true")

    # The customer profile is on the page, under the status and classification.
    profile = phone.locator("#customer-profile")
    profile.scroll_into_view_if_needed()
    expect(profile).to_contain_text("A科技公司")
    expect(profile).to_contain_text("320 人")
    expect(profile).to_contain_text("对账单按月导出")
    assert_no_horizontal_overflow(phone, 390)
    screenshot(phone, "detail-phone-profile")


def test_phone_opens_the_card_the_address_points_into(phone, users, busy):
    sign_in(phone, "product_manager", PASSWORD)
    phone.goto(phone.base_url + f"/requirements/{busy.pk}/#comment-form")
    phone.wait_for_selector("#evidence.is-folded")
    assert "is-folded" not in (phone.locator("#comments").get_attribute("class") or "")
    expect(phone.locator("#comment-form")).to_be_visible()


def test_laptop_keeps_two_columns_and_nothing_folded(laptop, users, busy):
    sign_in(laptop, "product_manager", PASSWORD)
    laptop.goto(laptop.base_url + f"/requirements/{busy.pk}/")
    laptop.wait_for_load_state("networkidle")
    assert_no_horizontal_overflow(laptop, 1366)
    content = laptop.locator("#requirement-content").bounding_box()
    status = laptop.locator("#requirement-status").bounding_box()
    profile = laptop.locator("#customer-profile").bounding_box()
    assert content and status and profile
    assert status["x"] > content["x"] + content["width"] - 1  # the status card is in the right column
    assert abs(status["y"] - content["y"]) < 2
    assert abs(profile["x"] - status["x"]) < 2  # the profile sits in the same column
    assert laptop.locator("[data-fold].is-folded").count() == 0
    assert laptop.locator(".detail-fold-toggle").count() == 0
    expect(laptop.locator("#comment-form")).to_be_visible()
    _in_first_screen(laptop, "#transition-form button[name=to]", 768)
    screenshot(laptop, "detail-laptop")
