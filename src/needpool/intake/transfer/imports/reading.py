"""Reading an uploaded sheet: XLSX / XLS / ODS through calamine, CSV / TSV in UTF-8, UTF-8 with BOM or GB18030.

``read_sheet`` gives the rows with their numbers as the user sees them in Excel (1-based, blank rows
counted), finds the header row among the first rows (a title row above it, a two-row header with merged
cells, blank rows before it are all fine) and which layout it is.

A workbook may hold several sheets: the one asked for by name, else the first whose header is recognised
(``Sheet.sheets`` lists every such sheet, so the user can pick another). In an .xlsx or .ods, hidden rows
and .xls, hidden rows are skipped and hidden columns ignored (both reported; ``xlsx_scan``, ``ods_scan``,
``xls_scan``); in an .xlsx a formula cell saved without its result is refused rather than read as a blank.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from needpool.core.text import human_join
from needpool.intake.transfer.imports import ods_scan, xls_scan
from needpool.intake.transfer.imports.layouts import LAYOUTS, Layout, match_headers
from needpool.intake.transfer.imports.values import display, is_blank
from needpool.intake.transfer.imports.xlsx_scan import read_hidden_columns, read_marks

HEADER_SCAN_ROWS = 20
SPREADSHEET_EXTENSIONS = ("xlsx", "xlsm", "xlsb", "xls", "ods")
TEXT_EXTENSIONS = ("csv", "tsv", "txt")
MARKED_EXTENSIONS = ("xlsx", "xlsm")  # whose hidden rows / columns and uncomputed formulas are read
UNCOMPUTED_NAMED = 10  # uncomputed formula cells named in the error
RANGES_KEPT = 100  # runs of hidden rows listed in the preview (all are counted)
ENCODINGS = ("utf-8-sig", "gb18030")


class SheetError(ValueError):
    """The file cannot be read as a sheet, or no known header row was found."""


@dataclass
class Sheet:
    rows: list[list[Any]]  # every row of the sheet, rows[i] is sheet row i + 1
    first_column: int = 0  # calamine drops empty leading columns; the column letters start after them
    merged: list[tuple[tuple[int, int], tuple[int, int]]] = field(default_factory=list)
    encoding: str = ""
    name: str = ""  # the sheet read, in a workbook
    names: list[str] = field(default_factory=list)  # every sheet of the workbook
    sheets: list[str] = field(default_factory=list)  # the sheets whose header is recognised
    hidden_rows: set[int] = field(default_factory=set)  # sheet row numbers
    hidden_columns: set[int] = field(default_factory=set)  # column indexes (A = 0), not positions in a row
    uncomputed: list[tuple[int, int]] = field(default_factory=list)  # (row number, column index)


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


def _read_spreadsheet(path: Path, name: str = "", layout: Layout | None = None) -> Sheet:
    from python_calamine import CalamineError, CalamineWorkbook

    marked = path.suffix.lower().lstrip(".") in MARKED_EXTENSIONS
    is_xls = path.suffix.lower() == ".xls"
    try:
        workbook = CalamineWorkbook.from_path(str(path))
        every = list(workbook.sheet_names)
        if name and name not in every:
            raise SheetError(
                _("文件中没有名为“%(sheet)s”的工作表。文件中的工作表：%(sheets)s。")
                % {"sheet": name, "sheets": human_join(every)}
            )
        names = [
            meta.name
            for meta in workbook.sheets_metadata
            if str(getattr(meta, "visible", "")).endswith("Visible") and "WorkSheet" in str(meta.typ)
        ] or every
        ods_marks = ods_scan.scan(path) if path.suffix.lower() == ".ods" else {}
        hidden_columns = (
            read_hidden_columns(path) if marked else {sheet: m.hidden_columns for sheet, m in ods_marks.items()}
        )
        found: list[str] = []  # the sheets with a recognisable header
        best: list[str] = []  # with a layout chosen: the sheets whose header fits it best
        fit: list[str] = []  # ... and those with its required columns (whose header fits another better)
        loaded: dict[str, Any] = {}  # the sheets that may be chosen, so as not to read them twice
        for candidate in names:
            sheet = workbook.get_sheet_by_name(candidate)
            head = Sheet(
                rows=[list(row) for row in islice(sheet.iter_rows(), HEADER_SCAN_ROWS)],
                first_column=sheet.start[1] if sheet.start else 0,
                merged=list(sheet.merged_cell_ranges or []),
                hidden_columns=hidden_columns.get(candidate, set()),
            )
            if candidate == name:
                loaded[name] = sheet
            header = _try_header(head)
            if header is None:
                continue
            found.append(candidate)
            if layout is not None and header.layout is layout:
                best.append(candidate)
            elif layout is not None and (fits := _try_header(head, layout)) is not None and not fits.missing:
                fit.append(candidate)
            first = [*best[:1], *fit[:1]] if layout is not None else found[:1]
            if not name and candidate in first:
                loaded.setdefault(candidate, sheet)
        # Without a choice, the first sheet with a recognisable header (as the layout chosen, if one is): a
        # cover or notes sheet before it is skipped.
        chosen = name or next(iter([*best, *fit] if layout is not None else found), "")
        data = loaded.get(chosen)
        chosen = chosen or next(iter([*found, *names]), "")
        if data is None and chosen:
            data = workbook.get_sheet_by_name(chosen)  # a hidden sheet asked for by name
        if data is None:
            return Sheet(rows=[], names=every)
        result = Sheet(
            rows=[list(row) for row in data.iter_rows()],
            first_column=data.start[1] if data.start else 0,
            merged=list(data.merged_cell_ranges or []),
            name=chosen,
            names=every,
            sheets=found,
        )
    except SheetError:
        raise
    except (CalamineError, OSError, ValueError) as exc:
        raise SheetError(_("无法读取该文件：请上传 Excel（.xlsx/.xls）或 CSV 文件。")) from exc
    if marked:
        marks = read_marks(path, chosen)
        result.hidden_rows = marks.hidden_rows
        result.hidden_columns = marks.hidden_columns
        result.uncomputed = marks.uncomputed
    elif chosen in ods_marks:
        result.hidden_rows = ods_marks[chosen].hidden_rows
        result.hidden_columns = ods_marks[chosen].hidden_columns
    elif is_xls and chosen:
        marks = xls_scan.read_marks(path, chosen)
        result.hidden_rows = marks.hidden_rows
        result.hidden_columns = marks.hidden_columns
    return result


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


def read_file(path: Path, sheet: str = "", layout: Layout | None = None) -> Sheet:
    """The sheet named ``sheet`` of the file, or else the first whose header is recognised (as ``layout``,
    when given); a CSV has one sheet and no name."""
    extension = path.suffix.lower().lstrip(".")
    if extension in TEXT_EXTENSIONS:
        return _read_text(path)
    if extension in SPREADSHEET_EXTENSIONS:
        return _read_spreadsheet(path, sheet, layout)
    raise SheetError(_("不支持的文件类型“%(ext)s”：请上传 .xlsx、.xls 或 .csv 文件。") % {"ext": extension or "?"})


# ---------------------------------------------------------------- header


def _filled_grid(sheet: Sheet, limit: int, *, hide: bool = True) -> list[list[Any]]:
    """The first ``limit`` rows with every merged range filled with its top-left value; with ``hide``, the
    cells of hidden columns are blank (a hidden column is not imported)."""
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
    if hide and sheet.hidden_columns:
        for row in grid:
            for c in range(len(row)):
                if c + sheet.first_column in sheet.hidden_columns:
                    row[c] = ""
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
            message = _("前 %(n)s 行中没有找到“%(layout)s”的表头，请检查表头或选择其他表格类型。") % {
                "n": HEADER_SCAN_ROWS,
                "layout": layout.name,
            }
        else:
            message = _("前 %(n)s 行中没有找到可识别的表头。支持：%(layouts)s。") % {
                "n": HEADER_SCAN_ROWS,
                "layouts": human_join([str(lay.name) for lay in LAYOUTS.values()]),
            }
        if sheet.name and len(sheet.names) > 1:
            message = _("工作表“%(sheet)s”：%(error)s") % {"sheet": sheet.name, "error": message}
        raise SheetError(message)
    return header


def _filled_rows(sheet: Sheet, header: Header, numbers: Iterable[int]) -> Iterator[tuple[int, dict[str, Any]]]:
    """(sheet row number, column key → raw cell) of the rows ``numbers`` that have a cell to import."""
    positions = sorted(header.columns.items())
    for number in numbers:
        row = sheet.rows[number - 1]
        if all(is_blank(cell) for cell in row):
            continue
        values = {key: (row[p] if p < len(row) else "") for p, key in positions}
        if all(is_blank(v) for v in values.values()):
            continue  # only ignored columns are filled
        yield number, values


def data_rows(sheet: Sheet, header: Header) -> Iterator[tuple[int, dict[str, Any]]]:
    """(sheet row number, column key → raw cell) of every non-blank, visible row below the header."""
    numbers = range(header.row + 1, len(sheet.rows) + 1)
    hidden = sheet.hidden_rows
    return _filled_rows(sheet, header, (n for n in numbers if n not in hidden) if hidden else numbers)


def skipped_rows(sheet: Sheet, header: Header) -> list[int]:
    """The sheet row numbers of the hidden rows below the header that have something to import (skipped)."""
    hidden = sorted(n for n in sheet.hidden_rows if header.row < n <= len(sheet.rows))
    return [number for number, _values in _filled_rows(sheet, header, hidden)]


def row_ranges(numbers: list[int], limit: int = RANGES_KEPT) -> list[list[int]]:
    """[5, 6, 7, 9] → [[5, 7], [9, 9]]: the first ``limit`` runs of consecutive numbers."""
    ranges: list[list[int]] = []
    for number in sorted(numbers):
        if ranges and number == ranges[-1][1] + 1:
            ranges[-1][1] = number
        elif len(ranges) < limit:
            ranges.append([number, number])
        else:
            break
    return ranges


def ignored_columns(sheet: Sheet, header: Header) -> list[dict[str, str]]:
    """The hidden columns with a header (ignored by the import): their letters and header texts."""
    if not sheet.hidden_columns:
        return []
    grid = _filled_grid(sheet, header.row, hide=False)
    cells = _header_cells(grid, header.row - 1)
    found: list[dict[str, str]] = []
    for p, cell in enumerate(cells):
        if p + sheet.first_column in sheet.hidden_columns and not is_blank(cell):
            found.append({"letter": column_letter(p + sheet.first_column), "header": display(cell)})
    return found


def check_formulas(sheet: Sheet, header: Header) -> None:
    """Refuse the sheet when a cell to import holds a formula saved without its result (read as a blank)."""
    if not sheet.uncomputed:
        return
    columns = {p + sheet.first_column for p in header.columns}
    cells = sorted(
        (number, column)
        for number, column in sheet.uncomputed
        if number > header.row and number not in sheet.hidden_rows and column in columns
    )
    if not cells:
        return
    named = [f"{column_letter(column)}{number}" for number, column in cells[:UNCOMPUTED_NAMED]]
    where = human_join(named)
    if len(cells) > UNCOMPUTED_NAMED:
        where = _("%(cells)s 等 %(n)s 个单元格") % {"cells": where, "n": len(cells)}
    raise SheetError(_("公式没有计算结果：请在 Excel 中打开并保存后再上传。单元格：%(cells)s。") % {"cells": where})


def count_data_rows(sheet: Sheet, header: Header) -> int:
    return sum(1 for _row in data_rows(sheet, header))
