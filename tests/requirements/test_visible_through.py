"""``visible_through``: rows that point at a requirement are visible exactly when that requirement is.

For a user who sees the whole pool it is a join condition, for a scoped user the subquery of
``visible_requirements``; both must select what ``field__in=visible_requirements(user)`` selects, for every
role, a deleted requirement, feedback of another team's customer and an anonymous visitor.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from needpool.requirements.models import Feedback, Requirement, RequirementMerge
from needpool.requirements.permissions import visible_requirements, visible_through
from needpool.requirements.services import feedback_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def spread(pool: dict[str, Any], users: dict[str, Any], customer_b: Any) -> dict[str, Any]:
    """Feedback on each pooled requirement, one from another team's customer, one on a deleted requirement."""
    made = {}
    for name in ("r1", "r2", "r3"):
        made[name] = feedback_create(
            actor=users["admin"], raw_text=f"{name} 的反馈", channel="sales", requirement=pool[name]
        )
    made["b"] = feedback_create(
        actor=users["admin"], raw_text="B 公司的反馈", channel="sales", customer=customer_b, requirement=pool["r2"]
    )
    made["loose"] = feedback_create(actor=users["admin"], raw_text="还没有归入需求的反馈", channel="sales")
    Requirement.objects.filter(pk=pool["r3"].pk).update(deleted_at=timezone.now())
    return made


def _via_subquery(user: Any) -> set[int]:
    return set(
        Feedback.objects.filter(requirement__in=visible_requirements(user).values("pk")).values_list("pk", flat=True)
    )


@pytest.mark.parametrize(
    "role", ["admin", "manager", "product_manager", "sales", "service", "engineer", "compliance", "viewer", "anonymous"]
)
def test_the_same_rows_as_the_subquery_for_every_role(spread: dict[str, Any], users: dict[str, Any], role: str) -> None:
    user = AnonymousUser() if role == "anonymous" else users.get(role)
    if user is None:
        pytest.skip(f"no {role} user in the fixture")
    found = set(Feedback.objects.filter(visible_through(user)).values_list("pk", flat=True))
    assert found == _via_subquery(user)
    assert spread["r3"].pk not in found  # a deleted requirement's feedback is never listed
    assert spread["loose"].pk not in found  # nor feedback that points at no requirement (a LEFT JOIN's NULLs)


def test_the_other_team_does_not_see_through_it(spread: dict[str, Any], other_sales: Any) -> None:
    found = set(Feedback.objects.filter(visible_through(other_sales)).values_list("pk", flat=True))
    assert found == _via_subquery(other_sales)
    assert spread["r1"].pk not in found


def test_a_pool_wide_reader_gets_a_join_not_a_subquery(users: dict[str, Any]) -> None:
    sql = str(Feedback.objects.filter(visible_through(users["manager"])).query)
    assert "SELECT" not in sql.split("WHERE", 1)[1]
    scoped = str(Feedback.objects.filter(visible_through(users["sales"])).query)
    assert "SELECT" in scoped.split("WHERE", 1)[1]


def test_another_field_name(pool: dict[str, Any], users: dict[str, Any]) -> None:
    merge = RequirementMerge.objects.create(survivor=pool["r1"], note="合并")
    assert RequirementMerge.objects.filter(visible_through(users["manager"], "survivor")).get() == merge
    Requirement.objects.filter(pk=pool["r1"].pk).update(deleted_at=timezone.now())
    assert not RequirementMerge.objects.filter(visible_through(users["manager"], "survivor")).exists()
