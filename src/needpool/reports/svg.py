"""Charts drawn on the server as SVG (bar, hbar, line, pie, funnel, stacked), for the PDF of a report.

The same ``document.Chart`` the page hands to ECharts is drawn here with plain strings: axes with round
ticks, category labels, the value of every bar, point or slice, and a legend when there is more than one
series (or for a pie). Every piece of text is XML-escaped and stripped of characters XML cannot hold, so
a label such as ``<script>`` or ``A&B`` is shown as written and the drawing always parses. The font list
names the CJK fonts the PDF uses, so Chinese labels never fall back to empty boxes.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from django.utils.translation import gettext as _

from needpool.reports.document import Chart

WIDTH = 640
HEIGHT = 320
FONT = "WenQuanYi Micro Hei, Noto Sans CJK SC, Source Han Sans SC, sans-serif"
PALETTE = (
    "#206bc4",
    "#2fb344",
    "#f59f00",
    "#d63939",
    "#ae3ec9",
    "#17a2b8",
    "#74b816",
    "#f76707",
    "#4263eb",
    "#868e96",
)
AXIS = "#667382"
GRID = "#e6e7e9"
TEXT = "#1d273b"
LABEL_SIZE = 11
VALUE_SIZE = 10
MAX_LABEL_CHARS = 14
ROTATED_CHARS = 10
# Characters XML 1.0 cannot hold at all (control characters other than tab, newline, carriage return).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


# ---------------------------------------------------------------- text and numbers


def clean(text: Any) -> str:
    return _NOT_XML.sub("", str(text))


def esc(text: Any) -> str:
    """Text content, escaped for XML."""
    return escape(clean(text))


def attr(text: Any) -> str:
    """An attribute value with its quotes, escaped for XML."""
    return quoteattr(clean(text))


def number(value: Any) -> float | None:
    """The value as a float for drawing; None for no data (None, text, NaN)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float | Decimal):
        result = float(value)
        return None if math.isnan(result) or math.isinf(result) else result
    return None


def fmt_number(value: Any) -> str:
    """12 → "12", 1234 → "1,234", 62.5 → "62.5", 3.3333 → "3.33"; None → "—"."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float | Decimal):
        as_float = float(value)
        if math.isnan(as_float) or math.isinf(as_float):
            return "—"
        text = f"{as_float:,.2f}".rstrip("0").rstrip(".")
        return "0" if text in ("-0", "") else text
    return str(value)


def fmt_value(value: Any, unit: str = "") -> str:
    """A drawn value with its unit where the unit reads as part of the number (62.5%, 3.5 小时, 2 天)."""
    text = fmt_number(value)
    if value is None or number(value) is None:
        return text
    if unit == "%":
        return f"{text}%"
    if unit == "h":
        return _("%(n)s 小时") % {"n": text}
    if unit == "d":
        return _("%(n)s 天") % {"n": text}
    return text


def text_width(text: str, size: float) -> float:
    """About how wide ``text`` is drawn: a CJK character is a square, Latin about 0.6 of one."""
    return sum(size if ord(char) > 0x2E7F else size * 0.6 for char in text)


def shorten(text: str, limit: int = MAX_LABEL_CHARS) -> str:
    text = clean(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high] (0 included), about ``count`` of them."""
    low, high = min(low, 0.0), max(high, 0.0)
    if high - low < 1e-9:
        high = low + 1
    raw = (high - low) / max(count - 1, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.floor(low / step) * step
    ticks = [start]
    while ticks[-1] < high and len(ticks) < 3 * count:
        ticks.append(start + step * len(ticks))
    # Shown as 0.30000000000000004 otherwise; the magnitude decides the digits that matter.
    digits = max(0, 2 - math.floor(math.log10(step)))
    ticks = [round(t, digits) for t in ticks]
    return ticks


# ---------------------------------------------------------------- pieces


def _text(
    x: float,
    y: float,
    content: str,
    *,
    size: float = LABEL_SIZE,
    anchor: str = "middle",
    fill: str = TEXT,
    weight: str = "",
    full: str = "",
) -> str:
    bold = ' font-weight="bold"' if weight else ""
    title = f"<title>{esc(full)}</title>" if full and full != content else ""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" fill="{fill}"{bold}>'
        f"{title}{esc(content)}</text>"
    )


def _label(x: float, y: float, label: str, **kwargs: Any) -> str:
    return _text(x, y, shorten(label), full=clean(label), **kwargs)


def _legend(names: list[str], y: float, width: float) -> tuple[str, float]:
    """A wrapped row of colour keys; returns the SVG and the height it takes."""
    parts: list[str] = []
    x, row = 10.0, 0
    for index, name in enumerate(names):
        label = shorten(name, 20)
        span = 16 + text_width(label, LABEL_SIZE) + 14
        if x + span > width - 10 and x > 10:
            x, row = 10.0, row + 1
        top = y + row * 18
        colour = PALETTE[index % len(PALETTE)]
        parts.append(f'<rect x="{x:.1f}" y="{top:.1f}" width="11" height="11" rx="2" fill="{colour}"/>')
        parts.append(_label(x + 15, top + 10, name, anchor="start"))
        x += span
    return "".join(parts), (row + 1) * 18 + 4 if names else 0


def _svg(body: list[str], chart: Chart, width: float, height: float) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-label={attr(chart.title)} '
        f'font-family={attr(FONT)} class="report-chart" data-kind={attr(chart.kind)}>'
        f"<title>{esc(chart.title)}</title>" + "".join(body) + "</svg>"
    )


def _empty(chart: Chart, width: float) -> str:
    height = 80.0
    body = [
        f'<rect x="0.5" y="0.5" width="{width - 1:.0f}" height="{height - 1:.0f}" fill="none" stroke="{GRID}"/>',
        _text(width / 2, height / 2 + 4, _("暂无数据"), size=12, fill=AXIS),
    ]
    return _svg(body, chart, width, height)


def _values(chart: Chart, series_index: int) -> list[float | None]:
    values = chart.series[series_index].values if series_index < len(chart.series) else []
    return [number(values[i]) if i < len(values) else None for i in range(len(chart.categories))]


def _raw(chart: Chart, series_index: int, index: int) -> Any:
    values = chart.series[series_index].values
    return values[index] if index < len(values) else None


def _has_data(chart: Chart) -> bool:
    return bool(chart.categories) and any(v is not None for s in range(len(chart.series)) for v in _values(chart, s))


# ---------------------------------------------------------------- the chart kinds


def _vertical(chart: Chart, width: float, height: float) -> str:
    """bar, stacked and line: categories along the bottom, values up the left."""
    names = [s.name for s in chart.series]
    show_legend = len(names) > 1
    legend, legend_height = _legend(names, height - 4, width) if show_legend else ("", 0.0)
    stacked = chart.kind == "stacked"
    n = len(chart.categories)
    columns = [_values(chart, s) for s in range(len(chart.series))]
    if stacked:
        totals = [sum(max(col[i] or 0.0, 0.0) for col in columns) for i in range(n)]
        low, high = 0.0, max(totals, default=0.0)
    else:
        present = [v for col in columns for v in col if v is not None]
        low, high = min(present, default=0.0), max(present, default=0.0)
    ticks = nice_ticks(low, high)
    lo, hi = ticks[0], ticks[-1]
    tick_labels = [fmt_number(int(t) if float(t).is_integer() else t) for t in ticks]
    left = 12 + max(text_width(t, VALUE_SIZE) for t in tick_labels)
    slot_guess = (width - left - 16) / max(n, 1)
    rotate = any(text_width(shorten(c), LABEL_SIZE) > slot_guess - 4 for c in chart.categories)
    longest = max(text_width(shorten(c, ROTATED_CHARS), LABEL_SIZE) for c in chart.categories)
    label_band = min(longest * 0.58 + 22, 100.0) if rotate else 22.0
    top, bottom = 22.0, height - label_band - (legend_height + 6 if show_legend else 0)
    if show_legend:
        legend, legend_height = _legend(names, bottom + label_band + 2, width)
    right = width - 16
    slot = (right - left) / max(n, 1)

    def y_of(value: float) -> float:
        return bottom - (value - lo) / (hi - lo) * (bottom - top)

    body: list[str] = []
    for tick, label in zip(ticks, tick_labels, strict=True):
        y = y_of(tick)
        body.append(f'<line x1="{left:.1f}" y1="{y:.1f}" x2="{right:.1f}" y2="{y:.1f}" stroke="{GRID}"/>')
        body.append(_text(left - 5, y + 3.5, label, size=VALUE_SIZE, anchor="end", fill=AXIS))
    zero = y_of(0.0)
    body.append(f'<line x1="{left:.1f}" y1="{zero:.1f}" x2="{right:.1f}" y2="{zero:.1f}" stroke="{AXIS}"/>')
    body.append(f'<line x1="{left:.1f}" y1="{top:.1f}" x2="{left:.1f}" y2="{bottom:.1f}" stroke="{AXIS}"/>')
    for i, category in enumerate(chart.categories):
        cx = left + slot * (i + 0.5)
        if rotate:
            y = bottom + 12
            body.append(
                f'<g transform="translate({cx:.1f},{y:.1f}) rotate(-35)">'
                + _text(0, 0, shorten(category, ROTATED_CHARS), anchor="end", full=clean(category))
                + "</g>"
            )
        else:
            body.append(_label(cx, bottom + 15, category))
    count = max(len(columns), 1)
    if chart.kind == "line":
        body.extend(_lines(chart, columns, left, slot, y_of, label_values=n <= 24))
    elif stacked:
        bar = slot * 0.6
        for i in range(n):
            base = 0.0
            x = left + slot * i + (slot - bar) / 2
            for s, col in enumerate(columns):
                value = max(col[i] or 0.0, 0.0)
                if not value:
                    continue
                y1, y0 = y_of(base + value), y_of(base)
                colour = PALETTE[s % len(PALETTE)]
                body.append(
                    f'<rect x="{x:.1f}" y="{y1:.1f}" width="{bar:.1f}" height="{y0 - y1:.1f}" fill="{colour}">'
                    f"<title>{esc(chart.series[s].name)} {esc(fmt_value(_raw(chart, s, i), chart.unit))}</title>"
                    "</rect>"
                )
                if y0 - y1 >= 13 and text_width(fmt_number(_raw(chart, s, i)), VALUE_SIZE) <= bar:
                    body.append(
                        _text(
                            x + bar / 2,
                            (y0 + y1) / 2 + 3.5,
                            fmt_number(_raw(chart, s, i)),
                            size=VALUE_SIZE,
                            fill="#ffffff",
                        )
                    )
                base += value
            if base:
                shown: Any = int(base) if float(base).is_integer() else base
                body.append(_text(x + bar / 2, y_of(base) - 4, fmt_value(shown, chart.unit), size=VALUE_SIZE))
    else:
        group = slot * 0.7
        bar = group / count
        for i in range(n):
            for s, col in enumerate(columns):
                found = col[i]
                x = left + slot * i + (slot - group) / 2 + bar * s
                if found is None:
                    continue
                value = found
                y_top, y_bottom = sorted((y_of(value), zero))
                colour = PALETTE[(s if count > 1 else 0) % len(PALETTE)]
                body.append(
                    f'<rect x="{x:.1f}" y="{y_top:.1f}" width="{bar * 0.92:.1f}" '
                    f'height="{max(y_bottom - y_top, 0.5):.1f}" fill="{colour}"/>'
                )
                label_y = y_top - 4 if value >= 0 else y_bottom + 11
                body.append(_text(x + bar * 0.46, label_y, fmt_value(_raw(chart, s, i), chart.unit), size=VALUE_SIZE))
    body.append(legend)
    return _svg(body, chart, width, height)


def _lines(
    chart: Chart, columns: list[list[float | None]], left: float, slot: float, y_of: Any, *, label_values: bool
) -> list[str]:
    body: list[str] = []
    for s, col in enumerate(columns):
        colour = PALETTE[s % len(PALETTE)]
        run: list[str] = []
        runs: list[list[str]] = []
        for i, value in enumerate(col):
            if value is None:
                if run:
                    runs.append(run)
                run = []
                continue
            run.append(f"{left + slot * (i + 0.5):.1f},{y_of(value):.1f}")
        if run:
            runs.append(run)
        for points in runs:
            if len(points) > 1:
                body.append(f'<polyline points="{" ".join(points)}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for i, value in enumerate(col):
            if value is None:
                continue
            x, y = left + slot * (i + 0.5), y_of(value)
            body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>')
            if label_values:
                # Alternate series put their values under the points, so two close lines stay readable.
                label_y = y - 7 if s % 2 == 0 else y + 15
                body.append(_text(x, label_y, fmt_value(_raw(chart, s, i), chart.unit), size=VALUE_SIZE))
    return body


def _hbar(chart: Chart, width: float) -> str:
    """Categories down the left, bars to the right (long names, rankings)."""
    names = [s.name for s in chart.series]
    columns = [_values(chart, s) for s in range(len(chart.series))]
    count = max(len(columns), 1)
    n = len(chart.categories)
    row = max(22.0, 14.0 * count + 8)
    present = [v for col in columns for v in col if v is not None]
    ticks = nice_ticks(min(present, default=0.0), max(present, default=0.0))
    lo, hi = ticks[0], ticks[-1]
    left = 14 + max(text_width(shorten(c), LABEL_SIZE) for c in chart.categories)
    right = width - 60
    top = 14.0
    bottom = top + row * n
    legend, legend_height = _legend(names, bottom + 26, width) if count > 1 else ("", 0.0)
    height = bottom + 26 + legend_height + 6

    def x_of(value: float) -> float:
        return left + (value - lo) / (hi - lo) * (right - left)

    body: list[str] = []
    for tick in ticks:
        x = x_of(tick)
        shown: Any = int(tick) if float(tick).is_integer() else tick
        body.append(f'<line x1="{x:.1f}" y1="{top:.1f}" x2="{x:.1f}" y2="{bottom:.1f}" stroke="{GRID}"/>')
        body.append(_text(x, bottom + 14, fmt_number(shown), size=VALUE_SIZE, fill=AXIS))
    zero = x_of(0.0)
    body.append(f'<line x1="{zero:.1f}" y1="{top:.1f}" x2="{zero:.1f}" y2="{bottom:.1f}" stroke="{AXIS}"/>')
    bar = (row - 8) / count
    for i, category in enumerate(chart.categories):
        y = top + row * i
        body.append(_label(left - 6, y + row / 2 + 4, category, anchor="end"))
        for s, col in enumerate(columns):
            value = col[i]
            if value is None:
                continue
            x0, x1 = sorted((zero, x_of(value)))
            by = y + 4 + bar * s
            colour = PALETTE[(s if count > 1 else 0) % len(PALETTE)]
            body.append(
                f'<rect x="{x0:.1f}" y="{by:.1f}" width="{max(x1 - x0, 0.5):.1f}" height="{bar * 0.9:.1f}" '
                f'fill="{colour}"/>'
            )
            label_x, anchor = (x1 + 4, "start") if value >= 0 else (x0 - 4, "end")
            body.append(
                _text(
                    label_x,
                    by + bar * 0.45 + 3.5,
                    fmt_value(_raw(chart, s, i), chart.unit),
                    size=VALUE_SIZE,
                    anchor=anchor,
                )
            )
    body.append(legend)
    return _svg(body, chart, width, height)


def _pie(chart: Chart, width: float, height: float) -> str:
    """The first series as slices, with a legend giving each value and its share."""
    values = [max(v or 0.0, 0.0) for v in _values(chart, 0)]
    total = sum(values)
    if not total:
        return _empty(chart, width)
    radius = min(height / 2 - 20, width / 4)
    cx, cy = 20 + radius, height / 2
    body: list[str] = []
    angle = -math.pi / 2
    slices = [(i, v) for i, v in enumerate(values) if v > 0]
    for i, value in slices:
        colour = PALETTE[i % len(PALETTE)]
        share = value / total
        tip = f"<title>{esc(chart.categories[i])} {esc(fmt_value(_raw(chart, 0, i), chart.unit))}</title>"
        if len(slices) == 1:
            body.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{radius:.1f}" fill="{colour}">{tip}</circle>')
            continue
        end = angle + share * 2 * math.pi
        x0, y0 = cx + radius * math.cos(angle), cy + radius * math.sin(angle)
        x1, y1 = cx + radius * math.cos(end), cy + radius * math.sin(end)
        large = 1 if share > 0.5 else 0
        body.append(
            f'<path d="M{cx:.1f},{cy:.1f} L{x0:.1f},{y0:.1f} A{radius:.1f},{radius:.1f} 0 {large} 1 '
            f'{x1:.1f},{y1:.1f} Z" fill="{colour}" stroke="#ffffff" stroke-width="1">{tip}</path>'
        )
        angle = end
    key_x = cx + radius + 30
    rows = len(chart.categories)
    line = min(20.0, (height - 20) / max(rows, 1))
    key_y = max(cy - line * rows / 2, 10.0)
    for i, category in enumerate(chart.categories):
        y = key_y + line * i
        colour = PALETTE[i % len(PALETTE)]
        share = values[i] / total * 100
        body.append(f'<rect x="{key_x:.1f}" y="{y:.1f}" width="11" height="11" rx="2" fill="{colour}"/>')
        text = f"{shorten(category, 18)}  {fmt_value(_raw(chart, 0, i), chart.unit)}（{fmt_number(round(share, 1))}%）"
        body.append(_text(key_x + 16, y + 10, text, anchor="start", full=f"{clean(category)}"))
    return _svg(body, chart, width, height)


def _funnel(chart: Chart, width: float) -> str:
    """The first series as stages, each as wide as its value against the first stage, with its share of it."""
    values = [max(v or 0.0, 0.0) for v in _values(chart, 0)]
    n = len(chart.categories)
    widest = max(values, default=0.0) or 1.0
    first = values[0] if values and values[0] else widest
    row = 30.0
    label_width = 14 + max(text_width(shorten(c), LABEL_SIZE) for c in chart.categories)
    area_left, area_right = label_width, width - 110
    centre = (area_left + area_right) / 2
    full = area_right - area_left
    height = 16 + row * n
    body: list[str] = []
    for i, category in enumerate(chart.categories):
        y = 8 + row * i
        span = max(full * values[i] / widest, 2.0)
        colour = PALETTE[i % len(PALETTE)]
        body.append(
            f'<rect x="{centre - span / 2:.1f}" y="{y:.1f}" width="{span:.1f}" height="{row - 6:.1f}" rx="2" '
            f'fill="{colour}"/>'
        )
        body.append(_label(area_left - 6, y + row / 2 + 1, category, anchor="end"))
        share = values[i] / first * 100 if first else 0.0
        text = f"{fmt_value(_raw(chart, 0, i), chart.unit)}（{fmt_number(round(share, 1))}%）"
        body.append(_text(area_right + 8, y + row / 2 + 1, text, anchor="start", size=VALUE_SIZE))
    return _svg(body, chart, width, height)


def chart_svg(chart: Chart, *, width: float = WIDTH, height: float = HEIGHT) -> str:
    """The chart as one ``<svg>`` element (standalone XML, ready to put inline in HTML)."""
    if not _has_data(chart):
        return _empty(chart, width)
    if chart.kind == "hbar":
        return _hbar(chart, width)
    if chart.kind == "pie":
        return _pie(chart, width, min(height, 260))
    if chart.kind == "funnel":
        return _funnel(chart, width)
    return _vertical(chart, width, height)
