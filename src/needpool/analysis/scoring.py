"""Priority models and the Kano evaluation as pure functions (no database).

Every model returns a ``Scored``: a number on its own scale, a priority P0–P3 and the parts that
explain it ("why is this P0?"). Services store the result; pages and the API show the parts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

PRIORITIES = ("P0", "P1", "P2", "P3")
SCORE_RANGE = (1, 5)


class ScoringError(ValueError):
    """Input a model cannot score; ``field`` names the offending input."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Scored:
    model: str
    score: float
    priority: str
    parts: dict[str, Any] = field(default_factory=dict)


def _check_range(name: str, value: Any, low: float, high: float) -> float:
    if value is None or isinstance(value, bool):
        raise ScoringError(name, _("必填。"))
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise ScoringError(name, _("必须是数字。")) from exc
    if not low <= number <= high:
        raise ScoringError(name, _("必须在 %(low)s 到 %(high)s 之间。") % {"low": f"{low:g}", "high": f"{high:g}"})
    return number


def priority_from_thresholds(score: float, thresholds: tuple[float, float, float]) -> str:
    """P0 when score ≥ thresholds[0], P1 ≥ thresholds[1], P2 ≥ thresholds[2], else P3."""
    for priority, bound in zip(PRIORITIES, thresholds, strict=False):
        if score >= bound:
            return priority
    return "P3"


# ------------------------------------------------------------------ urgency × importance


def matrix(urgency: Any, importance: Any, *, cutoff: float = 3) -> Scored:
    """The 2×2 matrix: high importance and urgency → P0, important only → P1, urgent only → P2, else P3.

    A score counts as high when it is ≥ ``cutoff`` (a setting, default 3 on the 1–5 scale).
    """
    u = _check_range("urgency", urgency, *SCORE_RANGE)
    i = _check_range("importance", importance, *SCORE_RANGE)
    _check_range("cutoff", cutoff, *SCORE_RANGE)
    urgent, important = u >= cutoff, i >= cutoff
    priority = {(True, True): "P0", (False, True): "P1", (True, False): "P2", (False, False): "P3"}[(urgent, important)]
    score = round((u * i - 1) / 24 * 100, 2)
    return Scored(
        "matrix",
        score,
        priority,
        {"urgency": u, "importance": i, "cutoff": cutoff, "urgent": urgent, "important": important},
    )


def matrix_3d(
    importance: Any,
    urgency: Any,
    resource_cost: Any,
    *,
    weights: Mapping[str, float] | None = None,
    thresholds: tuple[float, float, float] = (75, 50, 25),
) -> Scored:
    """Importance × urgency × resource cost: high importance and urgency raise, high cost lowers (0–100)."""
    w = {"importance": 0.4, "urgency": 0.4, "cost": 0.2, **(weights or {})}
    total = sum(w.values())
    if total <= 0 or any(v < 0 for v in w.values()):
        raise ScoringError("weights", _("权重不能为负，且总和必须大于 0。"))
    i = _check_range("importance", importance, *SCORE_RANGE)
    u = _check_range("urgency", urgency, *SCORE_RANGE)
    c = _check_range("resource_cost", resource_cost, *SCORE_RANGE)
    # Each axis to 0–1; cost counts inverted (cheap is good).
    axes = {"importance": (i - 1) / 4, "urgency": (u - 1) / 4, "cost": (5 - c) / 4}
    score = round(sum(axes[k] * w[k] for k in axes) / total * 100, 2)
    parts = {k: round(axes[k] * w[k] / total * 100, 2) for k in axes}
    return Scored("matrix_3d", score, priority_from_thresholds(score, thresholds), parts)


def value_cost(value: Any, cost: Any, *, thresholds: tuple[float, float, float] = (2, 1, 0.5)) -> Scored:
    """Value ÷ cost (both 1–5): the return on the effort."""
    v = _check_range("value", value, *SCORE_RANGE)
    c = _check_range("cost", cost, *SCORE_RANGE)
    ratio = round(v / c, 4)
    return Scored("value_cost", ratio, priority_from_thresholds(ratio, thresholds), {"value": v, "cost": c})


def weighted(
    scores: Mapping[str, Any],
    weights: Mapping[str, float],
    *,
    scale: tuple[float, float] = (0, 10),
    thresholds: tuple[float, float, float] = (75, 50, 25),
) -> Scored:
    """Weighted scoring over configured criteria, normalised to 0–100."""
    if not weights:
        raise ScoringError("weights", _("至少需要一个评分维度。"))
    if any(float(w) < 0 for w in weights.values()):
        raise ScoringError("weights", _("权重不能为负。"))
    total = sum(float(w) for w in weights.values())
    if total <= 0:
        raise ScoringError("weights", _("权重总和必须大于 0。"))
    low, high = scale
    raw: dict[str, float] = {}
    for key, weight in weights.items():
        value = _check_range(key, scores.get(key), low, high)
        raw[key] = (value - low) / (high - low) * float(weight) / total * 100
    # The total comes from the unrounded parts, so equal thirds of a full score make 100, not 99.99.
    parts = {key: round(part, 2) for key, part in raw.items()}
    score = round(sum(raw.values()), 2)
    return Scored("weighted", score, priority_from_thresholds(score, thresholds), parts)


RICE_IMPACTS = (0.25, 0.5, 1, 2, 3)


def rice(
    reach: Any, impact: Any, confidence: Any, effort: Any, *, thresholds: tuple[float, float, float] = (100, 30, 10)
) -> Scored:
    """RICE = reach × impact × confidence ÷ effort (confidence in percent, effort in person-months)."""
    r = _check_range("reach", reach, 0, 10**9)
    i = _check_range("impact", impact, 0.25, 3)
    c = _check_range("confidence", confidence, 0, 100)
    e = _check_range("effort", effort, 0.01, 10**6)
    score = round(r * i * (c / 100) / e, 4)
    return Scored(
        "rice",
        score,
        priority_from_thresholds(score, thresholds),
        {"reach": r, "impact": i, "confidence": c, "effort": e},
    )


MOSCOW = {"must": "P0", "should": "P1", "could": "P2", "wont": "P3"}


def moscow(category: Any) -> Scored:
    if category not in MOSCOW:
        raise ScoringError("moscow", _("MoSCoW 分类必须是 must、should、could 或 wont。"))
    order = list(MOSCOW)
    return Scored("moscow", float(len(order) - order.index(category)), MOSCOW[category], {"moscow": category})


# ------------------------------------------------------------------ Kano

KANO_ANSWERS = ("like", "must_be", "neutral", "live_with", "dislike")
# The standard Kano evaluation table: rows = functional answer, columns = dysfunctional answer.
# A attractive, O one-dimensional, M must-be, I indifferent, R reverse, Q questionable.
_KANO_TABLE = {
    "like": ("Q", "A", "A", "A", "O"),
    "must_be": ("R", "I", "I", "I", "M"),
    "neutral": ("R", "I", "I", "I", "M"),
    "live_with": ("R", "I", "I", "I", "M"),
    "dislike": ("R", "R", "R", "R", "Q"),
}
KANO_CATEGORIES = ("A", "O", "M", "I", "R", "Q")
# When two categories tie, the one that matters more for the product wins (M > O > A > I > R > Q).
_KANO_TIE_ORDER = ("M", "O", "A", "I", "R", "Q")


def kano_classify(functional: Any, dysfunctional: Any) -> str:
    if functional not in KANO_ANSWERS:
        raise ScoringError("functional", _("缺少正向问题的回答，或回答无效。"))
    if dysfunctional not in KANO_ANSWERS:
        raise ScoringError("dysfunctional", _("缺少反向问题的回答，或回答无效。"))
    return _KANO_TABLE[functional][KANO_ANSWERS.index(dysfunctional)]


@dataclass(frozen=True)
class KanoSummary:
    category: str | None
    distribution: dict[str, int]
    total: int
    better: float | None
    worse: float | None


def kano_summary(categories: Iterable[str]) -> KanoSummary:
    """Majority category, the distribution, and the better / worse coefficients.

    better = (A + O) / (A + O + M + I); worse = −(O + M) / (A + O + M + I).
    """
    counts = Counter(categories)
    distribution = {c: counts.get(c, 0) for c in KANO_CATEGORIES}
    total = sum(distribution.values())
    if total == 0:
        return KanoSummary(None, distribution, 0, None, None)
    best = max(distribution.values())
    category = next(c for c in _KANO_TIE_ORDER if distribution[c] == best)
    a, o, m, i = (distribution[c] for c in ("A", "O", "M", "I"))
    base = a + o + m + i
    better = round((a + o) / base, 4) if base else None
    worse = round(-(o + m) / base, 4) if base else None
    return KanoSummary(category, distribution, total, better, worse)


# ------------------------------------------------------------------ demand

TIER_WEIGHTS = {"high": 3, "medium": 2, "low": 1}


def demand(votes: Iterable[tuple[str, int]]) -> Scored:
    """One vote per customer: (value tier, importance 0–3) → Σ tier weight × importance."""
    total = Decimal(0)
    parts: dict[str, int] = {}
    for tier, importance in votes:
        _check_range("importance", importance, 0, 3)
        weight = TIER_WEIGHTS.get(tier, 1) * int(importance)
        total += weight
        parts[tier] = parts.get(tier, 0) + 1
    return Scored("demand", float(total), priority_from_thresholds(float(total), (15, 8, 3)), parts)
