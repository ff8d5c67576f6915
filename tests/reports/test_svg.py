"""Charts drawn as SVG for the PDF: every kind parses as XML and shows its labels and values; text is escaped."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from needpool.reports.document import Chart, Series
from needpool.reports.svg import chart_svg, fmt_number, fmt_value, nice_ticks

SVG = "{http://www.w3.org/2000/svg}"
KINDS = ["bar", "hbar", "line", "pie", "funnel", "stacked"]


def parse(svg: str) -> ET.Element:
    """The drawing as XML (it is the code's own output, not outside input)."""
    return ET.fromstring(svg)  # noqa: S314


def words(svg: str) -> str:
    return "".join(parse(svg).itertext())


def type_chart(kind: str) -> Chart:
    series = [Series("本月", [120, 80, 45])]
    if kind not in ("pie", "funnel"):
        series.append(Series("上月", [100, 90, Decimal("12.5")]))
    return Chart(key="t", title="需求类型分布", kind=kind, categories=["功能优化", "缺陷修复", "新功能"], series=series)


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_parses_and_shows_its_categories_and_values(kind: str) -> None:
    svg = chart_svg(type_chart(kind))
    root = parse(svg)
    assert root.tag == f"{SVG}svg"
    text = words(svg)
    for label in ("功能优化", "缺陷修复", "新功能", "120", "80", "45"):
        assert label in text
    assert "需求类型分布" in text  # the chart's title, for readers of the drawing


@pytest.mark.parametrize("kind", ["bar", "line", "stacked", "hbar"])
def test_two_series_get_a_legend_with_their_names_and_values(kind: str) -> None:
    text = words(chart_svg(type_chart(kind)))
    assert "本月" in text and "上月" in text
    assert "12.5" in text


def test_pie_shows_each_share_of_the_total() -> None:
    # 120 + 80 + 45 = 245: 120/245 = 49.0 %, 80/245 = 32.7 %, 45/245 = 18.4 %
    text = words(chart_svg(type_chart("pie")))
    assert "49%" in text and "32.7%" in text and "18.4%" in text


def test_funnel_shows_each_stage_against_the_first() -> None:
    chart = Chart(
        key="f",
        title="状态漏斗",
        kind="funnel",
        categories=["待分析", "开发中", "已上线"],
        series=[Series("需求", [200, 50, 10])],
    )
    text = words(chart_svg(chart))
    assert "200（100%）" in text and "50（25%）" in text and "10（5%）" in text


def test_stacked_bars_show_their_total() -> None:
    chart = Chart(
        key="s", title="按周", kind="stacked", categories=["第1周"], series=[Series("新增", [7]), Series("关闭", [5])]
    )
    assert "12" in words(chart_svg(chart))


def test_units_read_with_the_value() -> None:
    chart = Chart(key="r", title="满足率", kind="bar", categories=["华东"], series=[Series("满足率", [62.5])], unit="%")
    assert "62.5%" in words(chart_svg(chart))
    hours = Chart(key="h", title="响应", kind="hbar", categories=["华东"], series=[Series("时长", [3.5])], unit="h")
    assert "3.5 小时" in words(chart_svg(hours))


@pytest.mark.parametrize("kind", KINDS)
def test_labels_are_escaped_and_shown_as_written(kind: str) -> None:
    chart = Chart(
        key="x",
        title='<script>alert("t")</script> & 标题',
        kind=kind,
        categories=["<script>", "A&B", "引号\"'"],
        series=[Series("<b>系列</b>", [3, 2, 1])],
    )
    svg = chart_svg(chart)
    assert "<script>" not in svg and "<b>" not in svg
    assert "&lt;script&gt;" in svg and "A&amp;B" in svg
    root = parse(svg)  # still one well-formed drawing
    assert not root.findall(f".//{SVG}script") and not root.findall(".//script")
    text = words(svg)
    assert "<script>" in text and "A&B" in text


def test_characters_xml_cannot_hold_are_dropped() -> None:
    chart = Chart(key="c", title="控制\x01字符", kind="bar", categories=["A\x00B\x1f"], series=[Series("s\x0b", [1])])
    text = words(chart_svg(chart))
    assert "AB" in text and "控制字符" in text


@pytest.mark.parametrize("kind", KINDS)
def test_no_data_reads_as_no_data(kind: str) -> None:
    for chart in (
        Chart(key="e", title="空", kind=kind, categories=[], series=[]),
        Chart(key="n", title="空", kind=kind, categories=["甲", "乙"], series=[Series("s", [None, None])]),
    ):
        assert "暂无数据" in words(chart_svg(chart))


def test_missing_values_and_negatives_are_drawn() -> None:
    chart = Chart(
        key="m", title="变化", kind="line", categories=["一月", "二月", "三月"], series=[Series("NPS", [-20, None, 15])]
    )
    svg = chart_svg(chart)
    text = words(svg)
    assert "-20" in text and "15" in text and "—" not in text
    root = parse(svg)
    assert len(root.findall(f".//{SVG}circle")) == 2  # the month without a value has no point


def test_long_labels_are_shortened_with_the_whole_label_kept() -> None:
    label = "一个非常非常长的分类名称用于测试截断"
    svg = chart_svg(Chart(key="l", title="长", kind="bar", categories=[label, "短"], series=[Series("s", [1, 2])]))
    assert label in words(svg)  # in the label's <title>
    assert "一个非常非常长的分类名称用…" in words(svg)


def test_number_formats() -> None:
    assert fmt_number(1234) == "1,234"
    assert fmt_number(62.5) == "62.5"
    assert fmt_number(10 / 3) == "3.33"
    assert fmt_number(Decimal("60.0")) == "60"
    assert fmt_number(-0.001) == "0"
    assert fmt_number(None) == "—"
    assert fmt_number(float("nan")) == "—"
    assert fmt_value(2, "d") == "2 天"
    assert fmt_value(None, "%") == "—"


@given(
    low=st.floats(min_value=-1e9, max_value=1e9, allow_nan=False),
    high=st.floats(min_value=-1e9, max_value=1e9, allow_nan=False),
)
def test_ticks_cover_the_values_and_zero(low: float, high: float) -> None:
    low, high = min(low, high), max(low, high)
    ticks = nice_ticks(low, high)
    assert ticks == sorted(ticks) and len(ticks) >= 2
    assert ticks[0] <= min(low, 0) + 1e-6 and ticks[-1] >= max(high, 0) - 1e-6 * max(abs(high), 1)
    assert len(ticks) <= 12
