"""Small browser helpers shared by the e2e tests (drag on the kanban, overflow checks, extra contexts)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.e2e.conftest import ARTIFACTS

KANBAN_READY = "document.querySelector('.kanban-cards[data-kanban-ready]') !== null"


def card(page: Any, pk: int, status: str | None = None) -> Any:
    """The board card of requirement ``pk`` (only inside column ``status`` when given)."""
    scope = f'.kanban-column[data-status="{status}"] ' if status else ""
    return page.locator(f'{scope}.kanban-card[data-id="{pk}"]')


def open_board(page: Any) -> None:
    page.goto(page.base_url + "/requirements/board/")
    # app.js wires SortableJS on DOMContentLoaded; a drag before that would be a plain text selection.
    page.wait_for_function(KANBAN_READY)


def drag_card(page: Any, pk: int, to_status: str) -> None:
    """Drag a card with the real mouse onto column ``to_status``.

    SortableJS reacts to native HTML5 drag events; Playwright's Chromium turns mouse down + several
    intermediate moves + up into dragstart / dragover / drop, so the moves must be stepped.
    """
    source = card(page, pk)
    zone = page.locator(f'.kanban-column[data-status="{to_status}"] .kanban-cards')
    zone.scroll_into_view_if_needed()
    source.scroll_into_view_if_needed()
    start = source.bounding_box()
    end = zone.bounding_box()
    assert start is not None and end is not None
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + 12)
    page.mouse.down()
    # A first small move starts the drag; then travel to the middle of the target drop zone.
    page.mouse.move(start["x"] + start["width"] / 2 + 5, start["y"] + 17, steps=3)
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] / 2, steps=15)
    # Keep hovering until the placeholder sits in the target column: a busy machine may drop dragover events,
    # and a narrow (collapsed) column is a small target.
    ghost = page.locator(f'.kanban-column[data-status="{to_status}"] .kanban-card-ghost')
    for dy in range(1, 30):
        if ghost.count():
            break
        page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] / 2 + (dy % 5) * 3, steps=2)
    page.mouse.up()


def column_count(page: Any, status: str) -> Any:
    return page.locator(f'.kanban-column[data-status="{status}"] .kanban-count')


def assert_no_horizontal_overflow(page: Any, width: int) -> None:
    sizes = page.evaluate(
        "() => ({inner: window.innerWidth, scroll: document.documentElement.scrollWidth,"
        " body: document.body.scrollWidth})"
    )
    assert sizes["inner"] == width, sizes  # the page was not zoomed out to fit something too wide
    assert sizes["scroll"] <= sizes["inner"] + 1, sizes
    assert sizes["body"] <= sizes["inner"] + 1, sizes


def settle(page: Any) -> None:
    """Wait for running CSS transitions / animations (collapse, toggler icon, alert fade) to finish."""
    page.evaluate("() => Promise.all(document.getAnimations().map((a) => a.finished.catch(() => null)))")


def screenshot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    settle(page)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@contextmanager
def other_context(browser: Any, base_url: str, name: str, **options: Any) -> Iterator[Any]:
    """A second, separate browser session (another user); screenshotted as ``name`` when done."""
    settings: dict[str, Any] = {"locale": "zh-CN", "viewport": {"width": 1366, "height": 900}, **options}
    context = browser.new_context(**settings)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.base_url = base_url
    try:
        yield page
        screenshot(page, name)
    finally:
        context.close()
