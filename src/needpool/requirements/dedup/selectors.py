"""The permission-scoped check of the index's best candidates: what a user may see, unmerged, with status.

``hidden_rows`` is the one exception: the code, title and status — nothing else — of strong matches the
user may not see (``index.similar_requirements(with_hidden=True)``), so a duplicate is visible to the
person about to create it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from needpool.requirements.models import Requirement
from needpool.requirements.permissions import visible_requirements


@dataclass(frozen=True)
class Candidate:
    """One similar requirement: what the API returns and the pages show."""

    id: int
    code: str
    title: str
    score: float
    status: str = ""
    is_open: bool = True
    in_scope: bool = True  # False: a strong match the user may not see; only code, title and status are known

    @property
    def percent(self) -> int:
        return round(self.score * 100)


def visible_rows(user: Any, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """id → row of the given requirements that ``user`` may see and that are not merged (one query)."""
    ids = list(ids)
    if not ids:
        return {}
    rows = (
        visible_requirements(user)
        .filter(pk__in=ids, merged_into__isnull=True)
        .values("id", "code", "title", "status__label", "status__label_en", "status__category")
    )
    return {row["id"]: dict(row) for row in rows}


def hidden_rows(ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """id → code, title and status of the given unmerged requirements, whoever may see them (one query).

    Only for strong matches outside the user's scope: these columns and no others (never the customer,
    the feedback, the owner or the description)."""
    ids = list(ids)
    if not ids:
        return {}
    rows = Requirement.objects.filter(pk__in=ids, merged_into__isnull=True).values(
        "id", "code", "title", "status__label", "status__label_en", "status__category"
    )
    return {row["id"]: dict(row) for row in rows}


def candidate_from_row(row: dict[str, Any], score: float, *, in_scope: bool = True) -> Candidate:
    from django.utils.translation import get_language

    label = row["status__label"] or ""
    if row["status__label_en"] and (get_language() or "").startswith("en"):
        label = row["status__label_en"]
    is_open = row["status__category"] in ("new", "active")
    return Candidate(row["id"], row["code"], row["title"], score, label, is_open, in_scope)


def attach_target(pk: Any) -> Requirement | None:
    """The unmerged requirement a feedback item is to be added to, whoever may see it; None when there is none.

    Only for ``services.feedback_attach``, which decides whether the user may add to it; never shown."""
    if pk is None:
        return None
    return Requirement.objects.filter(pk=pk, merged_into__isnull=True).first()
