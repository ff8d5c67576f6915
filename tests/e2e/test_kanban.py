"""Kanban drag-and-drop in a real browser: accepted moves, refused moves and the standardisation gate."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from needpool.requirements.models import Requirement
from needpool.requirements.services import requirement_create
from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in
from tests.e2e.helpers import card, column_count, drag_card, open_board


def _status(requirement: Requirement) -> str:
    requirement.refresh_from_db()
    return requirement.status.key


def test_drag_card_to_in_progress_moves_it_and_records_the_change(page, users, requirement):
    sign_in(page, "product_manager", PASSWORD)
    open_board(page)
    expect(card(page, requirement.pk, "new")).to_be_visible()
    expect(column_count(page, "new")).to_have_text("1")

    drag_card(page, requirement.pk, "in_progress")

    alert = page.locator("#kanban-messages .alert-success")
    expect(alert).to_contain_text(f"需求 {requirement.code} 已流转到“处理中”")
    expect(card(page, requirement.pk, "in_progress")).to_be_visible()
    expect(card(page, requirement.pk, "in_progress")).to_have_attribute("data-status", "in_progress")
    expect(column_count(page, "new")).to_have_text("0")
    expect(column_count(page, "in_progress")).to_have_text("1")
    assert _status(requirement) == "in_progress"

    # The board after a reload agrees with what the drag showed.
    open_board(page)
    expect(card(page, requirement.pk, "in_progress")).to_be_visible()

    card(page, requirement.pk).get_by_role("link", name=requirement.title).click()
    page.wait_for_url(f"**/requirements/{requirement.pk}/")
    expect(page.locator("#current-status")).to_have_text("处理中")
    move = page.locator("#status-history tbody tr").filter(has_text="处理中")
    expect(move).to_have_count(1)
    expect(move.locator("td").nth(1)).to_have_text("待处理")
    expect(move.locator("td").nth(2)).to_have_text("处理中")
    expect(move.locator("td").nth(3)).to_have_text(str(users["product_manager"]))


def test_drag_to_a_status_the_flow_does_not_allow_is_refused_and_the_card_returns(page, users, requirement):
    sign_in(page, "product_manager", PASSWORD)
    open_board(page)

    drag_card(page, requirement.pk, "launched")

    alert = page.locator("#kanban-messages .alert-danger")
    expect(alert).to_contain_text("不允许")
    expect(alert).to_contain_text("已上线")
    expect(card(page, requirement.pk, "new")).to_be_visible()
    expect(card(page, requirement.pk)).to_have_count(1)
    expect(page.locator('.kanban-column[data-status="launched"] .kanban-card')).to_have_count(0)
    expect(column_count(page, "new")).to_have_text("1")
    expect(column_count(page, "launched")).to_have_text("0")
    assert _status(requirement) == "new"


def test_incomplete_requirement_cannot_leave_new_until_standardised(page, users):
    incomplete = requirement_create(actor=users["sales"], title="客户说报表太慢")
    sign_in(page, "product_manager", PASSWORD)
    open_board(page)

    drag_card(page, incomplete.pk, "in_progress")

    alert = page.locator("#kanban-messages .alert-danger")
    expect(alert).to_contain_text("缺少")
    for missing in ("客户", "背景", "具体诉求", "期望时间"):
        expect(alert).to_contain_text(missing)
    expect(card(page, incomplete.pk, "new")).to_be_visible()
    expect(card(page, incomplete.pk, "new")).not_to_have_class(re.compile(r"\bkanban-card-pending\b"))
    expect(page.locator('.kanban-column[data-status="in_progress"] .kanban-card')).to_have_count(0)
    assert _status(incomplete) == "new"


def test_a_card_moved_by_someone_else_since_the_board_opened_is_refused_with_its_current_status(
    page, users, requirement
):
    from needpool.requirements.services import requirement_transition

    sign_in(page, "product_manager", PASSWORD)
    open_board(page)
    expect(card(page, requirement.pk, "new")).to_be_visible()
    # Someone else moves it while this board still shows it under 待处理.
    requirement_transition(actor=users["manager"], requirement=requirement, to="in_progress")

    drag_card(page, requirement.pk, "testing")  # allowed from 处理中: only the stale board refuses it

    alert = page.locator("#kanban-messages .alert-danger")
    expect(alert).to_contain_text("处理中")
    expect(card(page, requirement.pk, "new")).to_be_visible()
    assert _status(requirement) == "in_progress"
