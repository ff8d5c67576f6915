"""Tell staff users something: an in-app notice and, when a mail subject is given, a mail (core.mail).

One call for every app until the notification layer with per-user preferences arrives (in-app, mail, IM,
digest): the person who made the change is never told about it, nobody is told twice in one call.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from needpool.core.links import absolute
from needpool.core.mail import mail_queue
from needpool.core.models import Notification


def notify(
    *,
    recipients: Iterable[Any],
    kind: str,
    text: str,
    url: str = "",
    actor: Any = None,
    mail_subject: str = "",
    mail_body: str = "",
    key: str = "",
) -> list[Any]:
    """Notify ``recipients`` (users; None entries and ``actor`` skipped); returns who was notified.

    With ``mail_subject`` each recipient with an address also gets a mail, queued under ``key`` + their id
    so a repeated call (a reminder job run twice) sends nothing more.
    """
    actor_id = getattr(actor, "pk", None)
    people: dict[int, Any] = {}
    for user in recipients:
        if user is not None and user.pk != actor_id and getattr(user, "is_active", True):
            people.setdefault(user.pk, user)
    if not people:
        return []
    Notification.objects.bulk_create(
        Notification(recipient_id=pk, kind=kind, text=text[:500], url=url[:300], actor_id=actor_id) for pk in people
    )
    if mail_subject:
        for user in people.values():
            if user.email:
                mail_queue(
                    key=f"{key}:{user.pk}" if key else f"{kind}:{uuid.uuid4().hex}:{user.pk}",
                    to=[user.email],
                    subject=mail_subject,
                    body=(mail_body or text) + (f"\n\n{absolute(url)}" if url else ""),
                )
    return list(people.values())
