"""The 仪表盘 page in a real browser: ECharts draws every chart, nothing overflows sideways on a laptop or a
phone, and a click on a bar opens the requirement list it counts."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

from needpool.reports import metrics
from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in
from tests.e2e.helpers import assert_no_horizontal_overflow, screenshot
from tests.reports.sample_report import full_report

CATEGORIES = "(id) => window.needpoolReportCharts[id].getOption().series[0].data.map((d) => d.name)"
SIZES = [(1366, 768), (390, 844)]
CHARTS_READY = "(n) => document.querySelectorAll('.report-chart[data-chart-ready] canvas').length >= n"
# Where the element of category ``index`` is drawn (pixels inside the chart): the middle of a pie's slice, just
# inside the end of a bar, whichever way the bar lies.
ELEMENT_PIXEL = """([id, index]) => {
  const chart = window.needpoolReportCharts[id];
  const option = chart.getOption();
  if (option.series[0].type === "pie") {
    const layout = chart.getModel().getSeriesByIndex(0).getData().getItemLayout(index);
    const angle = (layout.startAngle + layout.endAngle) / 2;
    const radius = (layout.r + layout.r0) / 2;
    return [layout.cx + radius * Math.cos(angle), layout.cy + radius * Math.sin(angle)];
  }
  const value = option.series[0].data[index].value;
  const lying = option.yAxis[0].type === "category";
  const [x, y] = chart.convertToPixel({seriesIndex: 0}, lying ? [value, index] : [index, value]);
  return lying ? [x - 6, y] : [x, y + 6];
}"""


def sign_in_as_manager(page: Any) -> None:
    # The dashboard runs some thirty aggregate queries: on a busy machine the first load may take a while.
    page.set_default_navigation_timeout(30_000)
    sign_in(page, "manager", PASSWORD)


def open_dashboard(page: Any, width: int, height: int, query: str = "") -> None:
    page.set_viewport_size({"width": width, "height": height})
    page.goto(page.base_url + "/reports/" + query)
    page.wait_for_function(CHARTS_READY, arg=page.locator(".report-chart").count())


def click_element(page: Any, chart_id: str, index: int) -> None:
    chart = page.locator(f"#{chart_id}")
    chart.scroll_into_view_if_needed()
    x, y = page.evaluate(ELEMENT_PIXEL, [chart_id, index])
    chart.click(position={"x": x, "y": y})


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_every_kind_of_chart_draws_and_nothing_overflows(page, users, monkeypatch, width, height):
    monkeypatch.setattr(metrics, "dashboard", lambda **kw: full_report())
    sign_in_as_manager(page)
    open_dashboard(page, width, height)
    charts = page.locator(".report-chart")
    expect(charts).to_have_count(6)
    expect(page.locator(".report-chart canvas")).to_have_count(6)
    assert page.locator(".report-chart[data-chart-error]").count() == 0
    assert_no_horizontal_overflow(page, width)
    # The numbers are there without the chart too: under 查看数据.
    page.locator("#chart-distribution-by_type-card summary").click()
    expect(page.locator('[data-chart="by_type"] tbody tr')).to_have_count(4)
    assert_no_horizontal_overflow(page, width)
    screenshot(page, f"reports-dashboard-sample-{width}")


def test_a_bar_opens_the_list_it_counts(page, users, monkeypatch):
    monkeypatch.setattr(metrics, "dashboard", lambda **kw: full_report())
    sign_in_as_manager(page)
    open_dashboard(page, 390, 844)
    click_element(page, "chart-distribution-by_type", 2)
    page.wait_for_url("**/requirements/**")
    query = parse_qs(urlparse(page.url).query)
    assert query["type"] == ["bug"]
    assert query["submitted_after"] == ["2026-11-01"] and query["submitted_before"] == ["2026-11-30"]


# ---------------------------------------------------------------- the real dashboard


@pytest.fixture
def november(users: dict[str, Any], customer: Any, customer_b: Any) -> None:
    """Two 功能优化 and one 服务 requirement submitted in November 2026; a 服务 one in October."""
    from django.utils import timezone

    from needpool.requirements.services import requirement_create
    from tests.conftest import option

    for title, key, day, on in [
        ("批量折扣规则", "function_improvement", 3, customer),
        ("报表导出 Excel", "function_improvement", 12, customer),
        ("交付速度慢", "service", 20, customer_b),
    ]:
        requirement_create(
            actor=users["manager"],
            customer=on,
            title=title,
            type=option("type", key),
            submitted_at=dt.datetime(2026, 11, day, 10, tzinfo=timezone.get_current_timezone()),
        )
    requirement_create(
        actor=users["manager"],
        customer=customer_b,
        title="十月的投诉",
        type=option("type", "service"),
        submitted_at=dt.datetime(2026, 10, 31, 10, tzinfo=timezone.get_current_timezone()),
    )


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_the_type_chart_opens_the_list_of_that_type_and_period(page, users, november, width, height):
    sign_in_as_manager(page)
    open_dashboard(page, width, height, "?start=2026-11-01&end=2026-11-30")
    assert page.locator(".report-chart canvas").count() >= 5
    assert page.locator(".report-chart[data-chart-error]").count() == 0
    assert_no_horizontal_overflow(page, width)
    screenshot(page, f"reports-dashboard-{width}")

    chart_id = "chart-distributions-type"
    categories = page.evaluate(CATEGORIES, chart_id)
    click_element(page, chart_id, categories.index("服务"))
    page.wait_for_url("**/requirements/?**")
    query = parse_qs(urlparse(page.url).query)
    assert query["type"] == ["service"]
    assert query["submitted_after"] == ["2026-11-01"] and query["submitted_before"] == ["2026-11-30"]
    expect(page.get_by_text("交付速度慢").first).to_be_visible()
    expect(page.get_by_text("十月的投诉")).to_have_count(0)
    expect(page.get_by_text("批量折扣规则")).to_have_count(0)


def test_without_scripts_the_numbers_are_in_the_tables(
    browser, live_server, django_db_serialized_rollback, users, monkeypatch
):
    monkeypatch.setattr(metrics, "dashboard", lambda **kw: full_report())
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, java_script_enabled=False)
    try:
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.base_url = live_server.url
        sign_in(page, "manager", PASSWORD)
        page.goto(page.base_url + "/reports/")
        assert page.locator(".report-chart canvas").count() == 0
        assert page.locator("#chart-distribution-by_type").bounding_box()["height"] == 0  # no empty frame
        page.locator("#chart-distribution-by_type-card summary").click()
        row = page.locator('[data-chart="by_type"] tbody tr').nth(2)
        expect(row).to_have_text("缺陷280")
        assert_no_horizontal_overflow(page, 390)
        screenshot(page, "reports-dashboard-no-script-390")
    finally:
        context.close()
