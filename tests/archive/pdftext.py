"""The text of a WeasyPrint PDF, enough for a test to find words in it (no PDF library needed).

WeasyPrint writes text as 2-byte glyph ids in hex strings and a ToUnicode map per font; this joins every
map and decodes every hex string of the content streams (fonts sharing glyph ids may garble a character,
which a test looking for a code and a phrase can live with)."""

from __future__ import annotations

import re
import zlib


def _streams(pdf: bytes) -> list[bytes]:
    found = []
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            found.append(zlib.decompress(match.group(1)))
        except zlib.error:
            found.append(match.group(1))
    return found


def pdf_text(pdf: bytes) -> str:
    streams = _streams(pdf)
    glyphs: dict[str, str] = {}
    for data in streams:
        if b"beginbfchar" not in data and b"beginbfrange" not in data:
            continue
        for block in re.findall(rb"beginbfchar(.*?)endbfchar", data, re.S):
            for src, dst in re.findall(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", block):
                glyphs[src.decode().lower()] = bytes.fromhex(dst.decode()).decode("utf-16-be", "replace")
    out = []
    for data in streams:
        if b"TJ" not in data and b"Tj" not in data:
            continue
        for hexstring in re.findall(rb"<([0-9a-fA-F]+)>", data):
            text = hexstring.decode().lower()
            out.append("".join(glyphs.get(text[i : i + 4], "") for i in range(0, len(text), 4)))
    return "".join(out)
