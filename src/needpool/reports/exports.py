"""Any report as a PDF or an Excel workbook: the same ``document.Report`` the page shows, nothing recomputed.

* PDF (``report_pdf``): ``templates/reports/print.html`` — title, scope, when the numbers were taken, the
  figures as a table, each table, each chart drawn as inline SVG (``reports.svg``) and each text — through
  ``core.pdf.html_to_pdf``, whose stylesheet names the CJK fonts.
* XLSX (``report_xlsx``): a first sheet 概览 with the scope and every figure (label, value, unit, note) and the
  texts; then one sheet per table and one per chart (categories × series). Numbers are stored as numbers,
  dates as dates; a text Excel would take for a formula (= + - @ …) is stored as text with Excel's own
  "quote prefix", so it shows as written and never runs; characters a workbook cannot hold are dropped.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
from decimal import Decimal
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from needpool.core.pdf import html_to_pdf
from needpool.core.sheets import neutral_text
from needpool.reports.document import Chart, Report, Table, Text
from needpool.reports.svg import chart_svg, fmt_number, fmt_value

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF_TYPE = "application/pdf"
SHEET_NAME_MAX = 31
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\\x00-\x1f]")
_FILE_FORBIDDEN = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


# ---------------------------------------------------------------- values as people read them


def local(moment: dt.datetime) -> dt.datetime:
    return timezone.localtime(moment) if timezone.is_aware(moment) else moment


def display(value: Any) -> str:
    """A cell as text (PDF): 1,234 · 62.5 · 2026-11-30 · 2026-11-30 09:15 · 是 / 否 · — for no data."""
    if isinstance(value, dt.datetime):
        return local(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    return fmt_number(value)


def unit_label(unit: str) -> str:
    return {"%": "%", "h": _("小时"), "d": _("天"), "count": _("个"), "score": _("分")}.get(unit, unit)


def export_filename(report: Report, fmt: str) -> str:
    """报表标题-2026-11-30.pdf (characters a file system refuses are replaced)."""
    stem = _FILE_FORBIDDEN.sub("_", str(report.title)).strip(" ._") or _("报表")
    return f"{stem[:80]}-{local(report.computed_at).date().isoformat()}.{fmt}"


# ---------------------------------------------------------------- PDF


def _pdf_block(block: Any) -> dict[str, Any]:
    if isinstance(block, Table):
        numeric = [
            bool(block.rows) and all(isinstance(row[i], int | float | Decimal) or row[i] is None for row in block.rows)
            for i in range(len(block.columns))
        ]
        return {
            "type": "table",
            "title": block.title,
            "columns": [{"name": name, "numeric": numeric[i]} for i, name in enumerate(block.columns)],
            "rows": [
                [{"text": display(cell), "numeric": i < len(numeric) and numeric[i]} for i, cell in enumerate(row)]
                for row in block.rows
            ],
            "note": block.note,
        }
    if isinstance(block, Chart):
        # chart_svg escapes every text it draws, so the markup is safe to put inline.
        return {"type": "chart", "title": block.title, "svg": mark_safe(chart_svg(block)), "note": block.note}  # noqa: S308
    if isinstance(block, Text):
        return {"type": "text", "title": block.title, "body": block.body, "items": block.items}
    return {"type": "other"}


def pdf_context(report: Report) -> dict[str, Any]:
    sections = []
    for section in report.sections:
        figures = [{"label": f.label, "value": fmt_value(f.value, f.unit), "note": f.note} for f in section.figures()]
        sections.append(
            {"title": section.title, "figures": figures, "blocks": [_pdf_block(b) for b in section.others()]}
        )
    return {"report": report, "computed_at": local(report.computed_at), "sections": sections}


def report_html(report: Report) -> str:
    return render_to_string("reports/print.html", pdf_context(report))


def report_pdf(report: Report) -> bytes:
    return html_to_pdf(report_html(report))


# ---------------------------------------------------------------- XLSX


def sheet_name(title: str, used: set[str]) -> str:
    """A sheet name Excel accepts: ≤ 31 characters, none of []:*?/\\, no quote at either end, not
    "History", and unique in the workbook (ignoring case) — "(2)", "(3)" … are added when needed."""
    base = " ".join(_SHEET_FORBIDDEN.sub(" ", str(title)).split()).strip("'").strip() or _("表")
    if base.casefold() == "history":
        base = f"{base}_"
    base = base[:SHEET_NAME_MAX].strip().rstrip("'").rstrip()
    name, n = base, 1
    while name.casefold() in used:
        n += 1
        suffix = f" ({n})"
        name = base[: SHEET_NAME_MAX - len(suffix)].rstrip() + suffix
    used.add(name.casefold())
    return name


def _put(sheet: Any, row: int, column: int, value: Any, *, bold: bool = False) -> Any:
    """Write one cell: numbers as numbers, dates as dates, text as text that never runs as a formula."""
    from openpyxl.styles import Font

    risky = False
    if value is None:
        pass
    elif isinstance(value, bool):
        value = _("是") if value else _("否")
    elif isinstance(value, int):
        pass
    elif isinstance(value, float | Decimal):
        as_float = float(value)
        if math.isnan(as_float) or math.isinf(as_float):
            value = None
        else:
            value = int(value) if isinstance(value, Decimal) and value == value.to_integral_value() else as_float
    elif isinstance(value, dt.datetime):
        value = local(value).replace(tzinfo=None)
    elif isinstance(value, dt.date):
        pass
    else:
        value, risky = neutral_text(str(value))
    cell = sheet.cell(row=row, column=column)
    cell.value = value
    if risky:
        cell.data_type = "s"
        cell.quotePrefix = True
    if isinstance(value, dt.datetime):
        cell.number_format = "yyyy-mm-dd hh:mm"
    elif isinstance(value, dt.date):
        cell.number_format = "yyyy-mm-dd"
    if bold:
        cell.font = Font(bold=True)
    return cell


def _header(sheet: Any, row: int, titles: list[str]) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill

    for column, title in enumerate(titles, start=1):
        cell = _put(sheet, row, column, title)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="206BC4")
        cell.alignment = Alignment(vertical="center", wrap_text=True)


def _width(value: Any) -> int:
    text = display(value) if not isinstance(value, str) else value
    longest = max((sum(2 if ord(c) > 0x2E7F else 1 for c in line) for line in text.splitlines()), default=0)
    return longest


def _fit_columns(sheet: Any) -> None:
    from openpyxl.utils import get_column_letter

    widths: dict[int, int] = {}
    for row in sheet.iter_rows():
        for cell in row:
            if cell.value is not None:
                widths[cell.column] = max(widths.get(cell.column, 0), _width(cell.value))
    for column, width in widths.items():
        sheet.column_dimensions[get_column_letter(column)].width = max(8, min(60, width + 2))


def _overview(sheet: Any, report: Report) -> None:
    from openpyxl.styles import Font

    title = _put(sheet, 1, 1, report.title)
    title.font = Font(bold=True, size=14)
    row = 2
    if report.subtitle:
        _put(sheet, row, 1, report.subtitle)
        row += 1
    for index, line in enumerate(report.scope or [""]):
        if index == 0:
            _put(sheet, row, 1, _("统计范围"), bold=True)
        _put(sheet, row, 2, line)
        row += 1
    _put(sheet, row, 1, _("计算时间"), bold=True)
    _put(sheet, row, 2, report.computed_at)
    row += 1
    if report.stale_note:
        _put(sheet, row, 1, _("说明"), bold=True)
        _put(sheet, row, 2, report.stale_note)
        row += 1
    row += 1
    _header(sheet, row, [_("指标"), _("数值"), _("单位"), _("说明"), _("所属部分")])
    header_row = row
    for section in report.sections:
        for figure in section.figures():
            row += 1
            _put(sheet, row, 1, figure.label)
            _put(sheet, row, 2, figure.value)
            _put(sheet, row, 3, unit_label(figure.unit))
            _put(sheet, row, 4, figure.note)
            _put(sheet, row, 5, section.title)
    texts = [b for s in report.sections for b in s.blocks if isinstance(b, Text)]
    if texts:
        row += 2
        _put(sheet, row, 1, _("文字说明"), bold=True)
        for text in texts:
            row += 1
            _put(sheet, row, 1, text.title, bold=True)
            _put(sheet, row, 2, text.body)
            for item in text.items:
                row += 1
                _put(sheet, row, 2, f"· {item}")
    sheet.freeze_panes = sheet.cell(row=header_row + 1, column=1)


def _table_sheet(sheet: Any, table: Table) -> None:
    _header(sheet, 1, list(table.columns))
    for r, values in enumerate(table.rows, start=2):
        for c, value in enumerate(values, start=1):
            _put(sheet, r, c, value)
    if table.note:
        _put(sheet, len(table.rows) + 3, 1, table.note)
    sheet.freeze_panes = "A2"


def _chart_sheet(sheet: Any, chart: Chart) -> None:
    _header(sheet, 1, [_("分类"), *[s.name for s in chart.series]])
    for r, category in enumerate(chart.categories, start=2):
        _put(sheet, r, 1, category)
        for c, series in enumerate(chart.series, start=2):
            _put(sheet, r, c, series.values[r - 2] if r - 2 < len(series.values) else None)
    notes = [
        note
        for note in (unit_label(chart.unit) and _("单位：%(unit)s") % {"unit": unit_label(chart.unit)}, chart.note)
        if note
    ]
    for offset, note in enumerate(notes):
        _put(sheet, len(chart.categories) + 3 + offset, 1, note)
    sheet.freeze_panes = "B2"


def report_xlsx(report: Report) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    used: set[str] = set()
    overview = workbook.active
    overview.title = sheet_name(_("概览"), used)
    _overview(overview, report)
    for table in report.tables():
        sheet = workbook.create_sheet(sheet_name(table.title, used))
        _table_sheet(sheet, table)
    for chart in report.charts():
        sheet = workbook.create_sheet(sheet_name(_("图表 %(title)s") % {"title": chart.title}, used))
        _chart_sheet(sheet, chart)
    for sheet in workbook.worksheets:
        _fit_columns(sheet)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


RENDERERS = {"pdf": report_pdf, "xlsx": report_xlsx}
CONTENT_TYPES = {"pdf": PDF_TYPE, "xlsx": XLSX_TYPE}
