"""The urgency × importance matrix: a real ECharts canvas whose points open the requirement's analysis page."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from needpool.analysis.services import analysis_update
from needpool.requirements.services import requirement_create
from tests.conftest import PASSWORD, option
from tests.e2e.conftest import sign_in
from tests.e2e.helpers import screenshot

CHART_READY = "() => window.needpoolMatrixChart && document.querySelector('#matrix-chart canvas') !== null"
# Where ECharts drew the point of requirement ``id`` (pixels inside the chart), via convertToPixel.
POINT_PIXEL = """(id) => {
  const chart = window.needpoolMatrixChart;
  const series = chart.getOption().series;
  for (let s = 0; s < series.length; s++) {
    const datum = (series[s].data || []).find((d) => d && d.id === id);
    if (datum) return chart.convertToPixel({seriesIndex: s}, datum.value);
  }
  return null;
}"""
POINT_COUNT = "() => window.needpoolMatrixChart.getOption().series.reduce((n, s) => n + (s.data || []).length, 0)"


def _scored(users, customer, title, urgency, importance, **extra):
    requirement = requirement_create(
        actor=users["sales"], customer=customer, title=title, urgency=option("urgency", "important")
    )
    analysis_update(
        actor=users["product_manager"],
        requirement=requirement,
        urgency_score=urgency,
        importance_score=importance,
        **extra,
    )
    return requirement


def test_matrix_chart_draws_points_and_a_click_opens_the_analysis_page(page, users, customer):
    top = _scored(users, customer, "批量折扣规则", 5, 5, value_score=5, cost_score=2)
    important = _scored(users, customer, "报表导出支持 Excel", 1, 5, value_score=3, cost_score=3)
    urgent = _scored(users, customer, "登录页加载慢", 4, 2)
    # Three more on the same spot as ``top``: they are spread out, not stacked.
    for i in range(3):
        _scored(users, customer, f"同位置需求{i}", 5, 5)

    sign_in(page, "product_manager", PASSWORD)
    page.goto(page.base_url + "/analysis/")
    page.wait_for_function(CHART_READY)
    expect(page.locator("#matrix-chart canvas")).to_have_count(1)
    assert page.evaluate(POINT_COUNT) == 6
    expect(page.locator("#matrix-table .matrix-row")).to_have_count(6)  # the table fallback

    # Overlapping points got distinct positions.
    same_spot = page.evaluate(
        """() => window.needpoolMatrixChart.getOption().series.flatMap((s) => s.data || [])
             .filter((d) => d.urgency === 5 && d.importance === 5).map((d) => d.value.join(','))"""
    )
    assert len(same_spot) == 4 and len(set(same_spot)) == 4

    chart = page.locator("#matrix-chart")
    chart.scroll_into_view_if_needed()
    screenshot(page, "analysis-matrix")
    for target in (important, urgent):
        page.goto(page.base_url + "/analysis/")
        page.wait_for_function(CHART_READY)
        chart.scroll_into_view_if_needed()
        box = chart.bounding_box()
        pixel = page.evaluate(POINT_PIXEL, target.pk)
        assert box is not None and pixel is not None
        page.mouse.click(box["x"] + pixel[0], box["y"] + pixel[1])
        page.wait_for_url(re.compile(rf"/analysis/requirements/{target.pk}/$"))
        expect(page.locator(".page-title")).to_contain_text(target.title)
    assert top.pk  # the P0 corner point exists but is not clicked


def test_matrix_quadrants_and_cutoff_are_drawn(page, users, customer):
    _scored(users, customer, "一个需求", 3, 3)
    sign_in(page, "viewer", PASSWORD)
    page.goto(page.base_url + "/analysis/")
    page.wait_for_function(CHART_READY)
    quadrants = page.evaluate(
        """() => { const s = window.needpoolMatrixChart.getOption().series[0];
             return {areas: s.markArea.data.map((a) => a[0].name), lines: s.markLine.data.length,
                     cut: s.markArea.data[0][0].xAxis}; }"""
    )
    assert quadrants == {
        "areas": ["P0 重要且紧急", "P1 重要不紧急", "P2 紧急不重要", "P3 不紧急不重要"],
        "lines": 2,
        "cut": 2.5,
    }
