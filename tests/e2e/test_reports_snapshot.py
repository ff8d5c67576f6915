"""A large pool's 仪表盘 in a real browser: the first visit shows 正在计算…, the panel asks again every two seconds
and the figures and charts appear by themselves, labelled with their time; 刷新 starts a new build. No content
security violation on the way."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in

CHARTS_READY = "() => document.querySelectorAll('.report-chart[data-chart-ready] canvas').length > 0"


def test_the_first_visit_computes_then_shows_the_snapshot(
    page: Any, users: Any, make_requirements: Any, settings: Any
) -> None:
    settings.NEEDPOOL_REPORTS_LIVE_MAX = 0  # this pool counts as large: the dashboard comes from snapshots
    refused: list[str] = []
    page.on(
        "console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None
    )
    sign_in(page, "manager", PASSWORD)
    make_requirements(4)

    page.goto(page.base_url + "/reports/")
    expect(page.locator("#report-building")).to_contain_text("正在计算")
    expect(page.locator("#report-filters")).to_be_visible()

    expect(page.locator("#report-document")).to_be_visible(timeout=30_000)
    expect(page.locator("#report-building")).to_have_count(0)
    expect(page.locator("#report-stale")).to_contain_text("每 15 分钟更新")
    expect(page.locator(".report-figure").first).to_be_visible()
    page.wait_for_function(CHARTS_READY)

    page.locator("#report-refresh button").click()
    page.wait_for_load_state("networkidle")
    expect(page.locator("#report-document")).to_be_visible()
    expect(page.locator("#report-stale")).to_contain_text("数据截至")
    assert refused == []
