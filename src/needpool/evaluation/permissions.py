"""Who may see and do what with effect evaluations.

An evaluation belongs to its requirement: whoever may not see the requirement does not see its evaluation
(not found, as for a missing one). The requirement's owner evaluates it; people closing the loop
(``Cap.CLOSE_LOOP``) may complete any evaluation they see and list them all; admins configure the delay.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from needpool.accounts.models import User, Viewer
from needpool.accounts.roles import Cap
from needpool.core.permissions import user_can
from needpool.evaluation.models import Evaluation
from needpool.requirements.permissions import visible_through


def deny(message: str | None = None) -> PermissionDenied:
    return PermissionDenied(message or _("您没有执行此操作的权限。"))


def acting_user(user: Any) -> User:
    if isinstance(user, User) and user.is_authenticated:
        return user
    raise deny()


def visible_evaluations(user: Viewer) -> QuerySet[Evaluation]:
    """Evaluations of requirements ``user`` may see."""
    if not (user and user.is_authenticated):
        return Evaluation.objects.none()
    return Evaluation.objects.filter(visible_through(user))


def can_list_all(user: Viewer, obj: Any = None) -> bool:
    """See every visible requirement's evaluation in one list (not only one's own)."""
    return user_can(user, Cap.CLOSE_LOOP)


def can_complete(user: Viewer, obj: Evaluation | None = None) -> bool:
    """Fill in an evaluation: its owner, or anyone closing the loop."""
    if user_can(user, Cap.CLOSE_LOOP):
        return True
    pk = getattr(user, "pk", None)
    return obj is not None and pk is not None and obj.owner_id == pk


def can_configure(user: Viewer, obj: Any = None) -> bool:
    """Change how many days after launch the evaluation is due."""
    return user_can(user, Cap.CONFIGURE)
