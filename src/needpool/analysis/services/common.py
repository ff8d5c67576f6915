"""Helpers every analysis write shares: whole-number parsing and the locked analysis row."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from needpool.analysis.models import RequirementAnalysis
from needpool.requirements.models import Requirement


def whole_number(value: Any) -> int:
    """An integer from an int or a numeric string; 2.5, True, NaN and infinity are refused (ValueError)."""
    if isinstance(value, bool):
        raise ValueError(value)
    number = Decimal(str(value).strip())
    if not number.is_finite() or number != number.to_integral_value():
        raise ValueError(value)
    return int(number)


def locked_analysis(requirement: Requirement) -> RequirementAnalysis:
    analysis, _created = RequirementAnalysis.objects.select_for_update().get_or_create(requirement=requirement)
    return analysis
