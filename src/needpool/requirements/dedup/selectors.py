"""The permission-scoped check of the index's best candidates: what a user may see, unmerged, with status."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

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


def candidate_from_row(row: dict[str, Any], score: float) -> Candidate:
    from django.utils.translation import get_language

    label = row["status__label"] or ""
    if row["status__label_en"] and (get_language() or "").startswith("en"):
        label = row["status__label_en"]
    return Candidate(row["id"], row["code"], row["title"], score, label, row["status__category"] in ("new", "active"))
