"""Who sees and changes which requirements and feedback.

Roles with ``see_all`` see the whole pool. Sales and service see requirements they own or
submitted, and those with feedback from a customer they can see (customers.permissions) — except
feedback they added as a vote to a duplicate outside their scope (``Feedback.scope_vote``).
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from needpool.accounts.models import Viewer
from needpool.accounts.roles import Cap
from needpool.core.permissions import user_can
from needpool.customers.permissions import customer_scope
from needpool.requirements.models import Feedback, Requirement


def requirement_scope(user: Viewer) -> Q | None:
    scope = customer_scope(user)
    if scope is None:
        return None
    related = customer_scope(user, prefix="customer__")
    assert related is not None
    visible_feedback = Feedback.objects.filter(
        requirement=OuterRef("pk"),
        customer__isnull=False,
        scope_vote=False,  # a vote opens nothing
    ).filter(related)
    return Q(owner=getattr(user, "pk", None)) | Q(created_by=getattr(user, "pk", None)) | Q(Exists(visible_feedback))


def visible_requirements(user: Viewer) -> QuerySet[Requirement]:
    if not (user and user.is_authenticated):
        return Requirement.objects.none()
    scope = requirement_scope(user)
    return Requirement.objects.all() if scope is None else Requirement.objects.filter(scope)


def visible_through(user: Viewer, field: str = "requirement") -> Q:
    """A filter for rows that point at a requirement through ``field``: that requirement is one ``user``
    may see (``visible_requirements``).

    For a user who sees the whole pool it is a condition on the join (the requirement is not deleted),
    not ``field IN (SELECT id FROM requirements …)``: SQLite builds that list from every live requirement
    before it looks at one row (~30 ms at 100,000). A scoped user keeps the subquery, which their scope
    narrows."""
    if not (user and user.is_authenticated):
        return Q(pk__in=[])
    if requirement_scope(user) is None:
        # ``field`` may be nullable (feedback not yet linked): the join is then a LEFT JOIN, whose missing row
        # would pass "deleted_at IS NULL"; a row that points at no requirement is never visible through one.
        return Q(**{f"{field}__isnull": False, f"{field}__deleted_at__isnull": True})
    return Q(**{f"{field}__in": visible_requirements(user).values("pk")})


def visible_feedback(user: Viewer) -> QuerySet[Feedback]:
    if not (user and user.is_authenticated):
        return Feedback.objects.none()
    scope = customer_scope(user, prefix="customer__")
    if scope is None:
        return Feedback.objects.all()
    return Feedback.objects.filter(scope | Q(created_by=user.pk))


def can_view_requirement(user: Viewer, requirement: Requirement) -> bool:
    return visible_requirements(user).filter(pk=requirement.pk).exists()


def can_create_requirement(user: Viewer) -> bool:
    return user_can(user, Cap.REQUIREMENT_CREATE)


def can_edit_requirement(user: Viewer, requirement: Requirement) -> bool:
    if user_can(user, Cap.REQUIREMENT_EDIT_ANY):
        return True
    if not user_can(user, Cap.REQUIREMENT_CREATE):
        return False
    return getattr(user, "pk", None) in (requirement.owner_id, requirement.created_by_id)


def can_transition_requirement(user: Viewer, requirement: Requirement) -> bool:
    if user_can(user, Cap.REQUIREMENT_TRANSITION):
        return True
    return user_can(user, Cap.REQUIREMENT_CREATE) and getattr(user, "pk", None) == requirement.owner_id


def can_prioritise(user: Viewer) -> bool:
    """Set a requirement's priority from its analysis (scores, override, recompute)."""
    return user_can(user, Cap.ANALYSE)


def can_comment(user: Viewer, requirement: Requirement) -> bool:
    return user_can(user, Cap.COMMENT)


def can_write_feedback(user: Viewer) -> bool:
    return user_can(user, Cap.FEEDBACK_WRITE)
