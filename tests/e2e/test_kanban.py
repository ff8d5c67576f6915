"""Kanban in a real browser: accepted moves, refused moves, the standardisation gate, and a column's next cards
("显示更多", a collapsed column opened) loaded without a reload."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from needpool.requirements.models import Requirement
from needpool.requirements.services import requirement_create, requirement_transition
from needpool.requirements.views import BOARD_PER_COLUMN
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


def test_more_brings_a_columns_next_cards_without_a_reload_and_keeps_a_dragged_card_counted(
    page, users, make_requirements
):
    made = make_requirements(BOARD_PER_COLUMN + 5)
    newest = sorted(made, key=lambda r: r.submitted_at, reverse=True)
    sign_in(page, "product_manager", PASSWORD)
    open_board(page)
    new_cards = page.locator('.kanban-column[data-status="new"] .kanban-card')
    expect(new_cards).to_have_count(BOARD_PER_COLUMN)
    expect(column_count(page, "new")).to_have_text(str(len(made)))
    page.evaluate("window.__sameBoard = true")  # gone if the page reloads

    # A card of the first page leaves the column: the next page must still start right after the first.
    drag_card(page, newest[0].pk, "in_progress")
    expect(page.locator("#kanban-messages .alert-success")).to_be_visible()
    expect(new_cards).to_have_count(BOARD_PER_COLUMN - 1)

    more = page.locator('.kanban-column[data-status="new"] .kanban-more-button')
    expect(more).to_have_text("显示更多")
    more.click()
    expect(new_cards).to_have_count(len(made) - 1)
    shown = [int(pk) for pk in new_cards.evaluate_all("cards => cards.map(c => c.dataset.id)")]
    assert shown == [r.pk for r in newest[1:]]  # every other card once, in the board's order
    expect(more).to_have_count(0)  # nothing left to load
    expect(column_count(page, "new")).to_have_text(str(len(made) - 1))
    assert page.evaluate("window.__sameBoard") is True

    # A card that came with "more" can be dragged like the others.
    drag_card(page, newest[-1].pk, "in_progress")
    expect(card(page, newest[-1].pk, "in_progress")).to_be_visible()
    expect(column_count(page, "in_progress")).to_have_text("2")
    assert _status(newest[-1]) == "in_progress"


def test_a_collapsed_column_reads_its_cards_when_it_opens(page, users, make_requirements):
    made = make_requirements(4)
    for requirement in made[:3]:
        requirement_transition(actor=users["manager"], requirement=requirement, to="deferred")
    sign_in(page, "product_manager", PASSWORD)
    open_board(page)
    deferred = page.locator('.kanban-column[data-status="deferred"]')
    expect(deferred).to_have_class(re.compile(r"\bkanban-collapsed\b"))
    expect(column_count(page, "deferred")).to_have_text("3")
    expect(deferred.locator(".kanban-card")).to_have_count(0)  # not sent with the page

    deferred.locator(".kanban-toggle").click()
    expect(deferred.locator(".kanban-card")).to_have_count(3)
    for requirement in made[:3]:
        expect(card(page, requirement.pk, "deferred")).to_be_visible()
    expect(deferred.locator(".kanban-more-button")).to_have_count(0)

    drag_card(page, made[0].pk, "new")  # 暂缓 → 待处理 is allowed
    expect(card(page, made[0].pk, "new")).to_be_visible()
    expect(column_count(page, "deferred")).to_have_text("2")


def test_a_card_dragged_in_is_not_shown_twice_when_its_new_column_loads_more(page, users, make_requirements):
    made = sorted(make_requirements(BOARD_PER_COLUMN + 10), key=lambda r: r.submitted_at, reverse=True)
    moved, waiting = made[: BOARD_PER_COLUMN + 5], made[BOARD_PER_COLUMN + 5 :]
    for requirement in moved:
        requirement_transition(actor=users["manager"], requirement=requirement, to="in_progress")
    sign_in(page, "product_manager", PASSWORD)
    open_board(page)
    in_progress = page.locator('.kanban-column[data-status="in_progress"] .kanban-card')
    expect(in_progress).to_have_count(BOARD_PER_COLUMN)

    # older than every card 处理中 shows: the server lists it on that column's next page
    drag_card(page, waiting[0].pk, "in_progress")
    expect(page.locator("#kanban-messages .alert-success")).to_be_visible()
    page.locator('.kanban-column[data-status="in_progress"] .kanban-more-button').click()
    expect(in_progress).to_have_count(len(moved) + 1)
    shown = in_progress.evaluate_all("cards => cards.map(c => Number(c.dataset.id))")
    assert sorted(shown) == sorted([r.pk for r in moved] + [waiting[0].pk])
    expect(card(page, waiting[0].pk)).to_have_count(1)
    expect(column_count(page, "in_progress")).to_have_text(str(len(moved) + 1))
