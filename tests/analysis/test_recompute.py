"""The recompute job against the Python scoring: the same score, priority, parts and error for every model."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db.models import F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from needpool.analysis import scoring
from needpool.analysis.models import AnalysisSettings, RequirementAnalysis
from needpool.analysis.services import analysis_settings, analysis_update, priorities_recompute
from needpool.analysis.services.priority import score
from needpool.core.models import AuditEntry, BackgroundJob
from needpool.requirements.models import Requirement
from tests.analysis.helpers import make_requirement

PRIORITIES = ["", "P0", "P1", "P2", "P3"]
MODELS = ["matrix", "matrix_3d", "value_cost", "weighted", "rice", "moscow"]
scale = st.none() | st.integers(1, 5)  # urgency and importance: the table holds 1–5 only
small = st.none() | st.integers(0, 7)  # the other 1–5 columns, with out-of-range values
weight = st.sampled_from([0, 0.5, 1, 2, 3.3, 40, -1])

row_inputs = st.fixed_dictionaries(
    {
        "urgency_score": scale,
        "importance_score": scale,
        "resource_cost": small,
        "value_score": small,
        "cost_score": small,
        "moscow": st.sampled_from(["", "must", "should", "could", "wont", "maybe"]),
        "criteria_scores": st.dictionaries(
            st.sampled_from(["a", "b", "c"]), st.floats(-1, 11, allow_nan=False, allow_infinity=False)
        ),
        "reach": st.none() | st.integers(0, 10**9),
        "impact": st.none() | st.sampled_from([Decimal(v) for v in ("0.25", "0.5", "1", "1.5", "2", "3", "4")]),
        "confidence": st.none() | st.integers(0, 120),
        "effort": st.none() | st.decimals(min_value=0, max_value=Decimal("999999.99"), places=2),
    }
)
row_state = st.fixed_dictionaries(
    {
        "inputs": row_inputs,
        "computed_priority": st.sampled_from(PRIORITIES),
        "override_priority": st.sampled_from(PRIORITIES),
        "requirement_priority": st.sampled_from(PRIORITIES),
    }
)
thresholds = st.lists(st.floats(-5, 200, allow_nan=False), min_size=3, max_size=3).map(
    lambda t: sorted(t, reverse=True)
)
configs = st.fixed_dictionaries(
    {
        "active_model": st.sampled_from(MODELS),
        "matrix_cutoff": st.integers(1, 5),
        "weights_3d": st.dictionaries(st.sampled_from(["importance", "urgency", "cost"]), weight),
        "criteria": st.lists(
            st.fixed_dictionaries({"key": st.sampled_from(["a", "b", "c"]), "weight": weight}),
            max_size=3,
            unique_by=lambda c: c["key"],
        ),
        "thresholds": st.dictionaries(st.sampled_from(["matrix_3d", "value_cost", "weighted", "rice"]), thresholds),
    }
)


@pytest.fixture
def pool(users, customer):
    made = [make_requirement(users["sales"], f"需求 {n}", customer) for n in range(7)]
    return [RequirementAnalysis.objects.get_or_create(requirement=r)[0].pk for r in made]


def reference(analysis: RequirementAnalysis, config: AnalysisSettings) -> dict[str, Any]:
    """The Python scoring of one row, as a single edit stores it."""
    try:
        result = score(analysis, config)
    except scoring.ScoringError as exc:
        return {
            "computed_model": config.active_model,
            "computed_score": None,
            "computed_priority": "",
            "computed_parts": {},
            "computed_error": f"{exc.field}: {exc.message}"[:200],
        }
    return {
        "computed_model": result.model,
        "computed_score": result.score,
        "computed_priority": result.priority,
        "computed_parts": result.parts,
        "computed_error": "",
    }


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(config=configs, rows=st.lists(row_state, min_size=7, max_size=7), batch=st.integers(1, 8))
def test_recompute_equals_the_python_scoring_for_every_model(pool, config, rows, batch):
    for pk, row in zip(pool, rows, strict=True):
        override = row["override_priority"]
        RequirementAnalysis.objects.filter(pk=pk).update(
            **row["inputs"],
            computed_priority=row["computed_priority"],
            override_priority=override,
            override_reason="人工" if override else "",
            computed_version=0,
        )
        Requirement.objects.filter(analysis__pk=pk).update(priority=row["requirement_priority"])
    AnalysisSettings.objects.filter(pk=analysis_settings().pk).update(**config, version=F("version") + 1)
    settings_now = analysis_settings()
    before = {a.pk: a for a in RequirementAnalysis.objects.filter(pk__in=pool)}
    audits = AuditEntry.objects.count()

    assert priorities_recompute(version=settings_now.version, batch_size=batch) == len(pool)

    changed = 0
    for pk, row in zip(pool, rows, strict=True):
        stored = RequirementAnalysis.objects.get(pk=pk)
        expected = reference(before[pk], settings_now)
        assert {name: getattr(stored, name) for name in expected} == expected
        assert stored.computed_version == settings_now.version
        # The requirement follows the effective priority; a hand-entered one stays while neither has one.
        effective = stored.override_priority or expected["computed_priority"]
        previous = row["override_priority"] or row["computed_priority"]
        wanted = effective if effective or previous else row["requirement_priority"]
        assert Requirement.objects.get(analysis__pk=pk).priority == wanted
        changed += wanted != row["requirement_priority"]
    assert AuditEntry.objects.count() - audits == changed  # one audit row per requirement that changed


@pytest.mark.parametrize("model", MODELS)
def test_a_batch_takes_a_bounded_number_of_queries(users, customer, model, django_assert_max_num_queries):
    pm = users["product_manager"]
    made = [make_requirement(users["sales"], f"需求 {n}", customer) for n in range(12)]
    for n, requirement in enumerate(made):
        analysis_update(actor=pm, requirement=requirement, urgency_score=n % 5 + 1, importance_score=(n * 3) % 5 + 1)
    AnalysisSettings.objects.filter(pk=analysis_settings().pk).update(active_model=model, version=F("version") + 1)
    version = analysis_settings().version
    first = priorities_recompute(version=version, batch_size=20)  # priorities change: audit and notices
    assert first == 12
    AnalysisSettings.objects.filter(pk=1).update(version=F("version") + 1)
    job = BackgroundJob.objects.create(kind="priority_recompute", total=12, params={"version": version + 1})
    # Settings, then per batch: its end, the scoring, the write, the progress and the savepoint pair;
    # nothing per row. Three batches: the last finds nothing left.
    with django_assert_max_num_queries(1 + 6 * 3):
        assert priorities_recompute(version=version + 1, job=job, batch_size=6) == 12
    job.refresh_from_db()
    assert job.done == 12


def test_batches_skip_gaps_in_the_primary_keys(users, customer):
    made = [make_requirement(users["sales"], f"需求 {n}", customer) for n in range(6)]
    rows = [RequirementAnalysis.objects.get_or_create(requirement=r)[0] for r in made]
    RequirementAnalysis.objects.filter(pk__in=[a.pk for a in rows[1:5]]).delete()
    RequirementAnalysis.objects.filter(pk__in=[rows[0].pk, rows[5].pk]).update(urgency_score=5, importance_score=5)
    AnalysisSettings.objects.filter(pk=analysis_settings().pk).update(version=F("version") + 1)
    version = analysis_settings().version
    assert priorities_recompute(version=version, batch_size=2) == 2
    assert set(RequirementAnalysis.objects.values_list("computed_version", "computed_priority")) == {(version, "P0")}
    assert [Requirement.objects.get(pk=r.pk).priority for r in (made[0], made[5])] == ["P0", "P0"]
