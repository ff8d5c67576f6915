"""Who sees and decides which suggestions, and who runs the suggestion models.

Every rule of the app is one ``can_<action>(user, obj=None)`` here: services check them, views, the API
and the template tags ask them, and templates get the answers precomputed (the panel's ``can_decide``,
a page's ``allowed``). ``visible_suggestions`` is the read scope the selectors build on.
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
from needpool.customers.models import Interaction
from needpool.customers.permissions import can_write_customer, visible_customers
from needpool.requirements.models import Feedback
from needpool.requirements.permissions import can_write_feedback, visible_feedback
from needpool.suggest.models import Suggestion

# Who is asking: a signed-in user, or the anonymous one a request carries before sign-in.
Asker = User | AnonymousUser | None


def deny(message: str | None = None) -> PermissionDenied:
    """The refusal, in the user's language."""
    return PermissionDenied(message or _("您没有执行此操作的权限。"))


def acting_user(user: Asker) -> User:
    """The signed-in user behind a request (pages and the API only let signed-in users this far)."""
    if isinstance(user, User) and user.is_authenticated:
        return user
    raise deny()


def visible_suggestions(user: Asker) -> QuerySet[Suggestion]:
    """Suggestions of feedback the user sees and of interactions with customers the user sees."""
    if not (user and user.is_authenticated):
        return Suggestion.objects.none()
    return Suggestion.objects.filter(
        Q(feedback__in=visible_feedback(user).values("pk"))
        | Q(interaction__customer__in=visible_customers(user).values("pk"))
    )


def can_decide(user: Asker, obj: Suggestion | None = None) -> bool:
    """Accept, correct or reject a suggestion: whoever may write the feedback (and sees it) or the
    interaction's customer."""
    if obj is None:
        return False
    if obj.feedback_id:
        return can_write_feedback(user) and visible_feedback(user).filter(pk=obj.feedback_id).exists()
    interaction = obj.interaction
    return interaction is not None and can_write_customer(user, interaction.customer)


def can_decide_for(user: Asker, obj: Feedback | Interaction) -> bool:
    """Decide the suggestions of a feedback item or interaction the caller has already read through its
    permission-scoped selector (so seeing it is given)."""
    if isinstance(obj, Feedback):
        return can_write_feedback(user)
    return can_write_customer(user, obj.customer)


def can_view_models(user: Asker, obj: Any = None) -> bool:
    """See the models page, the keyword lists and every training job (administrators and analysts)."""
    return user_can(user, Cap.CONFIGURE) or user_can(user, Cap.ANALYSE)


def can_train(user: Asker, obj: Any = None) -> bool:
    """Start a training run ("retrain now")."""
    return user_can(user, Cap.CONFIGURE) or user_can(user, Cap.ANALYSE)


def can_edit_keywords(user: Asker, obj: Any = None) -> bool:
    """Change the keyword list of a type or tag option (administrators)."""
    return user_can(user, Cap.CONFIGURE)
