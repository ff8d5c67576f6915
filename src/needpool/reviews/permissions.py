"""Who may do what with review meetings.

Organising a meeting, its agenda, material and minutes, and deciding, take ``Cap.REVIEW`` (admin, manager,
product manager). A meeting is read by pool-wide roles (``SEE_ALL``), reviewers, its chair and its attendees;
an attendee who does not see the whole pool (a sales user) sees only the agenda items of requirements they may
see (``requirements.permissions.visible_requirements``).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from needpool.accounts.models import User
from needpool.accounts.roles import Cap
from needpool.core.permissions import user_can
from needpool.requirements.permissions import requirement_scope
from needpool.reviews.models import AgendaItem, ReviewMeeting

Asker = User | AnonymousUser | None


def deny(message: str | None = None) -> PermissionDenied:
    return PermissionDenied(message or _("您没有执行此操作的权限。"))


def acting_user(user: Asker) -> User:
    if isinstance(user, User) and user.is_authenticated:
        return user
    raise deny()


def can_review(user: Asker, obj: Any = None) -> bool:
    """Create and change meetings, agenda, material and minutes; decide (and change a decision)."""
    return user_can(user, Cap.REVIEW)


def can_see_all_meetings(user: Asker) -> bool:
    return user_can(user, Cap.REVIEW) or user_can(user, Cap.SEE_ALL)


def visible_meetings(user: Asker) -> QuerySet[ReviewMeeting]:
    if not (user is not None and user.is_authenticated):
        return ReviewMeeting.objects.none()
    if can_see_all_meetings(user):
        return ReviewMeeting.objects.all()
    seats = ReviewMeeting.objects.filter(attendees__user=user.pk).values("pk")
    return ReviewMeeting.objects.filter(Q(chair=user.pk) | Q(pk__in=seats))


def visible_items(user: Asker) -> QuerySet[AgendaItem]:
    """Agenda items of visible meetings whose requirement the user may see."""
    if not (user is not None and user.is_authenticated):
        return AgendaItem.objects.none()
    items = AgendaItem.objects.filter(meeting__in=visible_meetings(user).values("pk"))
    scope = requirement_scope(user)
    if scope is None:
        return items
    from needpool.requirements.models import Requirement

    return items.filter(requirement__in=Requirement.objects.filter(scope).values("pk"))


def meeting_permissions(user: Asker, meeting: ReviewMeeting | None = None) -> dict[str, bool]:
    review = can_review(user, meeting)
    return {"edit": review, "agenda": review, "decide": review, "material": review, "minutes": review}
