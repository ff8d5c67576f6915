"""Reading an uploaded sheet: XLSX / XLS / ODS through calamine, CSV / TSV in UTF-8, UTF-8 with BOM or GB18030.

``read_sheet`` gives the rows with their numbers as the user sees them in Excel (1-based, blank rows
counted), finds the header row among the first rows (a title row above it, a two-row header with merged
cells, blank rows before it are all fine) and which layout it is.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from needpool.core.text import human_join
from needpool.intake.transfer.imports.layouts import LAYOUTS, Layout, match_headers
from needpool.intake.transfer.imports.values import display, is_blank

HEADER_SCAN_ROWS = 20
SPREADSHEET_EXTENSIONS = ("xlsx", "xlsm", "xlsb", "xls", "ods")
TEXT_EXTENSIONS = ("csv", "tsv", "txt")
ENCODINGS = ("utf-8-sig", "gb18030")


class SheetError(ValueError):
    """The file cannot be read as a sheet, or no known header row was found."""


@dataclass
class Sheet:
    rows: list[list[Any]]  # every row of the sheet, rows[i] is sheet row i + 1
    first_column: int = 0  # calamine drops empty leading columns; the column letters start after them
    merged: list[tuple[tuple[int, int], tuple[int, int]]] = field(default_factory=list)
    encoding: str = ""


@dataclass
class Header:
    layout: Layout
    row: int  # sheet row number of the (last) header row
    columns: dict[int, str]  # position in the row → column key
    titles: dict[int, str]  # position → the header text as written in the sheet
    ignored: list[str]  # header texts of columns no layout column takes
    missing: list[str]  # required columns that are absent

    def title(self, key: str) -> str:
        for position, column in self.columns.items():
            if column == key:
                return self.titles[position]
        return str(self.layout.column(key).header())


def column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


# ---------------------------------------------------------------- files


def _read_spreadsheet(path: Path) -> Sheet:
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
        names = [
            meta.name
            for meta in workbook.sheets_metadata
            if str(getattr(meta, "visible", "")).endswith("Visible") and "WorkSheet" in str(meta.typ)
        ] or workbook.sheet_names
        best: Sheet | None = None
        for name in names:
            sheet = workbook.get_sheet_by_name(name)
            rows = [list(row) for row in sheet.iter_rows()]
            candidate = Sheet(
                rows=rows,
                first_column=sheet.start[1] if sheet.start else 0,
                merged=list(sheet.merged_cell_ranges or []),
            )
            # The first sheet with a recognisable header wins (a cover or notes sheet before it is skipped).
            if _try_header(candidate) is not None:
                return candidate
            best = best or candidate
        return best or Sheet(rows=[])
    except (CalamineError, OSError, ValueError) as exc:
        raise SheetError(_("无法读取该文件：请上传 Excel（.xlsx/.xls）或 CSV 文件。")) from exc


def _decode(data: bytes) -> tuple[str, str]:
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise SheetError(_("无法识别文件编码：请保存为 UTF-8 或 GB18030（GBK）编码的 CSV。"))


def _read_text(path: Path) -> Sheet:
    text, encoding = _decode(path.read_bytes())
    sample = text[:20000]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel_tab if sample.count("\t") > sample.count(",") else csv.excel
    rows = [list(row) for row in csv.reader(io.StringIO(text, newline=""), dialect)]
    return Sheet(rows=rows, encoding="utf-8" if encoding == "utf-8-sig" else encoding)


def read_file(path: Path) -> Sheet:
    extension = path.suffix.lower().lstrip(".")
    if extension in TEXT_EXTENSIONS:
        return _read_text(path)
    if extension in SPREADSHEET_EXTENSIONS:
        return _read_spreadsheet(path)
    raise SheetError(_("不支持的文件类型“%(ext)s”：请上传 .xlsx、.xls 或 .csv 文件。") % {"ext": extension or "?"})


# ---------------------------------------------------------------- header


def _filled_grid(sheet: Sheet, limit: int) -> list[list[Any]]:
    """The first ``limit`` rows with every merged range filled with its top-left value."""
    grid = [list(row) for row in sheet.rows[:limit]]
    for (top, left), (bottom, right) in sheet.merged:
        if top >= limit:
            continue
        left -= sheet.first_column
        right -= sheet.first_column
        if not (0 <= top < len(grid)) or left < 0 or left >= len(grid[top]):
            continue
        value = grid[top][left]
        for r in range(top, min(bottom, limit - 1) + 1):
            if r >= len(grid):
                break
            row = grid[r]
            if len(row) <= right:
                row.extend([""] * (right + 1 - len(row)))
            for c in range(left, right + 1):
                if is_blank(row[c]):
                    row[c] = value
    return grid


def _header_cells(grid: list[list[Any]], index: int) -> list[Any]:
    """A header row, where a blank cell takes the header of the row above (a cell merged down over two rows)."""
    row = list(grid[index])
    if index > 0:
        above = grid[index - 1]
        for c in range(min(len(row), len(above))):
            if is_blank(row[c]):
                row[c] = above[c]
    return row


def _candidates(grid: list[list[Any]], layout: Layout) -> Iterator[tuple[float, int, dict[int, str], list[Any]]]:
    for index in range(len(grid)):
        for cells in (grid[index], _header_cells(grid, index)):
            mapping, score = match_headers(layout, cells)
            yield score, index, mapping, cells


def _try_header(sheet: Sheet, chosen: Layout | None = None) -> Header | None:
    grid = _filled_grid(sheet, HEADER_SCAN_ROWS)
    layouts = [chosen] if chosen else list(LAYOUTS.values())
    best: tuple[float, float, int, Layout, dict[int, str], list[Any]] | None = None
    for layout in layouts:
        for score, index, mapping, cells in _candidates(grid, layout):
            if score < 2:
                continue
            share = len(mapping) / len(layout.columns)
            if best is None or (score, share) > (best[0], best[1]):
                best = (score, share, index, layout, mapping, cells)
    if best is None:
        return None
    _score, _share, index, layout, mapping, cells = best
    titles = {p: display(cells[p]) for p in mapping}
    ignored: list[str] = []
    for p, cell in enumerate(cells):
        if p not in mapping and not is_blank(cell) and display(cell) not in ignored:
            ignored.append(display(cell))
    taken = set(mapping.values())
    missing = [str(layout.column(key).header()) for key in layout.required if key not in taken]
    return Header(layout=layout, row=index + 1, columns=mapping, titles=titles, ignored=ignored, missing=missing)


def find_header(sheet: Sheet, layout: Layout | None = None) -> Header:
    header = _try_header(sheet, layout)
    if header is None:
        if layout is not None:
            raise SheetError(
                _("前 %(n)s 行中没有找到“%(layout)s”的表头，请检查表头或选择其他表格类型。")
                % {"n": HEADER_SCAN_ROWS, "layout": layout.name}
            )
        raise SheetError(
            _("前 %(n)s 行中没有找到可识别的表头。支持：%(layouts)s。")
            % {"n": HEADER_SCAN_ROWS, "layouts": human_join([str(lay.name) for lay in LAYOUTS.values()])}
        )
    return header


def data_rows(sheet: Sheet, header: Header) -> Iterator[tuple[int, dict[str, Any]]]:
    """(sheet row number, column key → raw cell) of every non-blank row below the header."""
    positions = sorted(header.columns.items())
    for index in range(header.row, len(sheet.rows)):
        row = sheet.rows[index]
        if all(is_blank(cell) for cell in row):
            continue
        values = {key: (row[p] if p < len(row) else "") for p, key in positions}
        if all(is_blank(v) for v in values.values()):
            continue  # only ignored columns are filled
        yield index + 1, values


def count_data_rows(sheet: Sheet, header: Header) -> int:
    return sum(1 for _row in data_rows(sheet, header))
