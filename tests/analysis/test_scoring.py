"""The priority models and the Kano evaluation as pure arithmetic: examples and properties."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from needpool.analysis import scoring
from needpool.analysis.scoring import PRIORITIES, ScoringError

PROPERTY = settings(max_examples=200, deadline=None)

one_to_five = st.integers(min_value=1, max_value=5) | st.floats(min_value=1, max_value=5, allow_nan=False)
weight = st.floats(min_value=0, max_value=1000, allow_nan=False, allow_infinity=False)
weights_3d = st.fixed_dictionaries({"importance": weight, "urgency": weight, "cost": weight}).filter(
    lambda w: sum(w.values()) > 1e-6
)


def rank(priority: str) -> int:
    """0 for P0 (most important) … 3 for P3."""
    return PRIORITIES.index(priority)


# ------------------------------------------------------------------ urgency × importance matrix


@pytest.mark.parametrize("cutoff", [1, 2, 3, 4, 5])
def test_matrix_quadrants_at_the_cutoff_boundary(cutoff):
    assert scoring.matrix(cutoff, cutoff, cutoff=cutoff).priority == "P0"
    assert scoring.matrix(5, 5, cutoff=cutoff).priority == "P0"
    if cutoff > 1:
        below = cutoff - 1
        assert scoring.matrix(below, cutoff, cutoff=cutoff).priority == "P1"  # important, not urgent
        assert scoring.matrix(cutoff, below, cutoff=cutoff).priority == "P2"  # urgent, not important
        assert scoring.matrix(below, below, cutoff=cutoff).priority == "P3"
        assert scoring.matrix(1, 1, cutoff=cutoff).priority == "P3"
    else:
        # With the cutoff at the bottom of the scale every score counts as high.
        assert {scoring.matrix(u, i, cutoff=1).priority for u in range(1, 6) for i in range(1, 6)} == {"P0"}


@PROPERTY
@given(urgency=one_to_five, importance=one_to_five, cutoff=st.integers(min_value=1, max_value=5))
def test_matrix_quadrant_rule(urgency, importance, cutoff):
    result = scoring.matrix(urgency, importance, cutoff=cutoff)
    expected = {(True, True): "P0", (False, True): "P1", (True, False): "P2", (False, False): "P3"}[
        (urgency >= cutoff, importance >= cutoff)
    ]
    assert result.priority == expected
    assert 0 <= result.score <= 100
    assert result.parts["urgent"] is (urgency >= cutoff)
    assert result.parts["important"] is (importance >= cutoff)


def test_matrix_score_spans_0_to_100():
    assert scoring.matrix(1, 1).score == 0
    assert scoring.matrix(5, 5).score == 100
    assert scoring.matrix(3, 4).score == pytest.approx((12 - 1) / 24 * 100, abs=0.01)


@PROPERTY
@given(u=one_to_five, i=one_to_five, du=st.floats(0, 4), di=st.floats(0, 4), cutoff=st.integers(1, 5))
def test_matrix_raising_urgency_or_importance_never_lowers(u, i, du, di, cutoff):
    base = scoring.matrix(u, i, cutoff=cutoff)
    higher = scoring.matrix(min(u + du, 5), min(i + di, 5), cutoff=cutoff)
    assert higher.score >= base.score
    assert rank(higher.priority) <= rank(base.priority)


# ------------------------------------------------------------------ importance × urgency × resource cost


def test_matrix_3d_examples():
    best = scoring.matrix_3d(5, 5, 1)
    assert (best.score, best.priority) == (100, "P0")
    worst = scoring.matrix_3d(1, 1, 5)
    assert (worst.score, worst.priority) == (0, "P3")
    middle = scoring.matrix_3d(3, 3, 3)
    assert (middle.score, middle.priority) == (50, "P1")
    # Default weights 0.4 / 0.4 / 0.2: importance alone is worth 40.
    only_importance = scoring.matrix_3d(5, 1, 5)
    assert only_importance.score == 40
    assert only_importance.parts == {"importance": 40, "urgency": 0, "cost": 0}
    assert only_importance.priority == "P2"
    # Custom weights replace the defaults.
    assert scoring.matrix_3d(5, 1, 5, weights={"importance": 1, "urgency": 0, "cost": 0}).score == 100


@PROPERTY
@given(i=one_to_five, u=one_to_five, c=one_to_five, weights=weights_3d)
def test_matrix_3d_score_in_range_and_parts_add_up(i, u, c, weights):
    result = scoring.matrix_3d(i, u, c, weights=weights)
    assert 0 <= result.score <= 100
    assert sum(result.parts.values()) == pytest.approx(result.score, abs=0.03)
    assert result.priority == scoring.priority_from_thresholds(result.score, (75, 50, 25))


@PROPERTY
@given(i=one_to_five, u=one_to_five, c=one_to_five, step=st.floats(0, 4), weights=weights_3d)
def test_matrix_3d_monotonic(i, u, c, step, weights):
    base = scoring.matrix_3d(i, u, c, weights=weights)
    more_important = scoring.matrix_3d(min(i + step, 5), u, c, weights=weights)
    more_urgent = scoring.matrix_3d(i, min(u + step, 5), c, weights=weights)
    costlier = scoring.matrix_3d(i, u, min(c + step, 5), weights=weights)
    assert more_important.score >= base.score and rank(more_important.priority) <= rank(base.priority)
    assert more_urgent.score >= base.score and rank(more_urgent.priority) <= rank(base.priority)
    assert costlier.score <= base.score and rank(costlier.priority) >= rank(base.priority)


@PROPERTY
@given(i=one_to_five, u=one_to_five, c=one_to_five, weights=weights_3d, factor=st.floats(0.01, 1000))
def test_matrix_3d_invariant_to_scaling_the_weights(i, u, c, weights, factor):
    scaled = {k: v * factor for k, v in weights.items()}
    assume(sum(scaled.values()) > 1e-6)
    assert scoring.matrix_3d(i, u, c, weights=scaled).score == pytest.approx(
        scoring.matrix_3d(i, u, c, weights=weights).score, abs=0.011
    )


@pytest.mark.parametrize(
    "weights", [{"importance": 0, "urgency": 0, "cost": 0}, {"importance": -1, "urgency": 1, "cost": 1}]
)
def test_matrix_3d_refuses_bad_weights(weights):
    with pytest.raises(ScoringError) as info:
        scoring.matrix_3d(3, 3, 3, weights=weights)
    assert info.value.field == "weights"


# ------------------------------------------------------------------ weighted scoring


CRITERIA = {"customer_value": 30, "strategic_fit": 25, "revenue": 25, "risk": 20}


def test_weighted_example():
    result = scoring.weighted({"customer_value": 10, "strategic_fit": 5, "revenue": 0, "risk": 10}, CRITERIA)
    assert result.parts == {"customer_value": 30, "strategic_fit": 12.5, "revenue": 0, "risk": 20}
    assert result.score == 62.5
    assert result.priority == "P1"


criteria_weights = st.dictionaries(
    st.sampled_from(["a", "b", "c", "d", "e", "f"]), weight, min_size=1, max_size=6
).filter(lambda w: sum(w.values()) > 1e-6)


@PROPERTY
@given(weights=criteria_weights)
def test_weighted_is_100_at_the_top_and_0_at_the_bottom(weights):
    assert scoring.weighted(dict.fromkeys(weights, 10), weights).score == 100
    assert scoring.weighted(dict.fromkeys(weights, 10), weights).priority == "P0"
    assert scoring.weighted(dict.fromkeys(weights, 0), weights).score == 0
    assert scoring.weighted(dict.fromkeys(weights, 0), weights).priority == "P3"


@PROPERTY
@given(data=st.data(), weights=criteria_weights, factor=st.floats(0.01, 1000))
def test_weighted_in_range_and_invariant_to_scaling_the_weights(data, weights, factor):
    scores = {k: data.draw(st.floats(0, 10), label=k) for k in weights}
    result = scoring.weighted(scores, weights)
    assert 0 <= result.score <= 100
    scaled = {k: v * factor for k, v in weights.items()}
    assume(sum(scaled.values()) > 1e-6)
    assert scoring.weighted(scores, scaled).score == pytest.approx(result.score, abs=0.011)


@PROPERTY
@given(data=st.data(), weights=criteria_weights)
def test_weighted_raising_one_criterion_never_lowers(data, weights):
    scores = {k: data.draw(st.floats(0, 10), label=k) for k in weights}
    key = data.draw(st.sampled_from(sorted(weights)), label="raised")
    raised = {**scores, key: data.draw(st.floats(scores[key], 10), label="to")}
    assert scoring.weighted(raised, weights).score >= scoring.weighted(scores, weights).score


def test_weighted_refuses_bad_input():
    with pytest.raises(ScoringError) as info:
        scoring.weighted({"a": 5}, {"a": 0, "b": 0})
    assert info.value.field == "weights"
    with pytest.raises(ScoringError) as info:
        scoring.weighted({"a": 5}, {"a": -1, "b": 2})
    assert info.value.field == "weights"
    with pytest.raises(ScoringError) as info:
        scoring.weighted({}, {})
    assert info.value.field == "weights"
    with pytest.raises(ScoringError) as info:
        scoring.weighted({"a": 5}, {"a": 1, "b": 1})
    assert info.value.field == "b"
    with pytest.raises(ScoringError) as info:
        scoring.weighted({"a": 11, "b": 1}, {"a": 1, "b": 1})
    assert info.value.field == "a"
    assert "0 到 10" in info.value.message


# ------------------------------------------------------------------ RICE, value / cost, MoSCoW


def test_rice_formula():
    result = scoring.rice(1000, 2, 80, 4)
    assert result.score == 1000 * 2 * 0.8 / 4 == 400
    assert result.priority == "P0"
    assert result.parts == {"reach": 1000, "impact": 2, "confidence": 80, "effort": 4}
    assert scoring.rice(100, 1, 50, 2).score == 25
    assert scoring.rice(100, 1, 50, 2).priority == "P2"
    assert scoring.rice(0, 3, 100, 1).priority == "P3"


rice_reach = st.integers(0, 10**6)
rice_impact = st.sampled_from(scoring.RICE_IMPACTS)
rice_confidence = st.integers(0, 100)
rice_effort = st.floats(0.01, 1000)


@PROPERTY
@given(r=rice_reach, i=rice_impact, c=rice_confidence, e=rice_effort, data=st.data())
def test_rice_monotonic(r, i, c, e, data):
    base = scoring.rice(r, i, c, e)
    assert base.score == pytest.approx(r * i * c / 100 / e, abs=1e-4, rel=1e-9)
    more_reach = scoring.rice(data.draw(st.integers(r, 10**6)), i, c, e)
    more_impact = scoring.rice(r, data.draw(st.sampled_from([x for x in scoring.RICE_IMPACTS if x >= i])), c, e)
    more_confidence = scoring.rice(r, i, data.draw(st.integers(c, 100)), e)
    more_effort = scoring.rice(r, i, c, data.draw(st.floats(e, 1000)))
    for higher in (more_reach, more_impact, more_confidence):
        assert higher.score >= base.score
        assert rank(higher.priority) <= rank(base.priority)
    assert more_effort.score <= base.score
    assert rank(more_effort.priority) >= rank(base.priority)


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ((-1, 1, 50, 1), "reach"),
        ((10, 0.1, 50, 1), "impact"),
        ((10, 4, 50, 1), "impact"),
        ((10, 1, 101, 1), "confidence"),
        ((10, 1, 50, 0), "effort"),
        ((10, 1, 50, None), "effort"),
        ((None, 1, 50, 1), "reach"),
    ],
)
def test_rice_refuses_bad_input(args, field):
    with pytest.raises(ScoringError) as info:
        scoring.rice(*args)
    assert info.value.field == field


@pytest.mark.parametrize(
    ("value", "cost", "ratio", "priority"),
    [(4, 2, 2, "P0"), (5, 1, 5, "P0"), (3, 3, 1, "P1"), (3, 2, 1.5, "P1"), (2, 4, 0.5, "P2"), (1, 5, 0.2, "P3")],
)
def test_value_cost(value, cost, ratio, priority):
    result = scoring.value_cost(value, cost)
    assert (result.score, result.priority) == (ratio, priority)
    assert result.parts == {"value": value, "cost": cost}


@PROPERTY
@given(v=one_to_five, c=one_to_five, dv=st.floats(0, 4), dc=st.floats(0, 4))
def test_value_cost_monotonic(v, c, dv, dc):
    base = scoring.value_cost(v, c)
    assert rank(scoring.value_cost(min(v + dv, 5), c).priority) <= rank(base.priority)
    assert rank(scoring.value_cost(v, min(c + dc, 5)).priority) >= rank(base.priority)


@pytest.mark.parametrize(("field", "args"), [("value", (0, 3)), ("cost", (3, 0)), ("cost", (3, "贵"))])
def test_value_cost_refuses_bad_input(field, args):
    with pytest.raises(ScoringError) as info:
        scoring.value_cost(*args)
    assert info.value.field == field


@pytest.mark.parametrize(
    ("category", "priority", "score"), [("must", "P0", 4), ("should", "P1", 3), ("could", "P2", 2), ("wont", "P3", 1)]
)
def test_moscow_mapping(category, priority, score):
    result = scoring.moscow(category)
    assert (result.priority, result.score, result.parts) == (priority, score, {"moscow": category})


@pytest.mark.parametrize("category", [None, "", "maybe", "MUST"])
def test_moscow_refuses_unknown(category):
    with pytest.raises(ScoringError) as info:
        scoring.moscow(category)
    assert info.value.field == "moscow"


# ------------------------------------------------------------------ thresholds


@pytest.mark.parametrize(
    ("score", "priority"),
    [
        (100, "P0"),
        (75, "P0"),
        (74.99, "P1"),
        (50, "P1"),
        (49.99, "P2"),
        (25, "P2"),
        (24.99, "P3"),
        (0, "P3"),
        (-5, "P3"),
    ],
)
def test_priority_from_thresholds_boundaries(score, priority):
    assert scoring.priority_from_thresholds(score, (75, 50, 25)) == priority


@PROPERTY
@given(
    bounds=st.lists(st.floats(-1000, 1000), min_size=3, max_size=3).map(lambda b: tuple(sorted(b, reverse=True))),
    a=st.floats(-2000, 2000),
    b=st.floats(-2000, 2000),
)
def test_priority_from_thresholds_is_monotonic(bounds, a, b):
    low, high = sorted((a, b))
    assert rank(scoring.priority_from_thresholds(high, bounds)) <= rank(scoring.priority_from_thresholds(low, bounds))


# ------------------------------------------------------------------ Kano

ANSWERS = ("like", "must_be", "neutral", "live_with", "dislike")
# The standard Kano evaluation table, written out: rows functional, columns dysfunctional.
KANO_TABLE = {
    ("like", "like"): "Q",
    ("like", "must_be"): "A",
    ("like", "neutral"): "A",
    ("like", "live_with"): "A",
    ("like", "dislike"): "O",
    ("must_be", "like"): "R",
    ("must_be", "must_be"): "I",
    ("must_be", "neutral"): "I",
    ("must_be", "live_with"): "I",
    ("must_be", "dislike"): "M",
    ("neutral", "like"): "R",
    ("neutral", "must_be"): "I",
    ("neutral", "neutral"): "I",
    ("neutral", "live_with"): "I",
    ("neutral", "dislike"): "M",
    ("live_with", "like"): "R",
    ("live_with", "must_be"): "I",
    ("live_with", "neutral"): "I",
    ("live_with", "live_with"): "I",
    ("live_with", "dislike"): "M",
    ("dislike", "like"): "R",
    ("dislike", "must_be"): "R",
    ("dislike", "neutral"): "R",
    ("dislike", "live_with"): "R",
    ("dislike", "dislike"): "Q",
}


def test_kano_table_covers_all_25_pairs():
    assert len(KANO_TABLE) == 25
    assert set(KANO_TABLE) == {(f, d) for f in ANSWERS for d in ANSWERS}
    assert set(scoring.KANO_ANSWERS) == set(ANSWERS)


@pytest.mark.parametrize(("functional", "dysfunctional"), sorted(KANO_TABLE))
def test_kano_classify(functional, dysfunctional):
    assert scoring.kano_classify(functional, dysfunctional) == KANO_TABLE[(functional, dysfunctional)]


@pytest.mark.parametrize(
    ("functional", "dysfunctional", "field"),
    [
        (None, "like", "functional"),
        ("", "like", "functional"),
        ("love", "like", "functional"),
        ("like", None, "dysfunctional"),
        ("like", "", "dysfunctional"),
        (None, None, "functional"),
    ],
)
def test_kano_classify_refuses_missing_answers(functional, dysfunctional, field):
    with pytest.raises(ScoringError) as info:
        scoring.kano_classify(functional, dysfunctional)
    assert info.value.field == field
    assert info.value.message


def test_kano_summary_majority_distribution_better_worse():
    summary = scoring.kano_summary(["A"] * 3 + ["O"] * 2 + ["M"] + ["I"] * 4 + ["R", "Q"])
    assert summary.category == "I"
    assert summary.distribution == {"A": 3, "O": 2, "M": 1, "I": 4, "R": 1, "Q": 1}
    assert summary.total == 12
    assert summary.better == 0.5  # (3 + 2) / 10
    assert summary.worse == -0.3  # -(2 + 1) / 10


@pytest.mark.parametrize(
    ("categories", "winner"),
    [
        (["A", "M"], "M"),
        (["A", "O"], "O"),
        (["O", "M"], "M"),
        (["A", "I"], "A"),
        (["I", "R"], "I"),
        (["R", "Q"], "R"),
        (["Q", "A", "A", "O", "O"], "O"),
        (["A", "O", "M", "I", "R", "Q"], "M"),
    ],
)
def test_kano_summary_tie_break(categories, winner):
    assert scoring.kano_summary(categories).category == winner


def test_kano_summary_empty_and_without_a_base():
    empty = scoring.kano_summary([])
    assert (empty.category, empty.total, empty.better, empty.worse) == (None, 0, None, None)
    assert set(empty.distribution.values()) == {0}
    odd = scoring.kano_summary(["R", "Q", "Q"])
    assert (odd.category, odd.better, odd.worse) == ("Q", None, None)


@PROPERTY
@given(st.lists(st.sampled_from(scoring.KANO_CATEGORIES), max_size=60))
def test_kano_summary_properties(categories):
    summary = scoring.kano_summary(categories)
    assert summary.total == len(categories) == sum(summary.distribution.values())
    if categories:
        assert summary.distribution[summary.category] == max(summary.distribution.values())
    if summary.better is not None:
        assert 0 <= summary.better <= 1
        assert -1 <= summary.worse <= 0


# ------------------------------------------------------------------ demand


def test_demand_weights_tier_by_importance():
    result = scoring.demand([("high", 3), ("medium", 2), ("low", 1), ("low", 0)])
    assert result.score == 3 * 3 + 2 * 2 + 1 * 1 + 0
    assert result.priority == "P1"
    assert result.parts == {"high": 1, "medium": 1, "low": 2}
    assert scoring.demand([]).score == 0
    assert scoring.demand([("high", 3)] * 5).priority == "P0"


def test_demand_refuses_importance_out_of_range():
    with pytest.raises(ScoringError) as info:
        scoring.demand([("high", 4)])
    assert info.value.field == "importance"


# ------------------------------------------------------------------ bad input names its field


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: scoring.matrix(None, 3), "urgency"),
        (lambda: scoring.matrix(3, 6), "importance"),
        (lambda: scoring.matrix(3, 0), "importance"),
        (lambda: scoring.matrix("急", 3), "urgency"),
        (lambda: scoring.matrix(True, 3), "urgency"),
        (lambda: scoring.matrix(3, 3, cutoff=0), "cutoff"),
        (lambda: scoring.matrix(float("nan"), 3), "urgency"),
        (lambda: scoring.matrix_3d(6, 3, 3), "importance"),
        (lambda: scoring.matrix_3d(3, None, 3), "urgency"),
        (lambda: scoring.matrix_3d(3, 3, 0), "resource_cost"),
    ],
)
def test_bad_input_names_its_field(call, field):
    with pytest.raises(ScoringError) as info:
        call()
    assert info.value.field == field
    assert str(info.value) == info.value.message
