"""A report as PDF (Chinese text, charts drawn inline) and as an Excel workbook (a sheet per table and chart,
numbers kept as numbers, formula-like text kept as text)."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from needpool.reports.document import Report, Section, Table
from needpool.reports.exports import export_filename, report_html, report_pdf, report_xlsx, sheet_name
from tests.archive.pdftext import pdf_text
from tests.reports.export_samples import COMPUTED_AT, export_report


def workbook(report: Report) -> Any:
    return load_workbook(io.BytesIO(report_xlsx(report)))


def rows(sheet: Any) -> list[list[Any]]:
    return [list(row) for row in sheet.iter_rows(values_only=True)]


# ---------------------------------------------------------------- PDF


def test_pdf_renders_chinese_labels_numbers_and_charts() -> None:
    pdf = report_pdf(export_report())
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf)
    for expected in (
        "需求仪表盘 <月度>",
        "期间 2026-11-01 至 2026-11-30",
        "团队 华东销售部",
        "2026-11-30 16:15",  # computed_at in the site's time zone
        "汇总表 2 小时前更新",
        "需求满足率",
        "62.5%",
        "125 / 200",
        "18.25 小时",
        "12,000",
        "按负责人",
        "王芳",
        "120",
        "33.3",
        "2026-11-28",
        "只统计有负责人的需求",
        "需求类型",
        "功能优化",
        "缺陷修复",
        "来源渠道",
        "门户",
        "结论",
        "30% 的需求为功能优化",
        "跟进 B制造企业",
    ):
        assert expected in text, expected


def test_pdf_html_has_every_chart_inline_and_escapes_text() -> None:
    html = report_html(export_report())
    assert html.count("<svg ") == 2
    assert "需求仪表盘 &lt;月度&gt;" in html
    assert "<月度>" not in html
    assert "http" not in html.replace("http://www.w3.org/2000/svg", "").replace("HYPERLINK(&quot;http://x", "")


def test_pdf_of_an_empty_report_still_renders() -> None:
    report = Report(
        kind="dashboard",
        title="空报表",
        scope=[],
        computed_at=COMPUTED_AT,
        sections=[Section(key="s", title="分布", blocks=[Table(key="t", title="空表", columns=["甲"], rows=[])])],
    )
    text = pdf_text(report_pdf(report))
    assert "空报表" in text and "暂无数据" in text


# ---------------------------------------------------------------- XLSX


def test_xlsx_has_an_overview_then_a_sheet_per_table_and_per_chart() -> None:
    book = workbook(export_report())
    assert book.sheetnames == [
        "概览",
        "按负责人",
        "按负责人 (2)",
        "渠道 来源 全部 这是一个超过三十一个字符长度的表格标题用来测试截断"[:31],
        "图表 需求类型",
        "图表 来源渠道",
    ]
    assert all(len(name) <= 31 for name in book.sheetnames)


def test_xlsx_overview_lists_scope_and_every_figure_with_numbers_as_numbers() -> None:
    found = rows(workbook(export_report())["概览"])
    assert found[0][0] == "需求仪表盘 <月度>"
    assert found[2][:2] == ["统计范围", "期间 2026-11-01 至 2026-11-30"]
    assert found[3][1] == "团队 华东销售部"
    assert found[4][:2] == ["计算时间", dt.datetime(2026, 11, 30, 16, 15)]
    header = found.index(["指标", "数值", "单位", "说明", "所属部分"])
    figures = found[header + 1 : header + 5]
    assert figures == [
        ["需求满足率", 62.5, "%", "125 / 200", "概览"],
        ["平均首次响应", 18.25, "小时", None, "概览"],
        ["满意度", None, "分", "无答卷", "概览"],
        ["需求总数", 12000, "个", None, "概览"],
    ]
    assert isinstance(figures[0][1], float) and isinstance(figures[3][1], int)
    flat = [cell for row in found for cell in row if cell is not None]
    assert "30% 的需求为功能优化" in flat and "· 加快首次响应" in flat


def test_xlsx_tables_round_trip_numbers_and_dates() -> None:
    sheet = workbook(export_report())["按负责人"]
    found = rows(sheet)
    assert found[0] == ["负责人", "需求数", "满足率 %", "最近提交"]
    assert found[1] == ["王芳", 120, 62.5, dt.datetime(2026, 11, 28)]
    assert found[2] == ["李雷", 7, 33.3, None]
    assert type(found[1][1]) is int and type(found[2][2]) is float
    assert found[4][1] == -3
    assert found[-1][0] == "只统计有负责人的需求"
    assert sheet["A1"].font.b and sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["A"].width >= 10


def test_xlsx_keeps_formula_like_text_as_text() -> None:
    sheet = workbook(export_report())["按负责人"]
    for row, text in ((4, '=HYPERLINK("http://x","点我")'), (5, "+86 138"), (6, "@SUM(A1)")):
        cell = sheet.cell(row=row, column=1)
        assert cell.value == text
        assert cell.data_type == "s"  # text, never a formula
        assert cell.quotePrefix  # Excel shows it as typed and does not run it when edited
    assert not sheet["A2"].quotePrefix


def test_xlsx_chart_sheets_hold_categories_by_series() -> None:
    book = workbook(export_report())
    assert rows(book["图表 需求类型"])[:4] == [
        ["分类", "本月", "上月"],
        ["功能优化", 30, 25],
        ["缺陷修复", 12, 15],
        ["体验", 0, 4.5],
    ]
    assert rows(book["图表 来源渠道"])[:3] == [["分类", "需求数"], ["门户", 30], ["电话", 12]]


def test_xlsx_drops_characters_a_workbook_cannot_hold() -> None:
    report = export_report()
    report.tables()[0].rows[0][0] = "王\x00芳\x1b"
    assert rows(workbook(report)["按负责人"])[1][0] == "王芳"


def test_sheet_names_are_valid_and_unique() -> None:
    used: set[str] = set()
    names = [sheet_name(title, used) for title in ("History", "a/b", "'引号'", "", "[]", "A" * 40, "a" * 40)]
    assert names[0] == "History_"
    assert names[1] == "a b"
    assert names[2] == "引号"
    assert names[3] == "表" and names[4] == "表 (2)"
    assert names[5] == "A" * 31 and names[6] == "a" * 27 + " (2)"


@given(titles=st.lists(st.text(min_size=0, max_size=50), min_size=1, max_size=12))
def test_any_titles_give_distinct_valid_sheet_names(titles: list[str]) -> None:
    used: set[str] = set()
    names = [sheet_name(title, used) for title in titles]
    assert len({n.casefold() for n in names}) == len(names)
    for name in names:
        assert 0 < len(name) <= 31
        assert not set(name) & set("[]:*?/\\")
        assert not name.startswith("'") and not name.endswith("'")


def test_export_filename_keeps_chinese_and_drops_path_characters() -> None:
    report = export_report()
    report.title = "月度/复盘:11月"
    assert export_filename(report, "pdf") == "月度_复盘_11月-2026-11-30.pdf"


@pytest.mark.parametrize("value", [Decimal("1E+3"), 10**15, -0.5])
def test_xlsx_numbers_of_any_size_stay_numbers(value: Any) -> None:
    report = Report(
        kind="x",
        title="数",
        scope=[],
        computed_at=COMPUTED_AT,
        sections=[Section(key="s", title="s", blocks=[Table(key="t", title="数", columns=["v"], rows=[[value]])])],
    )
    assert rows(workbook(report)["数"])[1][0] == value
