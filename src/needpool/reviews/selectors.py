"""Permission-scoped reads of review meetings."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404

from needpool.accounts.models import User
from needpool.core.validation import parse_id
from needpool.delivery.models import Iteration
from needpool.requirements.models import Requirement
from needpool.reviews.models import AgendaItem, Decision, ReviewAttendee, ReviewMaterial, ReviewMeeting
from needpool.reviews.permissions import can_review, visible_items, visible_meetings

LATE_DAYS = 3
ITEM_RELATED = ("requirement", "requirement__status", "iteration", "owner", "decided_by")


def meeting_list(*, user: Any, q: str = "", status: str = "") -> QuerySet[ReviewMeeting]:
    """Visible meetings, newest first, each with the number of agenda items the user may see."""
    from needpool.requirements.permissions import requirement_scope, visible_requirements

    counted = Count("items", distinct=True)
    if user is not None and user.is_authenticated and requirement_scope(user) is not None:
        counted = Count(
            "items", filter=Q(items__requirement__in=visible_requirements(user).values("pk")), distinct=True
        )
    qs = visible_meetings(user).select_related("chair").annotate(item_count=counted)
    if q:
        qs = qs.filter(title__icontains=q[:100])
    if status in ReviewMeeting.Status.values:
        qs = qs.filter(status=status)
    return qs.order_by("-starts_at", "-id")


def meeting_get(*, user: Any, pk: Any) -> ReviewMeeting:
    """One visible meeting with its attendees, visible agenda items and material; 404 otherwise."""
    pk = parse_id(pk)
    if pk is None:
        raise Http404
    items = visible_items(user).select_related(*ITEM_RELATED).order_by("position", "id")
    found = (
        visible_meetings(user)
        .select_related("chair", "created_by")
        .prefetch_related(
            Prefetch("attendees", queryset=ReviewAttendee.objects.select_related("user").order_by("id")),
            Prefetch("items", queryset=items, to_attr="visible_items"),
            Prefetch("materials", queryset=ReviewMaterial.objects.select_related("sent_by").order_by("sent_at", "id")),
        )
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise Http404
    return found


def item_get(*, user: Any, pk: Any) -> AgendaItem:
    pk = parse_id(pk)
    found = visible_items(user).select_related("meeting", *ITEM_RELATED).filter(pk=pk).first() if pk else None
    if found is None:
        raise Http404
    return found


def late_materials(meeting: ReviewMeeting, materials: list[ReviewMaterial] | None = None) -> list[ReviewMaterial]:
    """Material sent less than LATE_DAYS days before the meeting starts (材料发送晚于会前 3 天)."""
    cutoff = meeting.starts_at - dt.timedelta(days=LATE_DAYS)
    rows = materials if materials is not None else list(meeting.materials.all())
    return [m for m in rows if m.sent_at > cutoff]


def requirement_items(requirement: Requirement, user: Any) -> list[AgendaItem]:
    """The requirement's agenda items in meetings the user may see, newest meeting first."""
    return list(
        visible_items(user)
        .filter(requirement=requirement)
        .select_related("meeting", "iteration", "owner", "decided_by")
        .order_by("-meeting__starts_at", "-id")
    )


def latest_decision(requirement: Requirement | int) -> str | None:
    """The requirement's latest review decision (``accepted`` …), None when never decided."""
    pk = requirement if isinstance(requirement, int) else requirement.pk
    row = (
        AgendaItem.objects.filter(requirement_id=pk)
        .exclude(decision=Decision.PENDING)
        .order_by("-decided_at", "-id")
        .values_list("decision", flat=True)
        .first()
    )
    return row


def open_iterations(user: Any) -> QuerySet[Iteration]:
    """Iterations an accepted requirement may be planned into (not done), for reviewers."""
    if not can_review(user):
        return Iteration.objects.none()
    return Iteration.objects.exclude(status=Iteration.Status.DONE).order_by("start_date", "id")


def reviewers() -> QuerySet[User]:
    return User.objects.filter(is_active=True).order_by("username")


def requirements_by_codes(*, user: Any, codes: list[str]) -> tuple[list[int], list[str]]:
    """Ids of the visible requirements with these codes (in the given order), and the codes not found."""
    from needpool.requirements.permissions import visible_requirements

    found = dict(visible_requirements(user).filter(code__in=codes).values_list("code", "pk"))
    return [found[c] for c in codes if c in found], [c for c in codes if c not in found]


def requirements_for_choice(*, user: Any, ids: list[int]) -> list[Requirement]:
    from needpool.requirements.selectors import requirement_list

    rows = {r.pk: r for r in requirement_list(user=user).prefetch_related(None).filter(pk__in=ids)}
    return [rows[pk] for pk in ids if pk in rows]


def open_meetings(*, user: Any) -> QuerySet[ReviewMeeting]:
    """Meetings a reviewer may still add requirements to."""
    if not can_review(user):
        return ReviewMeeting.objects.none()
    return (
        visible_meetings(user)
        .exclude(status=ReviewMeeting.Status.CLOSED)
        .select_related("chair")
        .order_by("starts_at", "id")
    )


def material_get(*, user: Any, pk: Any) -> ReviewMaterial:
    pk = parse_id(pk)
    found = (
        ReviewMaterial.objects.filter(meeting__in=visible_meetings(user).values("pk"), pk=pk).first() if pk else None
    )
    if found is None:
        raise Http404
    return found
