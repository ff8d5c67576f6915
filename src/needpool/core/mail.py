"""Outbound mail, sent once: every mail the product sends is queued here under a key, then sent by a job.

``mail_queue`` stores an ``OutboundMail`` row (nothing when the key is already queued: a reminder run twice, a
retried job) and, after the surrounding transaction commits, queues ``core.tasks.mail_deliver`` for it. The
job sends through Django's mail backend (console by default, SMTP in production) and records the outcome; a
periodic job retries what is still pending. Callers render subject and body in the recipient's language.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.utils import timezone

from needpool.core.models import OutboundMail

MAX_ATTEMPTS = 5


def mail_queue(
    *,
    key: str,
    to: Iterable[str],
    subject: str,
    body: str,
    html: str = "",
    attachments: Sequence[dict[str, str]] = (),
) -> OutboundMail | None:
    """Queue one mail under ``key``; None when there is nobody to send to or the key was queued before."""
    recipients = sorted({address.strip() for address in to if address and address.strip()})
    if not recipients:
        return None
    mail, created = OutboundMail.objects.get_or_create(
        key=key[:200],
        defaults={
            "to": recipients,
            "subject": " ".join(subject.split())[:300],
            "body": body,
            "html": html,
            "attachments": list(attachments),
        },
    )
    if not created:
        return None
    from needpool.core.tasks import mail_deliver

    pk = mail.pk
    transaction.on_commit(lambda: mail_deliver(pk))
    return mail


def mail_send(mail_id: int) -> str:
    """Send one queued mail if it is still pending; returns its status afterwards (safe to run twice)."""
    with transaction.atomic():
        mail = OutboundMail.objects.select_for_update().filter(pk=mail_id).first()
        if mail is None or mail.status != OutboundMail.Status.PENDING:
            return mail.status if mail else ""
        message = EmailMultiAlternatives(
            subject=mail.subject, body=mail.body, from_email=settings.DEFAULT_FROM_EMAIL, to=list(mail.to)
        )
        if mail.html:
            message.attach_alternative(mail.html, "text/html")
        for item in mail.attachments or []:
            message.attach(item["filename"], item["content"], item.get("mimetype") or "text/plain")
        mail.attempts += 1
        try:
            message.send()
        except Exception as exc:  # any transport failure is recorded and retried later
            mail.error = str(exc)[:500]
            if mail.attempts >= MAX_ATTEMPTS:
                mail.status = OutboundMail.Status.FAILED
        else:
            mail.status, mail.sent_at, mail.error = OutboundMail.Status.SENT, timezone.now(), ""
        mail.save(update_fields=["status", "attempts", "error", "sent_at"])
        return str(mail.status)


def mail_send_pending(*, older_than_seconds: float = 60) -> int:
    """Send what is still pending (its job was lost or its transport failed); returns how many were sent."""
    cutoff = timezone.now() - dt.timedelta(seconds=older_than_seconds)
    ids = list(
        OutboundMail.objects.filter(status=OutboundMail.Status.PENDING, created_at__lte=cutoff).values_list(
            "pk", flat=True
        )[:500]
    )
    return sum(mail_send(pk) == OutboundMail.Status.SENT for pk in ids)


def addresses(users: Iterable[Any]) -> list[str]:
    return [u.email for u in users if getattr(u, "email", "") and getattr(u, "is_active", True)]
