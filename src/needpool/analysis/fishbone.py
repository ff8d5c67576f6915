"""The fishbone (Ishikawa) diagram's geometry, drawn as inline SVG by the desk template.

Pure functions: a problem's title and its causes grouped by category in, coordinates and clipped
labels out. No request handling.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from needpool.analysis.choices import FishboneCategory

FISHBONE_TOP = ("people", "machine", "material")
FISHBONE_BOTTOM = ("method", "environment", "measurement")
FISHBONE_BONE_X = (330, 560, 790)
FISHBONE_SPINE_Y = 220
FISHBONE_DX, FISHBONE_DY = 110, 165
FISHBONE_MAX_SHOWN = 7


def _text_units(text: str) -> float:
    """Approximate text width in em: CJK characters are one em wide, Latin ones a little over half."""
    return sum(1.0 if ord(ch) >= 0x2E80 else 0.56 for ch in text)


def _clip(text: str, units: float) -> str:
    if _text_units(text) <= units:
        return text
    out, used = "", 0.0
    for ch in text:
        width = 1.0 if ord(ch) >= 0x2E80 else 0.56
        if used + width > units - 1:
            break
        out += ch
        used += width
    return out + "…"


def _wrap(text: str, units: float, lines: int) -> list[str]:
    rows: list[str] = []
    current, used = "", 0.0
    for ch in text:
        width = 1.0 if ord(ch) >= 0x2E80 else 0.56
        if used + width > units and current:
            rows.append(current)
            current, used = "", 0.0
        current += ch
        used += width
    if current:
        rows.append(current)
    if len(rows) > lines:
        rows = rows[:lines]
        rows[-1] = _clip(rows[-1] + "……", units)
    return rows


def fishbone_picture(title: str, grouped: dict[str, list[Any]]) -> dict[str, Any]:
    """Geometry of the fishbone diagram (drawn as inline SVG by the template).

    A spine ends in a head holding the problem; three bones above (人 机 料) and three below
    (法 环 测) slant back from the spine, each cause a short horizontal branch with its text.
    """
    labels = dict(FishboneCategory.choices)
    spine_y = FISHBONE_SPINE_Y
    bones = []
    for direction, keys in ((-1, FISHBONE_TOP), (1, FISHBONE_BOTTOM)):
        for x0, key in zip(FISHBONE_BONE_X, keys, strict=True):
            x1, y1 = x0 - FISHBONE_DX, spine_y + direction * FISHBONE_DY
            causes = grouped.get(key, [])
            shown = causes[:FISHBONE_MAX_SHOWN]
            hidden = len(causes) - len(shown)
            slots = len(shown) + (1 if hidden else 0)
            items = []
            for index in range(slots):
                t = 1 - (index + 1) / (slots + 1) * 0.92
                px = x0 - FISHBONE_DX * t
                py = spine_y + direction * FISHBONE_DY * t
                if index < len(shown):
                    full = shown[index].text
                    text = _clip(full, 12.8)
                    more = False
                else:
                    full = text = _("另有 %(n)s 条") % {"n": hidden}
                    more = True
                items.append(
                    {
                        "x1": round(px, 1),
                        "y": round(py, 1),
                        "x2": round(px - 16, 1),
                        "tx": round(px - 20, 1),
                        "ty": round(py + 4, 1),
                        "text": text,
                        "full": full,
                        "more": more,
                    }
                )
            label = str(labels.get(key, key))
            box_w = max(36, 17 * _text_units(label) + 18)
            box_y = y1 - 32 if direction < 0 else y1 + 4
            bones.append(
                {
                    "key": key,
                    "label": label,
                    "x0": x0,
                    "y0": spine_y,
                    "x1": x1,
                    "y1": y1,
                    "box_x": round(x1 - box_w / 2, 1),
                    "box_y": box_y,
                    "box_w": round(box_w, 1),
                    "label_y": box_y + 20,
                    "items": items,
                    "count": len(causes),
                }
            )
    title_lines = _wrap(title, 8.6, 3)
    first = spine_y - (len(title_lines) - 1) * 11 + 6
    return {
        "width": 1000,
        "height": 440,
        "spine_y": spine_y,
        "spine_x0": 24,
        "spine_x1": 800,
        "head": "800,156 930,156 990,220 930,284 800,284",
        "head_x": 878,
        "title_lines": [{"text": line, "y": first + i * 22} for i, line in enumerate(title_lines)],
        "title": title,
        "bones": bones,
        "total": sum(b["count"] for b in bones),
    }
