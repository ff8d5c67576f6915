"""The feedback inbox and triage at 390×844 and 1366×768: on a phone the inbox rows are cards with 处理 on
screen and names on one line, and triage shows the customer's words, then the similar requirements with the
link / create actions, then the suggestions and the customer profile; on a laptop the table and two columns stay."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from needpool.customers.services import customer_create
from needpool.requirements.services import feedback_create, requirement_create
from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in
from tests.e2e.helpers import assert_no_horizontal_overflow, other_context, screenshot

SCREENS: dict[str, dict[str, Any]] = {
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "device_scale_factor": 2,
        "is_mobile": True,
        "has_touch": True,
    },
    "laptop": {"viewport": {"width": 1366, "height": 768}},
}


@pytest.fixture(params=["phone", "laptop"])
def screen(request: Any, browser: Any, live_server: Any, django_db_serialized_rollback: None) -> Iterator[Any]:
    with other_context(browser, live_server.url, f"inbox-{request.param}-end", **SCREENS[request.param]) as page:
        page.kind = request.param
        page.width = SCREENS[request.param]["viewport"]["width"]
        yield page


@pytest.fixture
def inbox(users, customer):
    requirement_create(
        actor=users["sales"], customer=customer, title="批量导出订单报表", description="按月批量导出订单"
    )
    long_name = customer_create(
        actor=users["sales"], name="华东区域连锁零售集团股份有限公司", industry="零售", owner=users["sales"]
    )
    items = [
        feedback_create(
            actor=users["sales"],
            raw_text=f"希望能批量导出订单报表，每月对账要用，目前只能一条条复制。第{i}次提到。" * 2,
            channel="sales",
            customer=long_name if i % 2 else customer,
        )
        for i in range(4)
    ]
    return items


def _box(page: Any, selector: str) -> dict[str, float]:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, selector
    return box


def test_inbox_rows_and_triage_fit_the_screen(screen, users, customer, inbox):
    width = screen.width
    sign_in(screen, "sales", PASSWORD)
    screen.goto(screen.base_url + "/requirements/feedback/")
    expect(screen.locator("#inbox-table .inbox-row")).to_have_count(len(inbox))
    assert_no_horizontal_overflow(screen, width)

    # 处理 is on screen in every row, and a long customer name keeps to a line or two, not a letter per line.
    for row in screen.locator("#inbox-table .inbox-row").all():
        handle = row.locator(".inbox-handle").bounding_box()
        assert handle is not None and handle["x"] >= 0 and handle["x"] + handle["width"] <= width, handle
        name = row.locator(".inbox-customer-name").bounding_box()
        assert name is not None and name["height"] < 60, name
    long_name = screen.locator(".inbox-customer-name", has_text="华东区域连锁零售集团股份有限公司").first.bounding_box()
    assert long_name is not None and long_name["height"] < 60, long_name
    if screen.kind == "phone":
        expect(screen.locator("#inbox-table thead")).to_be_hidden()
        expect(screen.locator(".inbox-meta").first).to_be_visible()  # time and channel under the name
        _first = _box(screen, "#inbox-table .inbox-row .inbox-handle")
        assert _first["y"] + _first["height"] <= 844  # the first 处理 without scrolling
    else:
        expect(screen.locator("#inbox-table thead")).to_be_visible()
        expect(screen.locator(".inbox-meta").first).to_be_hidden()
    screenshot(screen, f"inbox-{screen.kind}")

    screen.locator("#inbox-table .inbox-row .inbox-handle").first.click()
    expect(screen.locator("#feedback-words")).to_be_visible()
    expect(screen.locator("#customer-profile")).to_contain_text("所属行业")
    assert_no_horizontal_overflow(screen, width)
    words, similar, profile = (_box(screen, s) for s in ("#feedback-card", "#similar-card", "#customer-profile"))
    if screen.kind == "phone":
        # One column: the words, then the similar requirements with their actions, the profile further down.
        assert words["y"] < similar["y"] < profile["y"]
        suggestions = screen.locator(".suggest-panel").first.bounding_box()
        assert suggestions is None or similar["y"] < suggestions["y"]
    else:
        assert similar["x"] > words["x"] + words["width"] - 1  # two columns
        assert abs(similar["y"] - words["y"]) < 2
        assert abs(profile["x"] - similar["x"]) < 2
    screenshot(screen, f"triage-{screen.kind}")
