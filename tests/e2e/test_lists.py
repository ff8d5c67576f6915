"""The lists people use every day, in Chromium at 390×844 (phone) and 1366×768 (laptop): the requirement list
(cards on a phone, every column on a laptop), bulk edit and export of a selection, saved views on the
requirement and customer lists, the kanban with its collapsed columns (dragging onto one), the home page's
tables and the ranked list's "#"."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from needpool.requirements.models import Requirement
from needpool.savedviews.models import DefaultView, SavedView
from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in
from tests.e2e.helpers import KANBAN_READY, assert_no_horizontal_overflow, card, column_count, other_context, screenshot

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
LAPTOP = {"viewport": {"width": 1366, "height": 768}}
SIZES = {"phone": PHONE, "laptop": LAPTOP}


@pytest.fixture(params=["phone", "laptop"])
def screen(browser: Any, live_server: Any, django_db_serialized_rollback: None, request: Any) -> Iterator[Any]:
    """A browser page at 390×844 (phone) or 1366×768 (laptop); screenshotted as lists-<test>-<size>."""
    name = f"lists-{request.node.originalname}-{request.param}"
    with other_context(browser, live_server.url, name, **SIZES[request.param]) as page:
        page.size = request.param
        page.set_default_timeout(30_000)  # a busy machine: the first page of a fresh server can be slow
        yield page


@pytest.fixture
def laptop(browser: Any, live_server: Any, django_db_serialized_rollback: None, request: Any) -> Iterator[Any]:
    with other_context(browser, live_server.url, f"lists-{request.node.name}", **LAPTOP) as page:
        page.size = "laptop"
        page.set_default_timeout(30_000)
        yield page


def _width(page: Any) -> int:
    return int(page.viewport_size["width"])


def _no_sideways_scroll(page: Any, selector: str) -> None:
    """The element needs no horizontal scrolling (its content fits its box)."""
    sizes = page.locator(selector).first.evaluate("(el) => ({scroll: el.scrollWidth, client: el.clientWidth})")
    assert sizes["scroll"] <= sizes["client"] + 1, (selector, sizes)


def _inside_viewport(page: Any, locator: Any) -> None:
    box = locator.bounding_box()
    assert box is not None
    assert box["x"] >= 0 and box["x"] + box["width"] <= _width(page) + 1, box


# ---------------------------------------------------------------- the requirement list


def test_requirement_list_fits_cards_on_a_phone_and_every_column_on_a_laptop(screen, users, pool, make_requirements):
    make_requirements(6, prefix="一个相当长的需求标题用来检验截断与换行是否正常")
    sign_in(screen, "product_manager", PASSWORD)
    screen.goto(screen.base_url + "/requirements/?page=1")
    assert_no_horizontal_overflow(screen, _width(screen))
    _no_sideways_scroll(screen, "#requirement-table")
    row = screen.locator(f'.requirement-row[data-code="{pool["r2"].code}"]')
    if screen.size == "phone":
        expect(screen.locator("#requirement-table thead")).to_be_hidden()
        for part in (".col-code", ".col-title", ".col-status", ".col-urgency", ".col-priority", ".np-customer-count"):
            expect(row.locator(part)).to_be_visible()
        expect(row.locator(".np-customer-count")).to_have_text("1 个客户")
        expect(row.locator(".col-expected")).to_contain_text("2024-09-01")
        expect(row.locator(".sla-breached")).to_be_visible()
        _inside_viewport(screen, row)
        # a card is taller than wide-table rows and its title gets a whole line
        title = row.locator(".col-title").bounding_box()
        assert title is not None and title["width"] > 300
    else:
        for header in ("编号", "标题", "客户", "紧急程度", "状态", "优先级", "负责人", "期望时间", "SLA"):
            cell = screen.locator("#requirement-table thead th", has_text=header).first
            expect(cell).to_be_visible()
            _inside_viewport(screen, cell)
        expect(row.locator(".col-expected")).to_have_text("2024-09-01")
        _inside_viewport(screen, row.locator(".sla-breached"))
        long_title = screen.locator(".requirement-row .col-title a").first
        assert long_title.get_attribute("title")


def test_bulk_edit_of_the_selected_rows_shows_each_rows_result(screen, users, pool, customer):
    from needpool.requirements.services import requirement_create

    # sales may edit r1 (created it) and sees, but may not edit, the manager's requirement of the same customer
    theirs = requirement_create(actor=users["manager"], customer=customer, title="经理录入的需求")
    sign_in(screen, "sales", PASSWORD)
    screen.goto(screen.base_url + "/requirements/?sort=code")
    screen.locator("#select-page").check()
    expect(screen.locator("#selected-count")).to_have_text("已选 2 条")
    screen.locator("#bulk-action").select_option("urgency")
    expect(screen.locator('select[name="value_owner"]')).to_be_hidden()
    screen.locator('select[name="value_urgency"]').select_option("normal")
    assert_no_horizontal_overflow(screen, _width(screen))
    screen.locator("#bulk-apply").click()
    expect(screen.locator("#bulk-summary")).to_have_text("修改紧急程度：1 条成功，1 条未修改")
    expect(screen.locator(f'.bulk-row.bulk-ok[data-id="{pool["r1"].pk}"]')).to_contain_text("成功")
    refused = screen.locator(f'.bulk-row.bulk-refused[data-id="{theirs.pk}"]')
    expect(refused).to_contain_text("您没有执行此操作的权限")
    screenshot(screen, f"lists-bulk-result-{screen.size}")
    assert_no_horizontal_overflow(screen, _width(screen))
    pool["r1"].refresh_from_db()
    assert pool["r1"].urgency.key == "normal"
    screen.locator("#bulk-back").click()
    screen.wait_for_url("**/requirements/?sort=code")


def test_bulk_status_change_and_export_of_the_selection(laptop, users, pool):
    page = laptop
    sign_in(page, "product_manager", PASSWORD)
    page.goto(page.base_url + "/requirements/?sort=code")
    page.locator(f'.requirement-row[data-code="{pool["r1"].code}"] .merge-select').check()
    page.locator("#bulk-action").select_option("status")
    page.locator('select[name="value_status"]').select_option("in_progress")
    page.locator("#bulk-apply").click()
    expect(page.locator("#bulk-summary")).to_contain_text("1 条成功，0 条未修改")
    assert Requirement.objects.get(pk=pool["r1"].pk).status.key == "in_progress"
    page.goto(page.base_url + "/requirements/?sort=code")
    for key in ("r1", "r3"):
        page.locator(f'.requirement-row[data-code="{pool[key].code}"] .merge-select').check()
    with page.expect_download() as download:
        page.locator("#export-selected").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    # nothing selected: the bulk bar says so instead of sending an empty selection
    page.goto(page.base_url + "/requirements/?sort=code")
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#bulk-apply").click()
    expect(page.locator("#bulk-form")).to_be_visible()


# ---------------------------------------------------------------- saved views


def test_save_a_view_share_it_and_open_the_list_with_the_default(screen, users, pool):
    sign_in(screen, "sales", PASSWORD)
    screen.goto(screen.base_url + "/requirements/?urgency=important&sort=code")
    screen.locator("#saved-views .saved-views-toggle").click()
    menu = screen.locator("#saved-views .saved-views-menu")
    expect(menu).to_be_visible()
    _inside_viewport(screen, menu)
    menu.locator("#saved-view-name").fill("重要的需求")
    menu.locator('select[name="visibility"]').select_option("team")
    menu.locator('input[name="make_default"]').check()
    screenshot(screen, f"lists-saved-view-menu-{screen.size}")
    menu.locator("button[type=submit]").click()
    view = SavedView.objects.get()
    screen.wait_for_url(f"**/requirements/?urgency=important&sort=code&view={view.pk}")
    expect(screen.locator("#messages")).to_contain_text("已保存视图“重要的需求”")
    expect(screen.locator("#saved-views .saved-views-current")).to_have_text("重要的需求")
    assert DefaultView.objects.get(user=users["sales"]).view == view
    screen.goto(screen.base_url + "/requirements/")
    screen.wait_for_url(f"**/requirements/?urgency=important&sort=code&view={view.pk}")
    expect(screen.locator(".requirement-row")).to_have_count(1)
    assert_no_horizontal_overflow(screen, _width(screen))
    # "全部" shows the list without the view
    screen.locator("#saved-views .saved-views-toggle").click()
    screen.locator("#saved-views a", has_text="全部（不使用视图）").click()
    screen.wait_for_url("**/requirements/?page=1")
    expect(screen.locator("#saved-views .saved-views-current")).to_have_text("当前筛选")
    # the team mate sees it shared, read-only
    with other_context(
        screen.context.browser, screen.base_url, f"lists-shared-view-{screen.size}", **SIZES[screen.size]
    ) as mate:
        sign_in(mate, "service", PASSWORD)
        mate.goto(mate.base_url + "/views/")
        row = mate.locator(f'.saved-view-row[data-view="{view.pk}"]')
        expect(row).to_contain_text("sales 共享，只读")
        expect(row.locator(".saved-view-edit")).to_have_count(0)
        assert_no_horizontal_overflow(mate, _width(mate))


def test_manage_views_rename_and_delete_and_the_customer_list_menu(screen, users, customer):
    from needpool.savedviews.services import saved_view_create

    saved_view_create(actor=users["sales"], kind="customers", name="潜在客户", query="segment=potential")
    sign_in(screen, "sales", PASSWORD)
    screen.goto(screen.base_url + "/customers/?q=")
    screen.locator("#saved-views .saved-views-toggle").click()
    screen.locator("#saved-views .saved-view-link", has_text="潜在客户").click()
    screen.wait_for_url("**/customers/?segment=potential&view=*")
    assert_no_horizontal_overflow(screen, _width(screen))
    screen.goto(screen.base_url + "/views/")
    row = screen.locator(".saved-view-row").first
    row.locator('input[name="name"]').fill("潜在的客户")
    row.locator(".saved-view-edit button[type=submit]").click()
    expect(screen.locator("#messages")).to_contain_text("已更新视图“潜在的客户”")
    assert_no_horizontal_overflow(screen, _width(screen))
    screen.locator(".saved-view-row").first.locator(".saved-view-delete button").click()
    expect(screen.locator("#messages")).to_contain_text("已删除视图")
    assert not SavedView.objects.exists()


# ---------------------------------------------------------------- kanban


def test_kanban_shows_every_column_at_laptop_width_and_a_collapsed_column_takes_a_drop(laptop, users, pool):
    page = laptop
    sign_in(page, "product_manager", PASSWORD)
    page.goto(page.base_url + "/requirements/board/")
    page.wait_for_function(KANBAN_READY)
    _no_sideways_scroll(page, "#kanban-board")
    assert_no_horizontal_overflow(page, 1366)
    columns = page.locator(".kanban-column")
    expect(columns).to_have_count(7)
    for i in range(7):
        _inside_viewport(page, columns.nth(i))
    for key in ("closed", "deferred", "rejected", "testing", "launched"):  # the ends of the flow, and empty ones
        expect(page.locator(f'.kanban-column[data-status="{key}"]')).to_have_class(
            __import__("re").compile(r"\bkanban-collapsed\b")
        )
    expect(page.locator('.kanban-column[data-status="new"]')).not_to_have_class(
        __import__("re").compile(r"\bkanban-collapsed\b")
    )
    screenshot(page, "lists-kanban-laptop-collapsed")

    # a real drag with the mouse onto the narrow 暂缓 column
    source = card(page, pool["r1"].pk, "new")
    zone = page.locator('.kanban-column[data-status="deferred"] .kanban-cards')
    start, end = source.bounding_box(), zone.bounding_box()
    assert start is not None and end is not None and end["width"] < 60
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + 12)
    page.mouse.down()
    page.mouse.move(start["x"] + start["width"] / 2 + 5, start["y"] + 17, steps=3)
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] / 2, steps=15)
    # keep hovering until the placeholder sits in the narrow column (a busy machine may drop dragover events)
    ghost = page.locator('.kanban-column[data-status="deferred"] .kanban-card-ghost')
    hovered = page.locator('.kanban-column.kanban-drop-hover[data-status="deferred"]')
    for dy in range(1, 30):
        if ghost.count() and hovered.count():
            break
        page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] / 2 + (dy % 5) * 3, steps=2)
    expect(ghost).to_have_count(1)
    expect(page.locator(".kanban-column.kanban-drop-hover")).to_have_attribute("data-status", "deferred")
    page.mouse.up()
    expect(page.locator("#kanban-messages .alert-success")).to_contain_text("暂缓")
    expect(column_count(page, "deferred")).to_have_text("1")
    assert Requirement.objects.get(pk=pool["r1"].pk).status.key == "deferred"

    # the column opened to show the card it took; a click on its name collapses it again, another opens it
    expect(card(page, pool["r1"].pk, "deferred")).to_be_visible()
    _no_sideways_scroll(page, "#kanban-board")
    screenshot(page, "lists-kanban-laptop-expanded")
    toggle = page.locator('.kanban-column[data-status="deferred"] .kanban-toggle')
    toggle.click()
    expect(card(page, pool["r1"].pk, "deferred")).to_be_hidden()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.click()
    expect(card(page, pool["r1"].pk, "deferred")).to_be_visible()


def test_kanban_on_a_phone_scrolls_inside_the_board_only(screen, users, pool):
    sign_in(screen, "product_manager", PASSWORD)
    screen.goto(screen.base_url + "/requirements/board/")
    assert_no_horizontal_overflow(screen, _width(screen))
    if screen.size == "laptop":
        _no_sideways_scroll(screen, "#kanban-board")


# ---------------------------------------------------------------- home and the ranked list


def test_home_tables_show_the_first_response_deadline(screen, users, pool):
    sign_in(screen, "product_manager", PASSWORD)
    screen.goto(screen.base_url + "/")
    assert_no_horizontal_overflow(screen, _width(screen))
    for card_id in ("#home-sla", "#home-my-open"):
        expect(screen.locator(f"{card_id} table")).to_be_visible()
        if screen.size == "laptop":
            _no_sideways_scroll(screen, f"{card_id} .table-responsive")
            due = screen.locator(f"{card_id} thead th", has_text="首次响应截止")
            _inside_viewport(screen, due)
    expect(screen.locator("#home-sla")).to_contain_text(pool["r2"].code)


def test_ranked_list_numbers_do_not_wrap(screen, users, make_requirements):
    make_requirements(12)
    sign_in(screen, "product_manager", PASSWORD)
    screen.goto(screen.base_url + "/analysis/ranked/")
    ranks = screen.locator("#ranked-table .ranked-rank")
    expect(ranks.first).to_be_visible()
    heights = ranks.evaluate_all(
        "(cells) => cells.map((c) => { const r = document.createRange(); r.selectNodeContents(c);"
        " return r.getClientRects().length; })"
    )
    assert heights and all(lines == 1 for lines in heights), heights
    header = screen.locator("#ranked-table thead th", has_text="#")
    box = header.bounding_box()
    assert box is not None and box["height"] < 60
