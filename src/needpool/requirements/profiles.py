"""The customer profile beside a requirement (detail page) and beside a feedback item (triage).

The customers app reads the profile (``customers.selectors.customer_profiles``); the pool adds each
customer's other needs, as the viewer may see them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.urls import reverse

from needpool.accounts.models import Viewer
from needpool.customers.models import Contact, Customer
from needpool.customers.selectors import PROFILE_NEEDS, CustomerNeed, NeedsProvider, ProfileSet, customer_profiles
from needpool.requirements.models import Feedback, Requirement, WorkflowStatus
from needpool.requirements.permissions import visible_through


def other_needs(user: Viewer, *, exclude: int | None = None) -> NeedsProvider:
    """A needs provider: each customer's newest other requirements ``user`` may see (merged ones left out),
    in one query whatever the number of customers."""

    def provide(customer_ids: Sequence[int]) -> dict[int, tuple[list[CustomerNeed], int]]:
        links = Feedback.objects.filter(visible_through(user), requirement__merged_into__isnull=True).filter(
            customer_id__in=list(customer_ids)
        )
        if exclude is not None:
            links = links.exclude(requirement_id=exclude)
        rows = (
            links.values_list(
                "customer_id",
                "requirement_id",
                "requirement__code",
                "requirement__title",
                "requirement__status__label",
                "requirement__status__label_en",
                "requirement__submitted_at",
            )
            .order_by("customer_id", "-requirement__submitted_at", "-requirement_id")
            .distinct()
        )
        listed: dict[int, list[CustomerNeed]] = {}
        totals: dict[int, int] = {}
        seen: set[tuple[int, int]] = set()
        for customer_id, pk, code, title, label, label_en, _at in rows:
            if (customer_id, pk) in seen:
                continue
            seen.add((customer_id, pk))
            totals[customer_id] = totals.get(customer_id, 0) + 1
            mine = listed.setdefault(customer_id, [])
            if len(mine) < PROFILE_NEEDS:
                status = str(WorkflowStatus(label=label, label_en=label_en))
                url = reverse("requirements:detail", args=[pk])
                mine.append(CustomerNeed(id=pk, code=code, title=title, status=status, url=url))
        out = {customer_id: (listed[customer_id], total) for customer_id, total in totals.items()}
        return out

    return provide


def requirement_profiles(
    *, user: Viewer, requirement: Requirement, evidence: Iterable[Feedback] | None = None
) -> ProfileSet:
    """The profiles of the customers behind ``requirement`` (from its evidence the viewer may see)."""
    items = list(evidence if evidence is not None else requirement.feedback_items.all())
    customers: list[int] = []
    for item in items:
        if item.customer_id and item.customer_id not in customers:
            customers.append(item.customer_id)
    contacts = [item.contact_id for item in items if item.contact_id]
    return customer_profiles(
        user=user, customers=customers, contacts=contacts, needs=other_needs(user, exclude=requirement.pk)
    )


def feedback_profile(*, user: Viewer, feedback: Feedback) -> ProfileSet:
    """The profile of the customer who gave ``feedback`` (none when it has no customer)."""
    customer: list[Customer | int] = [feedback.customer_id] if feedback.customer_id else []
    contacts: list[Contact | int] = [feedback.contact_id] if feedback.contact_id else []
    return customer_profiles(
        user=user, customers=customer, contacts=contacts, needs=other_needs(user, exclude=feedback.requirement_id)
    )
