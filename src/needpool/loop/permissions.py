"""Who may do what in closing the loop.

Telling customers, release notes and surveys belong to people holding ``Cap.CLOSE_LOOP`` (admin, manager,
product manager); the mail templates and loop settings to admins (``Cap.CONFIGURE``). Everything tied to a
requirement (notices, CSAT answers) is read only by people who see that requirement.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from needpool.accounts.models import User
from needpool.accounts.roles import Cap
from needpool.core.permissions import user_can
from needpool.loop.models import CustomerNotice, NpsCampaign, ReleaseNote, SurveyInvitation
from needpool.requirements.permissions import visible_through

Asker = User | AnonymousUser | None


def deny(message: str | None = None) -> PermissionDenied:
    return PermissionDenied(message or _("您没有执行此操作的权限。"))


def acting_user(user: Any) -> User:
    if isinstance(user, User) and user.is_authenticated:
        return user
    raise deny()


def can_close_loop(user: Asker, obj: Any = None) -> bool:
    """Edit and publish release notes, run NPS campaigns, see survey results."""
    return user_can(user, Cap.CLOSE_LOOP)


def can_configure(user: Asker, obj: Any = None) -> bool:
    """Edit the customer mail templates and the loop settings."""
    return user_can(user, Cap.CONFIGURE)


def visible_notices(user: Asker) -> QuerySet[CustomerNotice]:
    if not (user and user.is_authenticated):
        return CustomerNotice.objects.none()
    return CustomerNotice.objects.filter(visible_through(user))


def visible_csat(user: Asker) -> QuerySet[SurveyInvitation]:
    if not (user and user.is_authenticated):
        return SurveyInvitation.objects.none()
    return SurveyInvitation.objects.filter(visible_through(user), kind=SurveyInvitation.Kind.CSAT)


def visible_release_notes(user: Asker) -> QuerySet[ReleaseNote]:
    return ReleaseNote.objects.all() if can_close_loop(user) else ReleaseNote.objects.none()


def visible_campaigns(user: Asker) -> QuerySet[NpsCampaign]:
    return NpsCampaign.objects.all() if can_close_loop(user) else NpsCampaign.objects.none()


def loop_permissions(user: Asker) -> dict[str, bool]:
    return {"close_loop": can_close_loop(user), "configure": can_configure(user)}
