"""Permission-scoped reads of customers, contacts and interactions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from dataclasses import field as dc_field
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When, Window
from django.db.models.functions import RowNumber
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from needpool.accounts.models import Viewer
from needpool.accounts.roles import Cap
from needpool.core.models import AuditEntry
from needpool.core.permissions import user_can
from needpool.customers.choices import DecisionRole, ValueTier
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


# ---------------------------------------------------------------- the customer profile beside a need

PROFILE_CUSTOMERS = 3  # customers shown in full; the rest are named under "更多"
PROFILE_MORE_NAMES = 20  # names listed under "更多" (the count says how many there are in all)
PROFILE_INTERACTIONS = 3  # the last interactions of each customer shown
PROFILE_NEEDS = 3  # the customer's other needs shown
PROFILE_CONTACTS = 3  # contacts (with their decision role) shown per customer

_TIER_RANK = Case(
    When(value_tier=ValueTier.HIGH, then=Value(0)),
    When(value_tier=ValueTier.MEDIUM, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)


@dataclass(frozen=True)
class CustomerNeed:
    """One of a customer's other needs, as the app that keeps them describes it."""

    id: int
    code: str
    title: str
    status: str
    url: str


# Given visible customer ids: for each, its newest other needs (at most PROFILE_NEEDS) and how many there are.
NeedsProvider = Callable[[Sequence[int]], dict[int, tuple[list[CustomerNeed], int]]]


@dataclass
class CustomerProfile:
    customer: Customer
    contacts: list[Contact] = dc_field(default_factory=list)
    interactions: list[Interaction] = dc_field(default_factory=list)
    needs: list[CustomerNeed] = dc_field(default_factory=list)
    needs_total: int = 0

    @property
    def needs_more(self) -> int:
        return max(self.needs_total - len(self.needs), 0)

    @property
    def purchase_wan(self) -> Decimal:
        """The yearly purchase in 万元 (ten thousand yuan), as Chinese readers count money."""
        return Decimal(self.customer.yearly_purchase or 0) / 10000


@dataclass
class ProfileSet:
    """The profiles shown in full (most valuable customers first) and the names of the others."""

    profiles: list[CustomerProfile] = dc_field(default_factory=list)
    more: list[Customer] = dc_field(default_factory=list)
    total: int = 0

    @property
    def more_count(self) -> int:
        return max(self.total - len(self.profiles), 0)

    @property
    def more_unlisted(self) -> int:
        return max(self.more_count - len(self.more), 0)

    def __bool__(self) -> bool:
        return bool(self.profiles)


def _pk(value: Any) -> int | None:
    pk = getattr(value, "pk", value)
    return pk if isinstance(pk, int) and not isinstance(pk, bool) else None


def customer_profiles(
    *,
    user: Viewer,
    customers: Iterable[Customer | int],
    contacts: Iterable[Contact | int] = (),
    needs: NeedsProvider | None = None,
    limit: int = PROFILE_CUSTOMERS,
) -> ProfileSet:
    """Profiles of the given customers that ``user`` may see: industry, size, yearly purchase, value tier,
    segment, the contacts involved (``contacts``; else the customer's decision makers) with their decision
    role, the last interactions and, through ``needs``, the customer's other needs.

    The most valuable ``limit`` customers are shown in full, the rest by name: a fixed number of queries
    however many customers are given (customers, count, contacts, interactions, plus what ``needs`` reads).
    """
    ids = {pk for value in customers if (pk := _pk(value)) is not None}
    if not ids:
        return ProfileSet()
    limit = max(1, limit)
    ordered = (
        visible_customers(user)
        .filter(pk__in=ids)
        .annotate(tier_rank=_TIER_RANK)
        .order_by("tier_rank", "-yearly_purchase", "name", "id")
    )
    rows: list[Customer] = list(ordered[: limit + PROFILE_MORE_NAMES])
    total = len(rows) if len(rows) < limit + PROFILE_MORE_NAMES else ordered.count()
    shown, more = rows[:limit], rows[limit:]
    if not shown:
        return ProfileSet()
    shown_ids = [c.pk for c in shown]
    involved = {pk for value in contacts if (pk := _pk(value)) is not None}
    people = Contact.objects.filter(customer_id__in=shown_ids).filter(
        Q(pk__in=involved) | Q(decision_role=DecisionRole.DECISION_MAKER)
    )
    by_customer: dict[int, list[Contact]] = {pk: [] for pk in shown_ids}
    for contact in people.order_by("customer_id", "id"):
        by_customer[contact.customer_id].append(contact)
    recent = (
        Interaction.objects.filter(customer_id__in=shown_ids)
        .annotate(
            nth=Window(
                RowNumber(),
                partition_by=[F("customer_id")],
                order_by=[F("occurred_at").desc(), F("id").desc()],
            )
        )
        .filter(nth__lte=PROFILE_INTERACTIONS)
        .select_related("contact")
        .order_by("customer_id", "-occurred_at", "-id")
    )
    interactions: dict[int, list[Interaction]] = {pk: [] for pk in shown_ids}
    for interaction in recent:
        interactions[interaction.customer_id].append(interaction)
    other = needs(shown_ids) if needs is not None else {}
    profiles = []
    for customer in shown:
        mine = by_customer[customer.pk]
        picked = [c for c in mine if c.pk in involved] or mine
        listed, count = other.get(customer.pk, ([], 0))
        profiles.append(
            CustomerProfile(
                customer=customer,
                contacts=picked[:PROFILE_CONTACTS],
                interactions=interactions[customer.pk],
                needs=listed[:PROFILE_NEEDS],
                needs_total=count,
            )
        )
    return ProfileSet(profiles=profiles, more=list(more), total=total)


def customer_profile(
    user: Viewer,
    customer: Customer | int,
    *,
    contacts: Iterable[Contact | int] = (),
    needs: NeedsProvider | None = None,
) -> CustomerProfile | None:
    """The profile of one customer, or None when ``user`` may not see it."""
    found = customer_profiles(user=user, customers=[customer], contacts=contacts, needs=needs, limit=1)
    return found.profiles[0] if found.profiles else None
