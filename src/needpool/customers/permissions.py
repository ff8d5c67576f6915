"""Who sees and changes which customers.

Roles with ``see_all`` see every customer. Sales and service see the customers they own, those
owned by members of their team, and customers nobody owns yet.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from needpool.accounts.models import Viewer
from needpool.accounts.roles import Cap
from needpool.core.permissions import user_can
from needpool.customers.models import Customer


def customer_scope(user: Viewer, prefix: str = "") -> Q | None:
    """A filter on customers visible to ``user`` (``prefix`` for related lookups); None means all."""
    if user_can(user, Cap.SEE_ALL):
        return None
    owner = f"{prefix}owner"
    scope = Q(**{owner: getattr(user, "pk", None)}) | Q(**{f"{owner}__isnull": True})
    team_id = getattr(user, "team_id", None)  # the anonymous user has no team (and sees only unowned)
    if team_id:
        scope |= Q(**{f"{owner}__team_id": team_id})
    return scope


def visible_customers(user: Viewer) -> QuerySet[Customer]:
    if not (user and user.is_authenticated):
        return Customer.objects.none()
    scope = customer_scope(user)
    return Customer.objects.all() if scope is None else Customer.objects.filter(scope)


def can_view_customer(user: Viewer, customer: Customer) -> bool:
    return visible_customers(user).filter(pk=customer.pk).exists()


def can_write_customer(user: Viewer, customer: Customer | None = None) -> bool:
    if not user_can(user, Cap.CUSTOMER_WRITE):
        return False
    return customer is None or can_view_customer(user, customer)


def can_manage_personal_data(user: Viewer, customer: Customer) -> bool:
    """Copy or erase a contact's personal data (PIPL requests): people who maintain customers and see them all
    (admin, manager, product manager) — erasure is irreversible and reaches feedback and portal records."""
    return user_can(user, Cap.CUSTOMER_WRITE) and user_can(user, Cap.SEE_ALL) and can_view_customer(user, customer)
