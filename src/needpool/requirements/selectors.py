"""Permission-scoped reads of the pool."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db.models import Count, Exists, Min, OuterRef, Prefetch, Q, QuerySet, prefetch_related_objects
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy

from needpool.accounts.models import Viewer
from needpool.core.audit import audit_for
from needpool.core.pagination import known_empty, narrow_pages, ordinary
from needpool.customers.models import Customer
from needpool.customers.permissions import customer_scope
from needpool.requirements import lifecycle
from needpool.requirements import sla as sla_rules
from needpool.requirements.choices import StatusCategory
from needpool.requirements.models import (
    Attachment,
    ClassOption,
    Comment,
    Feedback,
    Requirement,
    RequirementMerge,
    StatusChange,
    Workflow,
    WorkflowStatus,
)
from needpool.requirements.permissions import visible_feedback, visible_requirements, visible_through

LIST_RELATED = ("type", "urgency", "status", "owner")


def _scoped_feedback(user: Viewer) -> QuerySet[Feedback]:
    """Feedback whose customer ``user`` may see (a requirement may also carry other teams' customers)."""
    if not (user and user.is_authenticated):
        return Feedback.objects.none()
    scope = customer_scope(user, prefix="customer__")
    return Feedback.objects.all() if scope is None else Feedback.objects.filter(scope | Q(customer__isnull=True))


def _customers_prefetch(user: Viewer) -> Prefetch[Any]:
    return Prefetch(
        "feedback_items",
        queryset=_scoped_feedback(user)
        .select_related("customer")
        .only("id", "requirement_id", "customer_id", "customer__id", "customer__name", "customer__code")
        .order_by("received_at", "id"),
        to_attr="evidence",
    )


def requirement_list(
    *, user: Viewer, filters: dict[str, Any] | None = None, include_merged: bool = False
) -> QuerySet[Requirement]:
    """The visible requirements, filtered and sorted as the list page and API ask (see filters.py).

    Requirements merged into another one have left the pool and are left out unless ``include_merged``. A
    slice (a page) picks its ids before it reads its rows (``core.pagination.NarrowPageQuerySet``).
    """
    from needpool.requirements.filters import RequirementFilter

    base = visible_requirements(user)
    if not include_merged:
        base = base.filter(merged_into__isnull=True)
    qs = (
        base.select_related(*LIST_RELATED)
        .prefetch_related(
            Prefetch("tags", queryset=ClassOption.objects.only("id", "key", "label", "label_en")),
            _customers_prefetch(user),
        )
        .defer("search_text", "description", "background", "concrete_ask")
        .order_by("-submitted_at", "-id")
    )
    if filters is None:
        return narrow_pages(qs)
    filterset = RequirementFilter(filters, queryset=qs, user=user)
    if not filterset.is_valid():
        return qs.none()
    filtered: QuerySet[Requirement] = narrow_pages(filterset.qs)  # a page sorts ids, then reads its rows
    return filtered


#: Relations of a requirement that are often empty: ``requirement_get`` asks whether each has any row in its own
#: statement and reads only those that have (an empty one costs no statement of its own).
_OFTEN_EMPTY: dict[str, tuple[Callable[[], QuerySet[Any]], tuple[str, ...]]] = {
    "comments": (
        lambda: Comment.objects.filter(requirement_id=OuterRef("pk")),
        ("comments__author", "comments__mentions"),
    ),
    "attachments": (lambda: Attachment.objects.filter(requirement_id=OuterRef("pk")), ("attachments",)),
    "watchers": (lambda: Requirement.watchers.through.objects.filter(requirement_id=OuterRef("pk")), ("watchers",)),
}


def requirement_get(*, user: Viewer, pk: Any) -> Requirement:
    """One visible requirement with everything its detail page shows; 404 when not visible.

    A merged requirement is returned too (``merged_into`` set): its page and API URL redirect to the survivor.
    ``has_merges`` says whether other requirements were merged into it.
    """
    try:
        requirement = (
            visible_requirements(user)
            .select_related(*LIST_RELATED, "nature", "source", "category", "created_by", "status__workflow")
            .annotate(
                has_merges=Exists(RequirementMerge.objects.filter(survivor=OuterRef("pk"))),
                **{f"has_{name}": Exists(rows()) for name, (rows, _reads) in _OFTEN_EMPTY.items()},
            )
            .prefetch_related(
                "tags",
                Prefetch(
                    "feedback_items",
                    queryset=_scoped_feedback(user)
                    .select_related("customer", "contact", "created_by", "submission")
                    .order_by("received_at", "id"),
                ),
                Prefetch(
                    "status_changes",
                    queryset=StatusChange.objects.select_related("source", "target", "actor").order_by("-at", "-id"),
                ),
            )
            .get(pk=pk)
        )
    except (Requirement.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
    lookups: list[Any] = []
    for name, (_rows, reads) in _OFTEN_EMPTY.items():
        if getattr(requirement, f"has_{name}"):
            lookups.extend(reads)
        else:
            known_empty(requirement, name)
    prefetch_related_objects([requirement], *lookups)
    return requirement


def requirement_answer(*, user: Viewer, pk: Any) -> Requirement:
    """One visible requirement with what its API answer shows, in three statements: the row with its
    classification, status, owner and number of watchers, its tags, and the customers behind it (oldest evidence
    first). Not what only its page shows (history, comments, attachments, whether others were merged into it).
    404 when not visible; a merged requirement is returned too, as by ``requirement_get``.

    A create's answer was ``requirement_get`` plus a count of watchers: 20 ms of a 33 ms create on SQLite, most
    of it building statements the answer does not use.
    """
    from needpool.requirements.merging.selectors import watchers_count_subquery

    try:
        return (
            visible_requirements(user)
            .select_related(*LIST_RELATED, "nature", "source", "category")
            .defer("search_text")
            .annotate(watchers_count=watchers_count_subquery())
            .prefetch_related("tags", _customers_prefetch(user))
            .get(pk=pk)
        )
    except (Requirement.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def attachment_get(*, user: Viewer, requirement_pk: Any, pk: Any) -> Attachment:
    """An attachment of a requirement ``user`` may see; Http404 otherwise."""
    try:
        return Attachment.objects.filter(visible_through(user)).get(pk=pk, requirement_id=requirement_pk)
    except (Attachment.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def requirement_history(requirement: Requirement) -> list[Any]:
    return audit_for(requirement)


_HISTORY_LABELS = {
    "feedback": gettext_lazy("反馈"),
    "comment": gettext_lazy("评论"),
    "file": gettext_lazy("附件"),
    "note": gettext_lazy("备注"),
    "merge": gettext_lazy("合并"),
    "unmerge": gettext_lazy("撤销合并"),
    "merged_into": gettext_lazy("合并到"),
    "watchers": gettext_lazy("关注人"),
    "tags": gettext_lazy("标签"),
    "left": gettext_lazy("留在原处"),
}


def history_field_label(name: str) -> str:
    """The name people know for a key of the change log: the field's name, ours, or the one its app registered."""
    try:
        field = Requirement._meta.get_field(name)
    except FieldDoesNotExist:
        field = None
    if field is not None and hasattr(field, "verbose_name"):  # not a reverse relation (``kano_survey``)
        return str(field.verbose_name)
    if name in _HISTORY_LABELS:
        return str(_HISTORY_LABELS[name])
    return lifecycle.history_label(name) or name


def history_field_value(name: str, value: Any) -> Any:
    """A stored change-log value as people read it: a choice's name, 是/否, an app's own format (fishbone)."""
    if isinstance(value, bool):
        return gettext_lazy("是") if value else gettext_lazy("否")
    try:
        field = Requirement._meta.get_field(name)
    except FieldDoesNotExist:
        field = None
    choices = dict(getattr(field, "flatchoices", None) or ())
    if choices and isinstance(value, str | int) and value in choices:
        return choices[value]
    if isinstance(value, dict):
        return "；".join(f"{key}：{item}" for key, item in value.items())
    return lifecycle.history_value(name, value)


def requirement_history_visible(
    requirement: Requirement, *, user: Viewer, evidence: Iterable[Any]
) -> list[dict[str, Any]]:
    """The change log as ``user`` may read it: every entry with its labelled rows, less the feedback words of
    customers ``user`` does not see (linking feedback records its words on the requirement's log; for a user
    scoped to some customers a linked text shows only when it is one of the ``evidence`` items they see)."""
    scoped = customer_scope(user) is not None
    seen = {item.raw_text[:80] for item in evidence}
    history = []
    for entry in requirement_history(requirement):
        rows = [
            {
                **row,
                "label": history_field_label(row["field"]),
                "old": history_field_value(row["field"], row["old"]),
                "new": history_field_value(row["field"], row["new"]),
            }
            for row in entry.change_rows()
            if not (scoped and row["field"] == "feedback" and str(row["new"]) not in seen)
        ]
        if rows or not entry.changes:
            history.append({"entry": entry, "rows": rows})
    return history


# The board: a column per status of the flow with its true count and its first cards in the board's order
# (``requirement_list``'s filters and sort). A card shows little, so the board reads little: no tags, no type,
# the distinct customer names in one grouped query. Collapsed columns (the ends of the flow, and the empty ones)
# read no cards until they are opened (``board_column``); so a page costs the same few queries at any pool size.
BOARD_CARD_FIELDS = ("id", "code", "title", "status", "urgency", "owner", "sla_breached")


def _board_cards(user: Viewer, filters: dict[str, Any] | None) -> QuerySet[Requirement]:
    return (
        ordinary(requirement_list(user=user, filters=filters))  # a card is narrow: one statement per column
        .prefetch_related(None)
        .select_related(None)
        .select_related("urgency", "owner")
        .only(*BOARD_CARD_FIELDS)
    )


def _board_customers(user: Viewer, cards: list[Requirement]) -> list[Requirement]:
    """Give each card ``customers``: the names of the distinct customers of its feedback that ``user`` may
    see, in the order they first asked (one query for every card of the page)."""
    names: dict[int, list[str]] = {card.pk: [] for card in cards}
    if names:
        rows = (
            _scoped_feedback(user)
            .filter(requirement_id__in=list(names), customer__isnull=False)
            .values("requirement_id", "customer_id", "customer__name")
            .annotate(first_at=Min("received_at"), first_id=Min("id"))
            .order_by("requirement_id", "first_at", "first_id")
            .values_list("requirement_id", "customer__name")
        )
        for requirement_id, name in rows:
            names[requirement_id].append(name)
    for card in cards:
        card.customers = names[card.pk]  # type: ignore[attr-defined]
    return cards


def board_collapsed(columns: list[dict[str, Any]]) -> set[str]:
    """The keys of the columns shown narrow at first (a drop target that expands on a click): the empty ones,
    and the ends of the flow (deferred, rejected, and the last done status)."""
    done = [c["status"].key for c in columns if c["status"].category == StatusCategory.DONE]
    last_done = done[-1:] if len(done) > 1 else []
    return {
        c["status"].key
        for c in columns
        if c["count"] == 0
        or c["status"].category in (StatusCategory.DEFERRED, StatusCategory.REJECTED)
        or c["status"].key in last_done
    }


def board_columns(
    *, user: Viewer, workflow: Workflow, filters: dict[str, Any] | None = None, per_column: int = 20
) -> list[dict[str, Any]]:
    """Kanban: the flow's statuses in order, each with ``count`` (every visible requirement the filters keep),
    ``collapsed`` (see ``board_collapsed``), ``cards`` (the first ``per_column``; none for a collapsed column,
    whose cards ``board_column`` reads when it is opened) and ``more`` (cards are left to read)."""
    statuses = list(WorkflowStatus.objects.filter(workflow=workflow).order_by("order", "id"))
    base = _board_cards(user, filters)
    # One pass over the rows with a count per status (COUNT … FILTER): SQLite reads the table in order instead
    # of jumping to every row from the status index as GROUP BY status would (~50 ms instead of ~150 at 100,000).
    counts = base.order_by().aggregate(
        **{f"s{status.pk}": Count("pk", filter=Q(status=status.pk)) for status in statuses}
    )
    columns: list[dict[str, Any]] = [
        {"status": status, "count": counts.get(f"s{status.pk}") or 0} for status in statuses
    ]
    collapsed = board_collapsed(columns)
    every: list[Requirement] = []
    for column in columns:
        column["collapsed"] = column["status"].key in collapsed
        cards = [] if column["collapsed"] else list(base.filter(status=column["status"])[:per_column])
        column["cards"] = cards
        column["more"] = column["count"] > len(cards)
        every.extend(cards)
    _board_customers(user, every)
    return columns


def board_column(
    *,
    user: Viewer,
    workflow: Workflow,
    key: str,
    filters: dict[str, Any] | None = None,
    offset: int = 0,
    limit: int = 20,
) -> dict[str, Any]:
    """One column of the board from ``offset`` on (the "more" of a column, or the first cards of a collapsed
    one): its status, up to ``limit`` ``cards`` and ``more`` (cards are left after them); Http404 for a key
    the flow does not have."""
    try:
        status = WorkflowStatus.objects.get(workflow=workflow, key=key)
    except WorkflowStatus.DoesNotExist as exc:
        raise Http404 from exc
    offset = max(offset, 0)
    rows = list(_board_cards(user, filters).filter(status=status)[offset : offset + limit + 1])
    cards = _board_customers(user, rows[:limit])
    return {"status": status, "cards": cards, "more": len(rows) > limit}


def filter_statuses(workflow: Workflow | None) -> list[WorkflowStatus]:
    """The statuses to filter by: the active flow's, then every other flow's status that a requirement
    of the pool holds (requirements keep their statuses when the admin switches flows)."""
    active = workflow.pk if workflow is not None else None
    statuses = list(WorkflowStatus.objects.select_related("workflow"))
    others = [s.pk for s in statuses if s.workflow_id != active]
    # One lookup of the other flows' statuses by value, not EXISTS per status: PostgreSQL plans a correlated
    # EXISTS once for every status, as a sequential scan, which reads the whole pool for a status no
    # requirement holds (0.4 s at 100,000); with the values in the query it reads the status index.
    held = set(
        Requirement.objects.filter(status__in=others, merged_into__isnull=True)
        .order_by()
        .values_list("status_id", flat=True)
        .distinct()
        if others
        else []
    )
    wanted = [s for s in statuses if s.workflow_id == active or s.pk in held]
    return sorted(wanted, key=lambda s: (s.workflow_id != active, s.workflow_id, s.order, s.pk))


def sla_breaches(*, user: Viewer, limit: int = 20) -> QuerySet[Requirement]:
    now = timezone.now()
    return (
        visible_requirements(user)
        .filter(merged_into__isnull=True)
        .filter(sla_rules.breached_q(now))
        .filter(status__category__in=("new", "active"))
        .select_related(*LIST_RELATED)
        .order_by("first_response_due", "id")[:limit]
    )


def my_open_requirements(*, user: Viewer, limit: int = 20) -> QuerySet[Requirement]:
    return (
        visible_requirements(user)
        .filter(owner=user.pk if user else None, status__category__in=("new", "active"), merged_into__isnull=True)
        .select_related(*LIST_RELATED)
        .order_by("first_response_due", "-submitted_at")[:limit]
    )


def feedback_list(*, user: Viewer) -> QuerySet[Feedback]:
    return visible_feedback(user).select_related("customer", "contact", "requirement").order_by("-received_at", "-id")


def feedback_get(*, user: Viewer, pk: Any) -> Feedback:
    try:
        return feedback_list(user=user).get(pk=pk)
    except (Feedback.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def options(dimension: str) -> QuerySet[ClassOption]:
    return ClassOption.objects.filter(dimension=dimension, is_active=True).order_by("sort_order", "id")


def customer_requirement_counts(customer: Customer) -> dict[str, int]:
    """How many requirements carry this customer's feedback, by status category (not scoped to a user)."""
    rows = (
        Requirement.objects.filter(feedback_items__customer=customer)
        .values("status__category")
        .annotate(n=Count("id", distinct=True))
    )
    return {row["status__category"]: row["n"] for row in rows}


def unlinked_feedback(*, user: Viewer, channel: str = "") -> QuerySet[Feedback]:
    """Visible feedback not linked to any requirement, newest first (the inbox); an unknown channel is ignored."""
    from needpool.requirements.filters import FeedbackFilter

    base = feedback_list(user=user).select_related("type")
    data = {"unlinked": True, **({"channel": channel} if channel else {})}
    filterset = FeedbackFilter(data, queryset=base)
    if not filterset.is_valid():
        filterset = FeedbackFilter({"unlinked": True}, queryset=base)
    filtered: QuerySet[Feedback] = filterset.qs
    return filtered
