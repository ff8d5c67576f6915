"""Reads for the classification pages and API: the option lists (with how often each is in use), their
change history, the rule versions and the last review."""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, QuerySet

from needpool.core.models import AuditEntry
from needpool.core.permissions import is_admin
from needpool.requirements.choices import Dimension
from needpool.requirements.models import (
    ClassificationReview,
    ClassificationRuleVersion,
    ClassOption,
    Requirement,
)

# The requirement field each dimension classifies (tags: the many-to-many).
DIMENSION_FIELD = {
    Dimension.TYPE: "type",
    Dimension.URGENCY: "urgency",
    Dimension.NATURE: "nature",
    Dimension.SOURCE: "source",
    Dimension.CATEGORY: "category",
    Dimension.TAG: "tags",
}


def options_for(user: Any, dimension: str = "", *, include_inactive: bool = False) -> QuerySet[ClassOption]:
    """The options a user may read: active ones for anyone signed in; inactive ones too for an admin who asks."""
    if not (user and user.is_authenticated):
        return ClassOption.objects.none()
    qs = ClassOption.objects.select_related("parent")
    if dimension:
        qs = qs.filter(dimension=dimension)
    if not (include_inactive and is_admin(user)):
        qs = qs.filter(is_active=True)
    return qs.order_by("dimension", "sort_order", "id")


def usage_counts(dimension: str) -> dict[int, int]:
    """How many requirements carry each option of ``dimension`` (one query)."""
    field = DIMENSION_FIELD[Dimension(dimension)]
    rows = (
        Requirement.objects.filter(**{f"{field}__isnull": False})
        .values(field)
        .annotate(n=Count("id", distinct=True))
        .values_list(field, "n")
    )
    return {pk: n for pk, n in rows}


def option_history(dimension: str) -> QuerySet[AuditEntry]:
    """The audit rows of the options of ``dimension``, newest first."""
    ids = ClassOption.objects.filter(dimension=dimension).values("pk")
    return (
        AuditEntry.objects.filter(content_type=ContentType.objects.get_for_model(ClassOption), object_id__in=ids)
        .select_related("actor")
        .order_by("-at", "-id")
    )


def rule_versions() -> QuerySet[ClassificationRuleVersion]:
    return ClassificationRuleVersion.objects.select_related("created_by").order_by("-number")


def reviews() -> QuerySet[ClassificationReview]:
    return ClassificationReview.objects.select_related("reviewed_by").order_by("-reviewed_at", "-id")


def last_review() -> ClassificationReview | None:
    return reviews().first()
