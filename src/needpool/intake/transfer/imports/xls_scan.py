"""What calamine does not tell about an .xls (Excel 97-2003) sheet: its hidden rows and columns.

Read with xlrd, which keeps each row's and column's format record (``ROW`` and ``COLINFO``) when asked for
formatting (``formatting_info=True``); ``on_demand`` loads only the sheet chosen. Rows are numbered as calamine
numbers them (the sheet's rows from 1), columns from 0 (A). An .xls holds at most 65,536 rows, so the second
read stays bounded. A file xlrd cannot read (an .xls that is really an .xlsx renamed, an encrypted one) has no
marks: calamine has already said what it can read.
"""

from __future__ import annotations

import logging
from pathlib import Path

from needpool.intake.transfer.imports.xlsx_scan import Marks

logger = logging.getLogger(__name__)


def read_marks(path: Path, sheet: str) -> Marks:
    """The hidden rows and columns of the sheet named ``sheet`` in the .xls at ``path``."""
    import xlrd

    marks = Marks()
    try:
        book = xlrd.open_workbook(str(path), formatting_info=True, on_demand=True, logfile=_Quiet())
    except Exception as exc:  # xlrd raises its own errors and plain ones (struct, IndexError) on odd files
        logger.info("xls scan of %s skipped: %s", path.name, exc)
        return marks
    try:
        if sheet not in book.sheet_names():
            return marks
        data = book.sheet_by_name(sheet)
        marks.hidden_rows = {rowx + 1 for rowx, info in data.rowinfo_map.items() if info.hidden}
        marks.hidden_columns = {colx for colx, info in data.colinfo_map.items() if info.hidden}
    except Exception as exc:
        logger.info("xls scan of %s, sheet %s skipped: %s", path.name, sheet, exc)
    finally:
        book.release_resources()
    return marks


class _Quiet:
    """xlrd writes warnings about odd records to a log file; they say nothing to the person importing."""

    def write(self, text: str) -> int:
        return len(text)
