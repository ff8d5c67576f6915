"""Mails of a contact, for a copy of their personal data and for its erasure (``customers.personal_data``).

A mail belongs to a contact when the feedback it became (or was threaded to) is linked to them, or when it
came from their work mail. Erasure clears the sender address and replaces the person's name, mail and
phone in the subject and the text; the rows, their feedback and their files stay.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from needpool.customers.models import Contact
from needpool.customers.personal_data import Person, PersonalDataHolder, plain
from needpool.intake.mailin.models import InboundMail

MAIL_FIELDS = ("from_address", "subject", "body", "received_at", "status", "message_id")


def _mails(contact: Contact) -> QuerySet[InboundMail]:
    scope = Q(feedback__contact=contact) | Q(thread_feedback__contact=contact)
    if contact.email:
        scope |= Q(from_address__iexact=contact.email)
    return InboundMail.objects.filter(scope).select_related("source").order_by("received_at", "id")


def mails_about(contact: Contact) -> list[dict[str, Any]]:
    rows = []
    for mail in _mails(contact).prefetch_related("attachments")[:1000]:
        data = {name: plain(getattr(mail, name)) for name in MAIL_FIELDS}
        data["mailbox"] = mail.source.name
        data["attachments"] = [attachment.name for attachment in mail.attachments.all()]
        rows.append(data)
    return rows


def mails_erase(contact: Contact, person: Person) -> int:
    changed = 0
    for mail in _mails(contact).select_for_update(of=("self",)):
        fields = person.scrub_fields(mail, ("subject", "body"))
        if mail.from_address and person.email and mail.from_address.lower() == person.email.lower():
            mail.from_address = ""
            fields.append("from_address")
        if fields:
            mail.save(update_fields=fields)
            changed += 1
    return changed


HOLDER = PersonalDataHolder(key="inbound_mails", export=mails_about, erase=mails_erase)
