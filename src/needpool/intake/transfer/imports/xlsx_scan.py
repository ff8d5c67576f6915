"""What calamine does not tell about an .xlsx sheet, read straight from its XML in one streaming pass.

* hidden rows (``<row r="5" hidden="1">``) and hidden columns (``<col min="3" max="4" hidden="1">``);
* formula cells without a computed value (``<c r="D3"><f>C3*2</f><v/></c>``): a workbook written by a
  program and never opened in Excel has its formulas but not their results, which calamine reads as blanks.

The sheet part is decompressed chunk by chunk and searched with regular expressions cut at row ends, so
a 100,000-row sheet costs one pass over its bytes in C, with Python work only for what is hidden or
uncomputed. Rows without an ``r`` attribute (which no common writer produces) are not reported.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from xml.etree import ElementTree

CHUNK = 1 << 20
_ROOT = re.compile(rb"<([A-Za-z_][\w.-]*:)?worksheet\b")
_HIDDEN = re.compile(rb"hidden=\"(?:1|true)\"")
_ROW_NUMBER = re.compile(rb"\sr=\"(\d+)\"")
_ATTRIBUTE = re.compile(rb"\s([\w:]+)=\"([^\"]*)\"")
_CELL_REF = re.compile(r"([A-Z]+)(\d+)")
_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
_OFFICE_DOCUMENT = "/officeDocument"
_R_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


@dataclass
class Marks:
    hidden_rows: set[int] = field(default_factory=set)  # sheet row numbers (1-based)
    hidden_columns: set[int] = field(default_factory=set)  # column indexes (0-based, A = 0)
    uncomputed: list[tuple[int, int]] = field(default_factory=list)  # (row number, column index)


def column_index(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - 64
    return index - 1


def _attributes(tag: bytes) -> dict[str, str]:
    return {k.decode().rsplit(":", 1)[-1]: v.decode() for k, v in _ATTRIBUTE.findall(tag)}


def _part(base: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(base), target))


def _rels(archive: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """Relationship id → (type, part) of ``part``."""
    name = posixpath.join(posixpath.dirname(part), "_rels", posixpath.basename(part) + ".rels")
    try:
        root = ElementTree.fromstring(archive.read(name))  # noqa: S314 (expat refuses entity bombs)
    except KeyError:
        return {}
    return {
        rel.get("Id", ""): (rel.get("Type", ""), _part(part, rel.get("Target", "")))
        for rel in root.iter(_REL)
        if rel.get("TargetMode") != "External"
    }


def sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name → the zip member holding its XML."""
    workbook = next(
        (part for kind, part in _rels(archive, "").values() if kind.endswith(_OFFICE_DOCUMENT)),
        "xl/workbook.xml",
    )
    rels = _rels(archive, workbook)
    root = ElementTree.fromstring(archive.read(workbook))  # noqa: S314 (as above)
    parts: dict[str, str] = {}
    for element in root.iter():
        if element.tag.rsplit("}", 1)[-1] == "sheet":
            rel = rels.get(element.get(_R_ID, ""))
            if rel is not None:
                parts[element.get("name", "")] = rel[1]
    return parts


class _Patterns:
    """The patterns for one sheet part, its namespace prefix (``x:`` in ``<x:row>``, mostly none) included.

    Each starts with a literal, which the regular expression engine looks for at C speed; the few matches
    (hidden rows, formulas without a value) are then checked one by one."""

    def __init__(self, prefix: bytes) -> None:
        p = re.escape(prefix)
        self.row = b"<" + prefix + b"row"
        self.cell = b"<" + prefix + b"c"
        self.col = re.compile(b"<" + p + rb"col\b[^>]*>")
        self.sheet_data = re.compile(b"<" + p + rb"sheetData\b")
        self.row_end = b"</" + prefix + b"row>"
        self.cell_end = b"</" + prefix + b"c>"
        # A formula (<f>…</f>, or a shared formula's <f …/>) followed by no value or an empty one, then the end
        # of the cell.
        value = rb"\s*(?:<" + p + rb"v\s*/>|<" + p + rb"v>\s*</" + p + rb"v>)?\s*</" + p + rb"c>"
        self.uncomputed = re.compile(b"<" + p + rb"f\b[^<>]*?(?:/>|>[^<]*</" + p + rb"f>)" + value)


def _patterns(head: bytes) -> _Patterns:
    root = _ROOT.search(head)
    return _Patterns(root.group(1) or b"" if root else b"")


def _hidden_columns(head: bytes, patterns: _Patterns, marks: Marks) -> None:
    for tag in patterns.col.findall(head):
        attributes = _attributes(tag)
        if attributes.get("hidden") in ("1", "true"):
            low, high = int(attributes.get("min", "1")), int(attributes.get("max", "1"))
            # A hidden range up to the last column (max="16384") is cut short, not 16,000 entries.
            marks.hidden_columns.update(range(low - 1, min(high, low + 1024)))


def _scan_rows(data: bytes, patterns: _Patterns, marks: Marks) -> None:
    for match in _HIDDEN.finditer(data):
        start = data.rfind(b"<", 0, match.start())
        if start >= 0 and data.startswith(patterns.row, start) and data[start + len(patterns.row)] in b" \t\r\n":
            number = _ROW_NUMBER.search(data, start, data.find(b">", match.start()))
            if number:
                marks.hidden_rows.add(int(number.group(1)))
    for match in patterns.uncomputed.finditer(data):
        start = data.rfind(patterns.cell, 0, match.start())
        attributes = _attributes(data[start : data.find(b">", start)])
        if attributes.get("t") == "str":  # a formula whose result is the empty text
            continue
        cell = _CELL_REF.fullmatch(attributes.get("r", ""))
        if cell:
            marks.uncomputed.append((int(cell.group(2)), column_index(cell.group(1))))


def _head(stream: IO[bytes]) -> tuple[bytes, bytes, _Patterns]:
    """The part of the sheet before its cells, the first bytes of the cells, the patterns for the part."""
    data = b""
    while chunk := stream.read(1 << 16):
        data += chunk
        patterns = _patterns(data[:4096])
        found = patterns.sheet_data.search(data)
        if found:
            return data[: found.start()], data[found.start() :], patterns
    return data, b"", _patterns(data[:4096])


def scan_columns(archive: zipfile.ZipFile, part: str) -> set[int]:
    """The hidden columns of a sheet: only the part before its cells is read."""
    marks = Marks()
    with archive.open(part) as stream:
        head, _rest, patterns = _head(stream)
    _hidden_columns(head, patterns, marks)
    return marks.hidden_columns


def scan_sheet(archive: zipfile.ZipFile, part: str) -> Marks:
    """Hidden rows and columns and uncomputed formula cells of one sheet, in one pass over its XML."""
    marks = Marks()
    with archive.open(part) as stream:
        head, carry, patterns = _head(stream)
        _hidden_columns(head, patterns, marks)
        while chunk := stream.read(CHUNK):
            data = carry + chunk
            # Cut after the last complete row (or cell): nothing the patterns look for spans the cut.
            end = data.rfind(patterns.row_end)
            if end >= 0:
                end += len(patterns.row_end)
            else:
                end = data.rfind(patterns.cell_end)
                end = end + len(patterns.cell_end) if end >= 0 else 0
            _scan_rows(data[:end], patterns, marks)
            carry = data[end:]
        _scan_rows(carry, patterns, marks)
    return marks


def read_marks(path: Path, sheet: str) -> Marks:
    """The marks of sheet ``sheet`` of the .xlsx at ``path`` (none when they cannot be found)."""
    try:
        with zipfile.ZipFile(path) as archive:
            part = sheet_parts(archive).get(sheet)
            return scan_sheet(archive, part) if part else Marks()
    except (zipfile.BadZipFile, KeyError, OSError, ElementTree.ParseError):
        return Marks()


def read_hidden_columns(path: Path) -> dict[str, set[int]]:
    """Sheet name → its hidden columns, for every sheet of the .xlsx at ``path``."""
    try:
        with zipfile.ZipFile(path) as archive:
            return {name: scan_columns(archive, part) for name, part in sheet_parts(archive).items()}
    except (zipfile.BadZipFile, KeyError, OSError, ElementTree.ParseError):
        return {}
