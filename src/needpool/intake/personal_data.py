"""Portal and channel submissions of a contact, for a copy of their personal data and for its erasure
(``customers.personal_data``).

A submission belongs to a contact when its feedback was linked to them (same customer, same work mail) or
when it carries the contact's work mail. Erasure clears the submitter's name, phone and mail on those
submissions, replaces the person's details in staff messages to them, and removes the tracking links sent
to their mail address (a link of one submission stays: it names nobody). Submissions and feedback stay.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from needpool.customers.models import Contact
from needpool.customers.personal_data import Person, PersonalDataHolder, plain, row, scrub_audit_rows
from needpool.intake.models import PortalMessage, Submission, TrackingLink

SUBMISSION_FIELDS = (
    "via",
    "customer_text",
    "contact_name",
    "contact_phone",
    "contact_email",
    "expected_date",
    "external_id",
    "language",
    "created_at",
)


def _submissions(contact: Contact) -> QuerySet[Submission]:
    scope = Q(feedback__contact=contact)
    if contact.email:
        scope |= Q(contact_email__iexact=contact.email)
    return Submission.objects.filter(scope).select_related("channel", "feedback").order_by("created_at", "id")


def submissions_about(contact: Contact) -> list[dict[str, Any]]:
    rows = []
    for submission in _submissions(contact).prefetch_related("messages", "attachments"):
        data = row(submission, SUBMISSION_FIELDS)
        data["channel"] = submission.channel.name
        data["description"] = submission.feedback.raw_text
        data["attachments"] = [attachment.name for attachment in submission.attachments.all()]
        data["messages"] = [
            {"body": message.body, "created_at": plain(message.created_at)} for message in submission.messages.all()
        ]
        rows.append(data)
    return rows


def submissions_erase(contact: Contact, person: Person) -> int:
    submissions = list(_submissions(contact).select_for_update(of=("self",)))
    ids = [submission.pk for submission in submissions]
    changed = Submission.objects.filter(pk__in=ids).update(contact_name="", contact_phone="", contact_email="")
    for message in PortalMessage.objects.filter(submission_id__in=ids).select_for_update():
        body = person.scrub(message.body)
        if body != message.body:
            PortalMessage.objects.filter(pk=message.pk).update(body=body)
    if person.email:
        TrackingLink.objects.filter(email__iexact=person.email).delete()
    scrub_audit_rows(person, Submission, ids)  # staff messages are audited with their words
    return changed


HOLDER = PersonalDataHolder(key="portal_submissions", export=submissions_about, erase=submissions_erase)
