"""Fixtures for the analysis desk page tests: requirements with scores, and the page-test helpers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from needpool.accounts.models import User
from needpool.analysis.services import analysis_update
from needpool.requirements.models import Requirement
from tests import conftest as pages_conftest

# The page tests' fixtures, shared here: a sales user of another team and a requirement factory.
outsider = pages_conftest.outsider
make_requirements = pages_conftest.make_requirements


def html(response: Any) -> str:
    return response.content.decode()


@pytest.fixture
def score(users: dict[str, User]) -> Callable[..., Any]:
    """Give a requirement scoring inputs (as the product manager) and return its analysis."""

    def give(requirement: Requirement, **inputs: Any) -> Any:
        return analysis_update(actor=users["product_manager"], requirement=requirement, **inputs)

    return give


@pytest.fixture
def scored(make_requirements: Callable[..., list[Requirement]], score: Callable[..., Any]) -> Callable[..., list[Any]]:
    """``n`` requirements with urgency / importance / value / cost spread over the 1–5 scale."""

    def make(n: int, **extra: Any) -> list[Requirement]:
        made = make_requirements(n, **extra)
        for i, requirement in enumerate(made):
            score(
                requirement,
                urgency_score=i % 5 + 1,
                importance_score=(i * 2) % 5 + 1,
                value_score=(i * 3) % 5 + 1,
                cost_score=i % 4 + 1,
            )
        return made

    return make
