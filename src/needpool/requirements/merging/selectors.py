"""Reads of merging shared by the merge page, the detail page and the API: survivors, merge records,
the merge preview, and the detail page's union of the merged requirements' history."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils.translation import gettext as _

from needpool.accounts.models import Viewer
from needpool.core.models import AuditEntry
from needpool.requirements import lifecycle
from needpool.requirements.merging.permissions import may_merge_requirement, may_undo_merge
from needpool.requirements.models import Attachment, Comment, Feedback, Requirement, RequirementMerge, StatusChange
from needpool.requirements.permissions import visible_requirements, visible_through

MAX_MERGED = 50
CHAIN_LIMIT = 20  # merges of merges are followed at most this deep (redirects, union history)
HISTORY_LIMIT = 200
#: relations moved id by id: key in ``moved`` → (model, foreign key to the requirement)
MOVED_RELATIONS: dict[str, tuple[type[Any], str]] = {
    "feedback": (Feedback, "requirement_id"),
    "comments": (Comment, "requirement_id"),
    "attachments": (Attachment, "requirement_id"),
}


def survivor_of(requirement: Requirement) -> Requirement | None:
    """The requirement a merged one finally lives on (merges of merges followed); None if not merged."""
    pk = requirement.merged_into_id
    seen = {requirement.pk}
    final: int | None = None
    for _step in range(CHAIN_LIMIT):
        if pk is None or pk in seen:
            break
        seen.add(pk)
        final = pk
        pk = Requirement.objects.filter(pk=pk).values_list("merged_into_id", flat=True).first()
    if final is None:
        return None
    return Requirement.objects.filter(pk=final).first()


def merged_descendants(requirement: Requirement) -> list[Requirement]:
    """Every requirement merged into this one, directly or through a merge of a merge, newest merge first."""
    found: list[Requirement] = []
    seen = {requirement.pk}
    level = [requirement.pk]
    for _step in range(CHAIN_LIMIT):
        rows = list(
            Requirement.objects.filter(merged_into_id__in=level)
            .exclude(pk__in=seen)
            .only("id", "code", "title", "merged_into_id", "merged_at")
            .order_by("-merged_at", "-id")
        )
        if not rows:
            break
        found.extend(rows)
        level = [r.pk for r in rows]
        seen.update(level)
    return found


def merges_of(*, user: Viewer, requirement: Requirement) -> QuerySet[RequirementMerge]:
    """The merge records whose survivor is ``requirement`` (the caller must see it), newest first."""
    if not visible_requirements(user).filter(pk=requirement.pk).exists():
        return RequirementMerge.objects.none()
    return merge_rows().filter(survivor=requirement)


def merge_rows() -> QuerySet[RequirementMerge]:
    return (
        RequirementMerge.objects.select_related("survivor", "actor", "undone_by")
        .prefetch_related(Prefetch("merged", queryset=Requirement.objects.only("id", "code", "title").order_by("id")))
        .order_by("-created_at", "-id")
    )


def moved_counts(merge: RequirementMerge) -> dict[str, int]:
    """How many items of each kind a merge moved (and how many stayed behind at its undo)."""
    moved = merge.moved or {}
    counts = {name: sum(len(ids) for ids in (moved.get(name) or {}).values()) for name in MOVED_RELATIONS}
    for participant in lifecycle.merge_participants():
        counts[participant.key] = participant.count(moved)
    counts["watchers"] = len(moved.get("watchers") or [])
    counts["left"] = sum(len(ids) for ids in (moved.get("left") or {}).values())
    return counts


def merge_get(*, user: Viewer, pk: Any) -> RequirementMerge:
    """A merge record whose survivor the caller may see; Http404 otherwise."""
    try:
        return merge_rows().filter(visible_through(user, "survivor")).get(pk=pk)
    except (RequirementMerge.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def _count(model: type[Any], fk: str = "requirement", *, distinct: str = "", where: Q | None = None) -> Coalesce:
    qs = model.objects.filter(**{fk: OuterRef("pk")})
    if where is not None:
        qs = qs.filter(where)
    counted = Count(distinct, distinct=True) if distinct else Count("pk")
    return Coalesce(Subquery(qs.order_by().values(fk).annotate(n=counted).values("n"), output_field=IntegerField()), 0)


def watchers_count_subquery() -> Coalesce:
    """Each row's number of watchers, as a correlated count (no GROUP BY over the whole list)."""
    return _count(Requirement.watchers.through)


def merge_preview(*, user: Viewer, ids: Sequence[int]) -> list[Requirement]:
    """The visible requirements among ``ids`` (in that order) with what a merge would move from each.

    Each row gets ``feedback_count``, ``customer_count``, ``comment_count``, ``attachment_count``,
    ``watcher_count`` and ``editable`` (the caller may merge it).
    """
    if not ids:
        return []
    rows = {
        r.pk: r
        for r in visible_requirements(user)
        .filter(pk__in=list(ids)[: MAX_MERGED + 1])
        .select_related("status", "owner", "merged_into")
        .defer("search_text")
        .annotate(
            feedback_count=_count(Feedback),
            customer_count=_count(Feedback, distinct="customer", where=Q(customer__isnull=False)),
            comment_count=_count(Comment),
            attachment_count=_count(Attachment),
            watcher_count=_count(Requirement.watchers.through),
        )
    }
    found: list[Requirement] = [rows[pk] for pk in ids if pk in rows]
    for row in found:
        row.editable = may_merge_requirement(user, row)  # type: ignore[attr-defined]
    return found


def requirement_by_code(*, user: Viewer, code: str) -> Requirement | None:
    """A visible requirement by its code (exact, case-insensitive), or None."""
    code = (code or "").strip()
    if not code:
        return None
    return visible_requirements(user).filter(code__iexact=code).only("id", "code", "merged_into_id").first()


# ---------------------------------------------------------------- the detail page of a survivor


def _stamp(value: dt.datetime | None) -> dt.datetime:
    return value or dt.datetime.min.replace(tzinfo=dt.UTC)


def merge_detail_context(
    *,
    user: Viewer,
    requirement: Requirement,
    status_changes: list[StatusChange],
    history: list[dict[str, Any]],
    label: Callable[[str], str],
) -> dict[str, Any]:
    """What the detail page adds for merging and watching, and the union of the merged requirements'
    status changes and audit rows with the survivor's own (each foreign row tagged with its code)."""
    merged = bool(requirement.merged_into_id)
    # ``requirement_get`` says whether any merge has this survivor (no statement when none has).
    merges = list(merge_rows().filter(survivor=requirement)) if getattr(requirement, "has_merges", True) else []
    for merge in merges:
        merge.moved_counts = moved_counts(merge)  # type: ignore[attr-defined]
    # Only a merge makes a requirement a survivor: without any, nothing can have been merged into it.
    descendants = merged_descendants(requirement) if merges and not merged else []
    codes = {r.pk: r.code for r in descendants}
    if descendants:
        foreign = list(
            StatusChange.objects.filter(requirement_id__in=codes)
            .select_related("source", "target", "actor")
            .order_by("-at", "-id")[:HISTORY_LIMIT]
        )
        for change in foreign:
            change.merged_code = codes[change.requirement_id]  # type: ignore[attr-defined]
        status_changes = sorted([*status_changes, *foreign], key=lambda c: (_stamp(c.at), c.pk), reverse=True)[
            :HISTORY_LIMIT
        ]
        entries = (
            AuditEntry.objects.filter(
                content_type=ContentType.objects.get_for_model(Requirement), object_id__in=list(codes)
            )
            .select_related("actor")
            .order_by("-at", "-id")[:HISTORY_LIMIT]
        )
        from_label = _("来自需求")
        extra = [
            {
                "entry": entry,
                "rows": [
                    {"field": "requirement", "label": from_label, "old": "", "new": codes[entry.object_id]},
                    *({**row, "label": label(row["field"])} for row in entry.change_rows()),
                ],
            }
            for entry in entries
        ]
        history = sorted(
            [*history, *extra], key=lambda item: (_stamp(item["entry"].at), item["entry"].pk), reverse=True
        )[:HISTORY_LIMIT]
    watchers = list(requirement.watchers.all())
    return {
        "status_changes": status_changes,
        "history": history,
        "merged_from": descendants,
        "merges": merges,
        "can_undo_merge": may_undo_merge(user),
        "can_merge": not merged and may_merge_requirement(user, requirement),
        "is_watching": any(w.pk == getattr(user, "pk", None) for w in watchers),
        "watcher_count": len(watchers),
        # A merged requirement is a record: its page (``?merged=1``) offers no changes.
        **({"can_edit": False, "can_transition": False, "can_comment": False, "targets": []} if merged else {}),
    }
