"""What calamine does not tell about an .ods sheet: its hidden rows and columns, read from ``content.xml``.

OpenDocument marks a hidden row or column with ``table:visibility="collapse"`` (hidden by hand) or
``"filter"`` (hidden by an autofilter), on ``<table:table-row>`` / ``<table:table-column>``, which may stand for
several with ``table:number-rows-repeated`` / ``table:number-columns-repeated`` and may sit in header, group
or plain row / column containers. The part is parsed as a stream (each row is cleared once read), so a large
sheet costs one pass and little memory. Rows and columns are numbered as calamine numbers them: the sheet's
rows from 1, columns from 0 (A).
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO
from xml.etree import ElementTree

from needpool.intake.transfer.imports.xlsx_scan import Marks

_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_SHEET = f"{{{_TABLE}}}table"
_ROW = f"{{{_TABLE}}}table-row"
_COLUMN = f"{{{_TABLE}}}table-column"
_NAME = f"{{{_TABLE}}}name"
_VISIBILITY = f"{{{_TABLE}}}visibility"
_ROWS_REPEATED = f"{{{_TABLE}}}number-rows-repeated"
_COLUMNS_REPEATED = f"{{{_TABLE}}}number-columns-repeated"
_HIDDEN = ("collapse", "filter")
#: A repeated run longer than this is the filler a writer adds up to the sheet's last row or column (LibreOffice
#: writes ``number-rows-repeated="1048553"`` after the data): hidden or not, it holds nothing to import.
_FILLER = 100_000


def _repeat(element: ElementTree.Element, attribute: str) -> int:
    try:
        return max(1, int(element.get(attribute) or 1))
    except ValueError:
        return 1


def _sheets(stream: IO[bytes]) -> Iterator[tuple[str, Marks]]:
    """Each sheet's name and its hidden rows and columns, in the order of the document."""
    name, marks, row, column, depth = "", Marks(), 0, 0, 0
    for event, element in ElementTree.iterparse(stream, events=("start", "end")):  # noqa: S314 (expat refuses entity bombs)
        tag = element.tag
        if tag == _SHEET:
            if event == "start":
                depth += 1
                if depth == 1:
                    name, marks, row, column = element.get(_NAME) or "", Marks(), 0, 0
            else:
                depth -= 1
                if depth == 0:
                    yield name, marks
                element.clear()
            continue
        if depth != 1 or event != "end":  # a table inside a cell (a sub-table) has rows of its own
            continue
        if tag == _ROW:
            count = _repeat(element, _ROWS_REPEATED)
            if element.get(_VISIBILITY) in _HIDDEN and count <= _FILLER:
                marks.hidden_rows.update(range(row + 1, row + count + 1))
            row += count
            element.clear()
        elif tag == _COLUMN:
            count = _repeat(element, _COLUMNS_REPEATED)
            if element.get(_VISIBILITY) in _HIDDEN and count <= _FILLER:
                marks.hidden_columns.update(range(column, column + count))
            column += count


def scan(path: Path) -> dict[str, Marks]:
    """Sheet name → its hidden rows and columns, for every sheet of the .ods at ``path`` (empty when the
    file cannot be read this way: calamine has said what it can read)."""
    try:
        with zipfile.ZipFile(path) as archive, archive.open("content.xml") as stream:
            return dict(_sheets(stream))
    except (zipfile.BadZipFile, KeyError, OSError, ElementTree.ParseError):
        return {}
