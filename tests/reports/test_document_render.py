"""The report document renderer (templates/reports/_document.html) and its JSON form (document.as_dict)."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory

from needpool.reports.document import Chart, Report, Series, as_dict, json_value
from tests.reports.sample_report import sample_report


def render(report: Report, **extra: Any) -> str:
    request = RequestFactory().get("/reports/")
    request.csp_nonce = "n0nce"  # type: ignore[attr-defined]
    return render_to_string("reports/_document.html", {"report": report, **extra}, request=request)


def chart_json(html: str, element_id: str) -> dict[str, Any]:
    found = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', html, re.S)
    assert found, element_id
    return json.loads(found.group(1))


def test_head_title_scope_computed_at_and_stale_note(settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    html = render(sample_report())
    assert '<h2 class="report-title mb-1">需求仪表盘</h2>' in html
    assert '<span class="report-scope-item">期间 2026-11-01 至 2026-11-30</span>' in html
    assert '<span class="report-scope-item">团队 华东销售部</span>' in html
    assert "数据截至 2026-11-30 16:15" in html  # in the site's time zone
    assert "汇总表 2 小时前更新" in html
    assert "report-title" not in render(sample_report(), title_shown=True)


def test_figures_show_value_unit_note_and_link():
    html = render(sample_report())
    rate = re.search(r'<a class="[^"]*report-figure-link" href="([^"]+)" id="figure-overview-fulfilment_rate"', html)
    assert rate and rate.group(1) == "/requirements/?status=closed&amp;submitted_after=2026-11-01"
    block = html[html.index('id="figure-overview-fulfilment_rate"') :][:600]
    assert ">62.5</span>" in block and '<span class="report-figure-unit">%</span>' in block and "125 / 200" in block
    response = html[html.index('id="figure-overview-first_response"') :][:600]
    assert ">18.2</span>" in response or ">18.3</span>" in response  # one decimal place
    assert "小时" in response
    no_data = html[html.index('id="figure-overview-csat"') :][:600]
    assert ">—</span>" in no_data and "report-figure-unit" not in no_data and "无答卷" in no_data
    # no link: a plain card
    assert '<div class="card card-sm report-figure" id="figure-overview-csat"' in html
    assert ">12,000</span>" in html


def test_table_cells_link_where_they_count_and_text_is_escaped():
    html = render(sample_report())
    table = html[html.index('id="table-distribution-per_owner"') :]
    table = table[: table.index("</table>")]
    assert "张三 &lt;b&gt;" in table and "张三 <b>" not in table
    assert '<td data-label="需求数"><a href="/requirements/?owner=7">10</a></td>' in table
    assert '<td data-label="需求数">4</td>' in table
    assert '<td data-label="满足率">50</td>' in table
    assert '<td data-label="满足率">—</td>' in table
    assert "按当前负责人统计" in html


def test_chart_embeds_its_data_and_a_readable_table():
    html = render(sample_report())
    el = re.search(r'<div class="report-chart report-chart-bar" id="chart-distribution-by_type"[^>]*>', html)
    assert el and 'data-chart-data="chart-data-distribution-by_type"' in el.group(0)
    assert 'role="img"' in el.group(0)
    data = chart_json(html, "chart-data-distribution-by_type")
    assert data["kind"] == "bar"
    assert data["categories"] == ["功能优化", "服务", "体验"]
    assert data["series"] == [{"name": "需求数", "values": [30, 12, 0]}]
    assert data["hrefs"][0] == "/requirements/?type=function_improvement&submitted_after=2026-11-01"
    # the numbers as a table under 查看数据, categories linking to their list
    table = html[html.index('data-chart="by_type"') :]
    table = table[: table.index("</table>")]
    assert "查看数据" in html
    assert (
        '<th scope="row"><a href="/requirements/?type=service&amp;submitted_after=2026-11-01">服务</a></th><td>12</td>'
        in table
    )
    assert '<th scope="row">体验</th><td>0</td>' in table
    trend = chart_json(html, "chart-data-distribution-trend")
    assert trend["series"][1]["values"] == [1, 2.5]
    trend_table = html[html.index('data-chart="trend"') :]
    assert "<td>3</td><td>1</td>" in trend_table and "<td>5</td><td>2.5</td>" in trend_table


def test_a_chart_without_categories_says_so_and_draws_nothing():
    html = render(sample_report())
    card = html[html.index('id="chart-distribution-empty-card"') :]
    card = card[: card.index("</div>\n</div>") + 20]
    assert "暂无数据" in card
    assert 'id="chart-distribution-empty"' not in html
    assert "chart-data-distribution-empty" not in html


def test_script_data_cannot_break_out_of_its_element():
    report = sample_report()
    report.sections[1].blocks.insert(
        0,
        Chart(
            key="evil",
            title="x",
            kind="pie",
            categories=["</script><script>alert(1)</script>"],
            series=[Series("n", [1])],
        ),
    )
    html = render(report)
    assert "<script>alert(1)" not in html
    assert chart_json(html, "chart-data-distribution-evil")["categories"] == ["</script><script>alert(1)</script>"]


def test_scripts_are_local_and_carry_the_nonce():
    html = render(sample_report())
    scripts = re.findall(r"<script src=\"([^\"]+)\"[^>]*nonce=\"n0nce\"", html)
    assert any(s.endswith("vendor/echarts.min.js") for s in scripts)
    assert any(s.endswith("needpool/reports.js") for s in scripts)
    assert "http" not in "".join(scripts)


def test_prose_keeps_paragraphs_and_items():
    html = render(sample_report())
    text = html[html.index('id="text-distribution-conclusion"') :]
    assert "<p>30% 的需求为功能优化。<br>第二段</p>" in text
    assert "<li>跟进 A 客户</li>" in text


def test_english(settings):
    from django.utils import translation

    with translation.override("en"):
        html = render(sample_report())
    assert "report-document" in html  # renders; the words follow the .po catalogue


# ---------------------------------------------------------------- as_dict


def test_as_dict_is_json_with_iso_dates_and_floats():
    data = as_dict(sample_report())
    text = json.dumps(data, ensure_ascii=False)  # would raise on Decimal or datetime
    assert json.loads(text) == data
    assert data["kind"] == "dashboard" and data["title"] == "需求仪表盘"
    assert data["computed_at"] == "2026-11-30T08:15:00+00:00"
    assert data["scope"] == ["期间 2026-11-01 至 2026-11-30", "团队 华东销售部"]
    overview = data["sections"][0]
    assert overview["key"] == "overview"
    first, response, csat = overview["blocks"][:3]
    assert first == {
        "type": "figure",
        "key": "fulfilment_rate",
        "label": "需求满足率",
        "value": 62.5,
        "unit": "%",
        "note": "125 / 200",
        "href": "/requirements/?status=closed&submitted_after=2026-11-01",
    }
    assert response["value"] == 18.25 and isinstance(response["value"], float)
    assert csat["value"] is None
    blocks = {b["key"]: b for b in data["sections"][1]["blocks"]}
    assert blocks["by_type"]["type"] == "chart" and blocks["by_type"]["kind"] == "bar"
    assert blocks["trend"]["series"][1] == {"name": "解决", "values": [1, 2.5]}
    assert blocks["per_owner"]["rows"] == [["张三 <b>", 10, 50.0], ["李四", 4, None]]
    assert blocks["per_owner"]["hrefs"][0][1] == "/requirements/?owner=7"
    assert blocks["conclusion"] == {
        "type": "text",
        "key": "conclusion",
        "title": "结论",
        "body": "30% 的需求为功能优化。\n第二段",
        "items": ["跟进 A 客户"],
    }


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("1.50"), 1.5),
        (float("nan"), None),
        (Decimal("Infinity"), None),
        (True, True),
        (7, 7),
        (__import__("datetime").date(2026, 1, 2), "2026-01-02"),
        (__import__("datetime").timedelta(hours=2), 7200.0),
        ([Decimal("1"), None], [1.0, None]),
    ],
)
def test_json_value(value, expected):
    assert json_value(value) == expected
