"""Rendering helpers for report documents: numbers with their unit, the kind of a block, a chart's data as the
JSON its script reads and as rows of the table beside it, a table's cells paired with their links."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Any

from django import template
from django.utils.formats import date_format
from django.utils.text import slugify
from django.utils.translation import gettext as _

from needpool.reports.document import Block, Chart, Figure, Table, json_value

register = template.Library()


def unit_text(unit: str) -> str:
    """The unit as shown after a number ("" for plain counts)."""
    return {"%": "%", "h": _("小时"), "d": _("天"), "score": _("分")}.get(unit, "")


@register.filter
def report_number(value: Any) -> str:
    """A value for reading: — for no data, whole numbers without decimals, others to one decimal place."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 10_000 else str(value)
    if isinstance(value, float | Decimal):
        number = float(value)
        if not math.isfinite(number):
            return "—"
        if number == int(number) and abs(number) < 1e15:
            return str(int(number))
        return f"{number:.1f}"
    if isinstance(value, dt.datetime):
        return date_format(value, "Y-m-d H:i")
    if isinstance(value, dt.date):
        return date_format(value, "Y-m-d")
    return str(value)


@register.filter
def report_unit(unit: str) -> str:
    return unit_text(unit)


@register.filter
def report_value(value: Any, unit: str = "") -> str:
    """The number and its unit together ("62.5%", "18 小时"); no unit after — ."""
    text = report_number(value)
    suffix = unit_text(unit)
    if text == "—" or not suffix:
        return text
    return f"{text}{suffix}" if unit == "%" else f"{text} {suffix}"


@register.filter
def block_kind(block: Block) -> str:
    if isinstance(block, Figure):
        return "figure"
    if isinstance(block, Table):
        return "table"
    if isinstance(block, Chart):
        return "chart"
    return "text"


@register.simple_tag
def block_dom_id(prefix: str, section_key: str, block_key: str) -> str:
    """An element id for a block, unique within a report (section and block keys are)."""
    return "-".join(part for part in (prefix, slugify(section_key), slugify(block_key)) if part)


@register.filter
def chart_json(chart: Chart) -> dict[str, Any]:
    """What reports.js needs to draw a chart: its kind, categories, series, click-through links and unit."""
    return {
        "kind": chart.kind,
        "title": str(chart.title),
        "categories": [str(c) for c in chart.categories],
        "series": [{"name": str(s.name), "values": [json_value(v) for v in s.values]} for s in chart.series],
        "hrefs": [str(h or "") for h in chart.hrefs],
        "unit": chart.unit,
        "unitLabel": unit_text(chart.unit),
        "emptyText": _("暂无数据"),
    }


@register.filter
def chart_rows(chart: Chart) -> list[dict[str, Any]]:
    """The chart's numbers row by row: one row per category, one value per series, and its link."""
    rows = []
    for index, category in enumerate(chart.categories):
        values = [s.values[index] if index < len(s.values) else None for s in chart.series]
        href = chart.hrefs[index] if index < len(chart.hrefs) else ""
        rows.append({"category": category, "values": values, "href": href or ""})
    return rows


@register.filter
def table_cells(table: Table) -> list[list[dict[str, Any]]]:
    """Rows of {value, href, column} (href "" when the cell links nowhere)."""
    rows = []
    for r, row in enumerate(table.rows):
        links = table.hrefs[r] if r < len(table.hrefs) else []
        rows.append(
            [
                {
                    "value": cell,
                    "href": (links[c] if c < len(links) else "") or "",
                    "column": table.columns[c] if c < len(table.columns) else "",
                }
                for c, cell in enumerate(row)
            ]
        )
    return rows
