"""Permission-scoped reads of customers, contacts and interactions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from needpool.accounts.models import Viewer
from needpool.accounts.roles import Cap
from needpool.core.permissions import user_can
from needpool.customers.models import Contact, Customer, Interaction
from needpool.customers.permissions import visible_customers


def customer_list(*, user: Viewer, **filters: Any) -> QuerySet[Customer]:
    """The visible customers, filtered and sorted by ``CustomerFilter`` (q, segment, value_tier, industry,
    owner, sort): the same rules as the list page and the API. Invalid values are ignored here; the API
    refuses them (400) through the same FilterSet."""
    from needpool.customers.filters import DEFAULT_SORT, CustomerFilter

    qs = visible_customers(user).select_related("owner").order_by(DEFAULT_SORT, "-id")
    data = {name: value for name, value in filters.items() if value not in ("", None)}
    if not data:
        return qs
    filterset = CustomerFilter(data, queryset=qs)
    filterset.is_valid()
    for name in list(filterset.form.errors):
        data.pop(name, None)
    filtered: QuerySet[Customer] = CustomerFilter(data, queryset=qs).qs
    return filtered


def customer_get(*, user: Viewer, pk: Any) -> Customer:
    try:
        return visible_customers(user).select_related("owner").get(pk=pk)
    except (Customer.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def customer_contacts(customer: Customer) -> QuerySet[Contact]:
    return customer.contacts.order_by("id")


def customer_interactions(customer: Customer, limit: int = 50) -> QuerySet[Interaction]:
    return (
        customer.interactions.select_related("contact", "recorded_by")
        .prefetch_related("feedback")
        .order_by("-occurred_at", "-id")[:limit]
    )


def contact_list(*, user: Viewer) -> QuerySet[Contact]:
    return Contact.objects.filter(customer__in=visible_customers(user)).select_related("customer").order_by("-id")


def contact_get(*, user: Viewer, pk: Any) -> Contact:
    try:
        return contact_list(user=user).get(pk=pk)
    except (Contact.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def interaction_list(*, user: Viewer) -> QuerySet[Interaction]:
    return (
        Interaction.objects.filter(customer__in=visible_customers(user))
        .select_related("customer", "contact", "recorded_by")
        .order_by("-occurred_at", "-id")
    )


def interaction_get(*, user: Viewer, pk: Any) -> Interaction:
    try:
        return interaction_list(user=user).get(pk=pk)
    except (Interaction.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def follow_ups_due(*, user: Viewer, within_days: int = 7, limit: int = 20) -> QuerySet[Customer]:
    """Customers whose next follow-up is due within ``within_days`` (overdue first)."""
    horizon = timezone.localdate() + dt.timedelta(days=within_days)
    qs = visible_customers(user).filter(next_follow_up__isnull=False, next_follow_up__lte=horizon)
    if not user_can(user, Cap.SEE_ALL):
        qs = qs.filter(owner=user.pk if user else None)
    return qs.select_related("owner").order_by("next_follow_up", "id")[:limit]
