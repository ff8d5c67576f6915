"""A contact's notices and survey answers, for a copy of their personal data and for its erasure
(``customers.personal_data``).

Erasure keeps the counts (a notice was sent, a score was given) and removes the person: the notice's mail
address and name, the invitation's address, the person's details in their comment; an invitation not yet
answered expires at once, so nothing more reaches them through it.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from needpool.core.models import OutboundMail
from needpool.customers.models import Contact
from needpool.customers.personal_data import Person, PersonalDataHolder, row
from needpool.loop.models import CustomerNotice, SurveyInvitation

NOTICE_FIELDS = ("event", "channel", "recipient", "recipient_name", "status", "created_at")
INVITATION_FIELDS = ("kind", "email", "created_at", "expires_at", "score", "comment", "answered_at")


def _notices(contact: Contact) -> QuerySet[CustomerNotice]:
    scope = Q(contact=contact)
    if contact.email:
        scope |= Q(channel=CustomerNotice.Channel.MAIL, recipient__iexact=contact.email)
    return CustomerNotice.objects.filter(scope).select_related("requirement").order_by("created_at", "id")


def _invitations(contact: Contact) -> QuerySet[SurveyInvitation]:
    scope = Q(contact=contact)
    if contact.email:
        scope |= Q(email__iexact=contact.email)
    return SurveyInvitation.objects.filter(scope).select_related("requirement", "campaign").order_by("created_at", "id")


def loop_data_about(contact: Contact) -> list[dict[str, Any]]:
    rows = []
    for notice in _notices(contact):
        data = row(notice, NOTICE_FIELDS)
        data["requirement"] = notice.requirement.code
        rows.append(data)
    for invitation in _invitations(contact):
        data = row(invitation, INVITATION_FIELDS)
        data["requirement"] = invitation.requirement.code if invitation.requirement else None
        data["campaign"] = invitation.campaign.name if invitation.campaign else None
        rows.append(data)
    return rows


def loop_data_erase(contact: Contact, person: Person) -> int:
    changed = 0
    # The mails that went to the contact keep no trace of the address (their key named it too) nor the words.
    mail_ids = {pk for pk in _notices(contact).values_list("mail_id", flat=True) if pk} | {
        pk for pk in _invitations(contact).values_list("mail_id", flat=True) if pk
    }
    for mail in OutboundMail.objects.select_for_update().filter(pk__in=mail_ids):
        OutboundMail.objects.filter(pk=mail.pk).update(
            key=f"erased:{mail.pk}",
            to=[],
            subject=person.scrub(mail.subject),
            body=person.scrub(mail.body),
            html=person.scrub(mail.html),
            attachments=[],
        )
        changed += 1
    for notice in _notices(contact).select_for_update(of=("self",)):
        CustomerNotice.objects.filter(pk=notice.pk).update(
            recipient=f"erased:{notice.pk}", recipient_name=person.replacement, contact=None
        )
        changed += 1
    now = timezone.now()
    for invitation in _invitations(contact).select_for_update(of=("self",)):
        SurveyInvitation.objects.filter(pk=invitation.pk).update(
            email="",
            comment=person.scrub(invitation.comment),
            expires_at=min(invitation.expires_at, now) if invitation.answered_at is None else invitation.expires_at,
        )
        changed += 1
    return changed


HOLDER = PersonalDataHolder(key="loop", export=loop_data_about, erase=loop_data_erase)
