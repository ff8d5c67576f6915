"""Feedback about a contact, for a copy of their personal data and for its erasure (``customers.personal_data``).

A feedback item names the contact it came from (``Feedback.contact``); its words may also name the person
when they came in through the customer. Erasure replaces the person's name, phone and mail in the words of
the customer's feedback (and the contact's, wherever filed); rows, links and counts stay.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from needpool.customers.models import Contact
from needpool.customers.personal_data import Person, PersonalDataHolder, row
from needpool.requirements.models import Feedback

FEEDBACK_FIELDS = ("channel", "raw_text", "received_at", "sentiment", "importance")


def feedback_about(contact: Contact) -> list[dict[str, Any]]:
    rows = []
    for item in Feedback.objects.filter(contact=contact).select_related("requirement").order_by("received_at", "id"):
        data = row(item, FEEDBACK_FIELDS)
        data["requirement"] = item.requirement.code if item.requirement else None
        rows.append(data)
    return rows


def feedback_erase(contact: Contact, person: Person) -> int:
    changed = 0
    scope = Q(contact=contact) | Q(customer_id=contact.customer_id)
    for item in Feedback.objects.filter(scope).select_for_update().only("id", "raw_text"):
        scrubbed = person.scrub(item.raw_text)
        if scrubbed != item.raw_text:
            Feedback.objects.filter(pk=item.pk).update(raw_text=scrubbed)
            changed += 1
    return changed


HOLDER = PersonalDataHolder(key="feedback", export=feedback_about, erase=feedback_erase)
