"""A report as data: sections of figures, tables, charts and text, rendered by every output alike.

Builders (``metrics.dashboard``, the monthly review, the customer and analysis-project reports) return a
``Report``; the renderers never compute a number. Values are plain Python (int, float, Decimal, str, date,
None for "no data"); ``href`` values are site-relative links to the list a number counts (click-through), or "".
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

Unit = Literal["", "%", "h", "d", "count", "score"]
ChartKind = Literal["bar", "hbar", "line", "pie", "funnel", "stacked"]


@dataclass
class Figure:
    """One headline number (需求满足率 62.5 %): ``value`` None when the period has nothing to count."""

    key: str
    label: str
    value: Any
    unit: Unit = ""
    note: str = ""  # e.g. "目标 24 小时" or "125 / 200"
    href: str = ""


@dataclass
class Table:
    """Rows of cells; ``hrefs`` (same shape as ``rows``, or empty) link cells to the list they count."""

    key: str
    title: str
    columns: list[str]
    rows: list[list[Any]]
    hrefs: list[list[str]] = field(default_factory=list)
    note: str = ""


@dataclass
class Series:
    name: str
    values: list[Any]


@dataclass
class Chart:
    """A chart over ``categories``; ``hrefs[i]`` is the click-through of category i (all series alike)."""

    key: str
    title: str
    kind: ChartKind
    categories: list[str]
    series: list[Series]
    hrefs: list[str] = field(default_factory=list)
    unit: Unit = ""
    note: str = ""


@dataclass
class Text:
    """Prose: generated sentences ("30 % 的需求为功能优化") or the conclusions a team writes."""

    key: str
    title: str
    body: str
    items: list[str] = field(default_factory=list)


Block = Figure | Table | Chart | Text


@dataclass
class Section:
    key: str
    title: str
    blocks: list[Block] = field(default_factory=list)

    def figures(self) -> list[Figure]:
        return [b for b in self.blocks if isinstance(b, Figure)]

    def others(self) -> list[Block]:
        return [b for b in self.blocks if not isinstance(b, Figure)]


@dataclass
class Report:
    """A whole report. ``scope`` lists the filters in words (期间 2026-11-01 至 2026-11-30 · 团队 华东销售部);
    ``computed_at`` says when the numbers were taken (a cached or summarised figure is never stale unsaid)."""

    kind: str  # "dashboard", "monthly", "customer", "project"
    title: str
    scope: list[str]
    computed_at: dt.datetime
    sections: list[Section] = field(default_factory=list)
    subtitle: str = ""
    stale_note: str = ""

    def tables(self) -> list[Table]:
        return [b for s in self.sections for b in s.blocks if isinstance(b, Table)]

    def charts(self) -> list[Chart]:
        return [b for s in self.sections for b in s.blocks if isinstance(b, Chart)]

    def figure(self, key: str) -> Figure | None:
        for s in self.sections:
            for b in s.blocks:
                if isinstance(b, Figure) and b.key == key:
                    return b
        return None

    def block(self, key: str) -> Block | None:
        for s in self.sections:
            for b in s.blocks:
                if b.key == key:
                    return b
        return None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Report:
        """The report ``as_dict`` gave back (see ``from_dict``)."""
        return from_dict(data)


# ---------------------------------------------------------------- as JSON


def json_value(value: Any) -> Any:
    """A cell or figure value as JSON: Decimal → float, dates ISO, lazy text → str, None kept (and a value that
    is not a number, NaN or infinite, is None: JSON has no such number)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float | Decimal):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    return str(value)


def _block_dict(block: Block) -> dict[str, Any]:
    if isinstance(block, Figure):
        return {
            "type": "figure",
            "key": block.key,
            "label": str(block.label),
            "value": json_value(block.value),
            "unit": block.unit,
            "note": str(block.note),
            "href": block.href,
        }
    if isinstance(block, Table):
        return {
            "type": "table",
            "key": block.key,
            "title": str(block.title),
            "columns": [str(c) for c in block.columns],
            "rows": [[json_value(cell) for cell in row] for row in block.rows],
            "hrefs": [[str(h or "") for h in row] for row in block.hrefs],
            "note": str(block.note),
        }
    if isinstance(block, Chart):
        return {
            "type": "chart",
            "key": block.key,
            "title": str(block.title),
            "kind": block.kind,
            "categories": [str(c) for c in block.categories],
            "series": [{"name": str(s.name), "values": [json_value(v) for v in s.values]} for s in block.series],
            "hrefs": [str(h or "") for h in block.hrefs],
            "unit": block.unit,
            "note": str(block.note),
        }
    return {
        "type": "text",
        "key": block.key,
        "title": str(block.title),
        "body": str(block.body),
        "items": [str(i) for i in block.items],
    }


def as_dict(report: Report) -> dict[str, Any]:
    """The report as JSON-safe data (the API's body and the data behind every chart on a page)."""
    return {
        "kind": report.kind,
        "title": str(report.title),
        "subtitle": str(report.subtitle),
        "scope": [str(s) for s in report.scope],
        "computed_at": report.computed_at.isoformat(),
        "stale_note": str(report.stale_note),
        "sections": [
            {"key": s.key, "title": str(s.title), "blocks": [_block_dict(b) for b in s.blocks]} for s in report.sections
        ],
    }


# ---------------------------------------------------------------- from JSON


def _block_from(data: dict[str, Any]) -> Block:
    kind = data["type"]
    if kind == "figure":
        return Figure(
            key=data["key"],
            label=data["label"],
            value=data["value"],
            unit=data["unit"],
            note=data["note"],
            href=data["href"],
        )
    if kind == "table":
        return Table(
            key=data["key"],
            title=data["title"],
            columns=list(data["columns"]),
            rows=[list(row) for row in data["rows"]],
            hrefs=[list(row) for row in data["hrefs"]],
            note=data["note"],
        )
    if kind == "chart":
        return Chart(
            key=data["key"],
            title=data["title"],
            kind=data["kind"],
            categories=list(data["categories"]),
            series=[Series(name=s["name"], values=list(s["values"])) for s in data["series"]],
            hrefs=list(data["hrefs"]),
            unit=data["unit"],
            note=data["note"],
        )
    if kind == "text":
        return Text(key=data["key"], title=data["title"], body=data["body"], items=list(data["items"]))
    raise ValueError(f"unknown block type {kind!r}")


def from_dict(data: dict[str, Any]) -> Report:
    """The report ``as_dict`` gave (a stored snapshot): ``as_dict(from_dict(d)) == d``. Values come back as their
    JSON form (numbers, ISO dates as text), which every renderer shows alike."""
    return Report(
        kind=data["kind"],
        title=data["title"],
        subtitle=data["subtitle"],
        scope=list(data["scope"]),
        computed_at=dt.datetime.fromisoformat(data["computed_at"]),
        stale_note=data["stale_note"],
        sections=[
            Section(key=s["key"], title=s["title"], blocks=[_block_from(b) for b in s["blocks"]])
            for s in data["sections"]
        ],
    )
