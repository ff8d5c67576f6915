"""Permission-scoped reads of customers, contacts and interactions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from needpool.accounts.models import Viewer
from needpool.accounts.roles import Cap
from needpool.core.models import AuditEntry
from needpool.core.permissions import user_can
from needpool.customers.models import Contact, Customer, Interaction
from needpool.customers.permissions import can_manage_personal_data, visible_customers
from needpool.customers.personal_data import personal_data_holders, row


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


def follow_ups_due(
    *, user: Viewer, within_days: int = 7, limit: int = 20, today: dt.date | None = None
) -> QuerySet[Customer]:
    """Customers whose next follow-up is due within ``within_days`` of ``today`` (overdue first): the user's
    own; every visible one for users who see all customers."""
    horizon = (today or timezone.localdate()) + dt.timedelta(days=max(0, within_days))
    qs = visible_customers(user).filter(next_follow_up__isnull=False, next_follow_up__lte=horizon)
    if not user_can(user, Cap.SEE_ALL):
        qs = qs.filter(owner=user.pk if user else None)
    return qs.select_related("owner").order_by("next_follow_up", "id")[:limit]


def contact_erasure_entry(contact: Contact) -> AuditEntry | None:
    """The audit row that records a contact's erasure (who, when, why), or None while it was never erased."""
    return (
        AuditEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Contact),
            object_id=contact.pk,
            action=AuditEntry.Action.DELETE,
        )
        .select_related("actor")
        .first()
    )


PERSONAL_CONTACT_FIELDS = ("name", "title", "phone", "email", "decision_role", "created_at", "updated_at")
PERSONAL_INTERACTION_FIELDS = (
    "occurred_at",
    "channel",
    "participants",
    "key_content",
    "mood",
    "key_asks",
    "next_follow_up_plan",
    "next_follow_up_date",
    "created_at",
)


def contact_personal_data(*, user: Viewer, pk: Any) -> dict[str, Any]:
    """A copy of everything kept about one contact (个人信息副本): the contact, the interactions where they
    were the contact, and the rows other apps registered (feedback, portal submissions). 404 when the contact
    is not visible, PermissionDenied when the user may not handle personal data requests."""
    contact = contact_get(user=user, pk=pk)
    if not can_manage_personal_data(user, contact.customer):
        raise PermissionDenied(_("只有管理员或经理可以导出或删除联系人的个人信息。"))
    erased = contact_erasure_entry(contact)
    copy: dict[str, Any] = {
        "title": _("个人信息副本"),
        "exported_at": timezone.now().isoformat(),
        "contact": {
            **row(contact, PERSONAL_CONTACT_FIELDS),
            "customer": {"id": contact.customer_id, "code": contact.customer.code, "name": contact.customer.name},
        },
        "erased": {"at": erased.at.isoformat(), "by": str(erased.actor or "")} if erased else None,
        "interactions": [
            row(interaction, PERSONAL_INTERACTION_FIELDS)
            for interaction in Interaction.objects.filter(contact=contact).order_by("occurred_at", "id")
        ],
    }
    for holder in personal_data_holders():
        copy[holder.key] = holder.export(contact)
    return copy
