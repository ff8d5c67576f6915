"""Cells of the sheets the product writes (CSV and Excel exports, report workbooks) that never run as formulas.

A text starting with one of ``FORMULA_STARTS`` is a formula (or a DDE call) to Excel, LibreOffice and WPS; the
exports keep it as text — a leading apostrophe in CSV, a text cell with Excel's quote prefix in a workbook — and
drop the characters a workbook cannot hold.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def formula_like(text: str) -> bool:
    return text.startswith(FORMULA_STARTS)


def neutral_text(text: str) -> tuple[str, bool]:
    """The text without characters a workbook cannot hold, and whether it must be kept from running as a formula."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    clean = ILLEGAL_CHARACTERS_RE.sub("", text)
    return clean, formula_like(clean)


def csv_text(text: str) -> str:
    """A CSV cell's text: a formula-like one behind an apostrophe, so a spreadsheet shows it as typed."""
    return "'" + text if formula_like(text) else text
