"""The matrix chart shows an overridden priority as both points: the computed one (a hollow ring in its colour)
and the effective one (filled); the tooltip names both and the reason; the legend keeps every priority."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from needpool.analysis.services import analysis_update, priority_override
from needpool.requirements.services import requirement_create
from tests.conftest import PASSWORD, option
from tests.e2e.conftest import sign_in
from tests.e2e.helpers import assert_no_horizontal_overflow, other_context, screenshot

CHART_READY = "() => window.needpoolMatrixChart && document.querySelector('#matrix-chart canvas') !== null"
SERIES = """() => window.needpoolMatrixChart.getOption().series.map((s) => ({
  name: s.name, n: (s.data || []).length,
  data: (s.data || []).map((d) => ({id: d.id, hollow: !!d.hollow, border: d.itemStyle && d.itemStyle.borderColor}))
}))"""
LEGEND = "() => window.needpoolMatrixChart.getOption().legend[0].data"
# Hover the effective point of ``id`` through ECharts' own action and read the tooltip it draws.
TOOLTIP = """(id) => {
  const chart = window.needpoolMatrixChart;
  const series = chart.getOption().series;
  for (let s = 0; s < series.length; s++) {
    const i = (series[s].data || []).findIndex((d) => d && d.id === id && !d.hollow);
    if (i >= 0) { chart.dispatchAction({type: 'showTip', seriesIndex: s, dataIndex: i}); break; }
  }
  return null;
}"""
SIZES = {"phone": {"width": 390, "height": 844}, "laptop": {"width": 1366, "height": 768}}


@pytest.fixture(params=["laptop", "phone"])
def screen(request: Any, browser: Any, live_server: Any, django_db_serialized_rollback: None) -> Iterator[Any]:
    extra = {"is_mobile": True, "has_touch": True} if request.param == "phone" else {}
    with other_context(
        browser, live_server.url, f"matrix-override-{request.param}-end", viewport=SIZES[request.param], **extra
    ) as page:
        page.width = SIZES[request.param]["width"]
        yield page


def _scored(users, customer, title, urgency, importance):
    requirement = requirement_create(
        actor=users["sales"], customer=customer, title=title, urgency=option("urgency", "important")
    )
    analysis_update(
        actor=users["product_manager"], requirement=requirement, urgency_score=urgency, importance_score=importance
    )
    return requirement


def test_override_is_drawn_as_computed_and_effective_with_both_in_the_tooltip(screen, users, customer):
    top = _scored(users, customer, "批量折扣规则", 5, 5)
    _scored(users, customer, "报表导出支持 Excel", 1, 1)
    priority_override(actor=users["product_manager"], requirement=top, priority="P1", reason="资源已排满，下季度做")

    sign_in(screen, "product_manager", PASSWORD)
    screen.goto(screen.base_url + "/analysis/")
    screen.wait_for_function(CHART_READY)
    assert_no_horizontal_overflow(screen, screen.width)

    # The legend keeps every priority, P0 included although no point is P0 any more.
    legend = screen.evaluate(LEGEND)
    assert legend[:5] == ["P0", "P1", "P2", "P3", "未定"]
    assert "计算值（已人工调整）" in legend

    series = {s["name"]: s for s in screen.evaluate(SERIES)}
    assert series["P0"]["n"] == 0
    assert [d["id"] for d in series["P1"]["data"]] == [top.pk]  # the effective point, filled
    rings = series["计算值（已人工调整）"]["data"]
    assert rings == [{"id": top.pk, "hollow": True, "border": "#d63939"}]  # the computed P0, hollow, P0's red

    chart = screen.locator("#matrix-chart")
    chart.scroll_into_view_if_needed()
    screen.evaluate(TOOLTIP, top.pk)
    tip = chart.locator("div").filter(has_text="资源已排满").last
    expect(tip).to_be_visible()
    text = tip.inner_text()
    assert "优先级 P1 · 人工调整" in text and "计算值 P0" in text and "理由：资源已排满，下季度做" in text

    # The table beside the chart says it too.
    expect(screen.locator(f'#matrix-table .matrix-row[data-id="{top.pk}"] .matrix-computed')).to_contain_text(
        "计算值 P0"
    )
    assert_no_horizontal_overflow(screen, screen.width)  # the tooltip did not zoom the phone out
    screenshot(screen, f"matrix-override-{screen.width}")
