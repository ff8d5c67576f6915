"""需求优先级评估表: scores go through the analysis services (permission, ranges, recomputed priority)."""

from __future__ import annotations

import pytest

from needpool.analysis.models import RequirementAnalysis
from needpool.requirements.models import Requirement
from tests.intake.transfer.conftest import PRIORITY_HEADERS, errors_of

pytestmark = pytest.mark.django_db


def test_scores_are_written_and_the_priority_computed(users, requirement, sheet, run_sheet):
    path = sheet([PRIORITY_HEADERS, [requirement.code, requirement.description, 5, 4.0]])
    result = run_sheet(users["product_manager"], path)
    assert result.error_total == 0, result.errors
    assert result.rows[0]["changes"] == ["紧急程度(1-5分,5最急)", "重要性(1-5分,5最重要)"]
    analysis = RequirementAnalysis.objects.get(requirement=requirement)
    assert (analysis.urgency_score, analysis.importance_score) == (5, 4)
    requirement.refresh_from_db()
    assert requirement.priority == "P0"  # urgent and important on the default matrix
    again = run_sheet(users["product_manager"], sheet([PRIORITY_HEADERS, [requirement.code, "", 5, 4]]))
    assert again.counts["unchanged"] == 1


def test_out_of_range_scores_and_missing_permission(users, requirement, sheet, run_sheet):
    path = sheet([PRIORITY_HEADERS, [requirement.code, "", 6, 2.5]])
    result = run_sheet(users["product_manager"], path)
    assert errors_of(result) == [(2, "紧急程度(1-5分,5最急)", "6"), (2, "重要性(1-5分,5最重要)", "2.5")]
    assert not RequirementAnalysis.objects.exists()
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied, match="需求优先级评估表"):
        run_sheet(users["sales"], sheet([PRIORITY_HEADERS, [requirement.code, "", 3, 3]]))


def test_changed_priority_is_an_override_that_needs_a_reason(users, requirement, sheet, run_sheet):
    headers = [*PRIORITY_HEADERS, "优先级", "调整理由"]
    run_sheet(users["product_manager"], sheet([headers, [requirement.code, "", 2, 2, "", ""]]))
    requirement.refresh_from_db()
    assert requirement.priority == "P3"
    refused = run_sheet(users["product_manager"], sheet([headers, [requirement.code, "", 2, 2, "P1", ""]]))
    assert errors_of(refused) == [(2, "调整理由", "")]
    assert "理由" in refused.errors[0]["message"]
    done = run_sheet(users["product_manager"], sheet([headers, [requirement.code, "", 2, 2, "P1", "大客户续约"]]))
    assert done.error_total == 0, done.errors
    analysis = RequirementAnalysis.objects.get(requirement=requirement)
    assert (analysis.computed_priority, analysis.override_priority, analysis.override_reason) == (
        "P3",
        "P1",
        "大客户续约",
    )
    # New scores with the old priority still in the sheet: the computed priority moves, no override is asked for.
    scores = {"urgency_score": "overwrite", "importance_score": "overwrite"}  # the scores are filled already
    moved = run_sheet(
        users["product_manager"],
        sheet([headers, [requirement.code, "", 5, 5, "P1", "大客户续约"]]),
        update_policy=scores,
    )
    assert moved.error_total == 0, moved.errors
    analysis.refresh_from_db()
    assert analysis.computed_priority == "P0" and analysis.override_priority == "P1"


def test_new_codes_create_requirements_from_the_description(users, sheet, run_sheet):
    path = sheet([PRIORITY_HEADERS, ["DEM-NEW-1", "供应商配送履约管理", 4, 5], ["", "", 3, 3]])
    result = run_sheet(users["product_manager"], path)
    assert errors_of(result) == [(3, "需求描述", "")]
    ok = run_sheet(users["product_manager"], sheet([PRIORITY_HEADERS, ["DEM-NEW-1", "供应商配送履约管理", 4, 5]]))
    assert ok.counts["create"] == 1
    created = Requirement.objects.get(code="DEM-NEW-1")
    assert created.analysis.importance_score == 5
