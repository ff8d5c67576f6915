"""Telling the people who asked for a requirement what became of it (rejected, launched, closed).

Who asked: every customer contact with an e-mail address behind the requirement's feedback, every portal
submitter who left an address (stored on the submission that owns the feedback), and the requirement's
watchers (staff, in-app). Each notice is a ``CustomerNotice`` row, unique per requirement + event + channel +
recipient, and each mail is queued under a key of the same parts: a job run twice sends nothing more.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_noop

from needpool.accounts.models import User
from needpool.core.mail import mail_queue
from needpool.core.models import OutboundMail
from needpool.loop.models import CustomerNotice, NoticeEvent
from needpool.loop.services.config import loop_settings, notice_template, site_link, template_render
from needpool.loop.services.privacy import requirement_customer_names, scrub_names
from needpool.notify.kinds import EventKind
from needpool.notify.services import emit
from needpool.requirements.choices import StatusCategory
from needpool.requirements.events import label, subject_of, teams_of
from needpool.requirements.models import Feedback, Requirement


@dataclass(frozen=True)
class Asker:
    """A customer-side person behind a requirement, reachable by mail."""

    email: str
    name: str
    customer_id: int | None
    contact_id: int | None


def event_for_move(*, target_key: str, target_category: str, source_category: str = "") -> str | None:
    """The notice event of a status move, or None when customers are not told about it.

    Into a rejected status → rejected; into 已关闭 (key ``closed``) → closed, unless it had been rejected before
    (that customer was told then); into any other done status (已上线) → launched.
    """
    if target_category == StatusCategory.REJECTED:
        return NoticeEvent.REJECTED
    if target_category == StatusCategory.DONE:
        if target_key == NoticeEvent.CLOSED:
            return None if source_category == StatusCategory.REJECTED else NoticeEvent.CLOSED
        return NoticeEvent.LAUNCHED
    return None


def _portal_submissions_known() -> bool:
    # Portal submissions keep the submitter's address on a row owned by the intake app (reverse name
    # ``submission``); without that app there are no portal submitters to tell.
    return any(getattr(f, "name", "") == "submission" for f in Feedback._meta.get_fields())


def requirement_askers(requirement_id: int) -> list[Asker]:
    """Everyone on the customer side who asked for the requirement and left an e-mail address (one per address)."""
    found: dict[str, Asker] = {}
    items = Feedback.objects.filter(requirement_id=requirement_id).select_related("contact").order_by("pk")
    for item in items:
        contact = item.contact
        if contact is not None and contact.email:
            email = contact.email.strip().lower()
            found.setdefault(email, Asker(email, contact.name, item.customer_id, contact.pk))
    if _portal_submissions_known():
        rows = (
            Feedback.objects.filter(requirement_id=requirement_id)
            .exclude(submission__contact_email="")
            .exclude(submission__contact_email__isnull=True)
            .values_list("submission__contact_email", "submission__contact_name", "customer_id", "contact_id")
            .order_by("pk")
        )
        for email, name, customer_id, contact_id in rows:
            address = str(email).strip().lower()
            found.setdefault(address, Asker(address, name or "", customer_id, contact_id))
    return list(found.values())


def contact_askers(requirement_id: int) -> list[Asker]:
    """The customer contacts (not anonymous portal addresses) behind a requirement, one per contact."""
    seen: dict[int, Asker] = {}
    for item in Feedback.objects.filter(requirement_id=requirement_id, contact__isnull=False).select_related("contact"):
        contact = item.contact
        assert contact is not None
        if contact.email and contact.pk not in seen:
            seen[contact.pk] = Asker(contact.email.strip().lower(), contact.name, contact.customer_id, contact.pk)
    return list(seen.values())


def _status_label(requirement: Requirement, event: str) -> str:
    """The status the event moved into: the requirement's own (custom) label while it is still there, else the
    event's name (it moved on before the job ran, e.g. launched and closed within a minute)."""
    current = requirement.status
    still_there = event_for_move(target_key=current.key, target_category=current.category) == event
    return str(current) if still_there else str(NoticeEvent(event).label)


def notice_values(requirement: Requirement, *, event: str, note: str) -> dict[str, str]:
    return {
        "code": requirement.code,
        "title": requirement.title,
        "status": _status_label(requirement, event),
        "note": note.strip(),
        "link": site_link(reverse("loop_public:changelog")),
    }


def customer_notices_send(
    *, requirement_id: int, event: str, note: str = "", actor_id: int | None = None, now: dt.datetime | None = None
) -> dict[str, int]:
    """Tell everyone who asked for the requirement about ``event``; safe to run twice (sends once).

    Returns counts: ``mail`` (queued now), ``in_app`` (watchers told now), ``already`` (told before).
    """
    now = now or timezone.now()
    counts = {"mail": 0, "in_app": 0, "already": 0}
    requirement = Requirement.objects.select_related("status").filter(pk=requirement_id).first()
    if requirement is None or event not in NoticeEvent.values:
        return counts
    with translation.override(settings.LANGUAGE_CODE):
        if loop_settings().notify_customers:
            subject_text, body_text = notice_template(event)
            for asker in requirement_askers(requirement.pk):
                # Another customer's name in the title or the note stays out of this customer's mail.
                names = requirement_customer_names(requirement.pk, keep_customer_id=asker.customer_id)
                values = {
                    k: scrub_names(v, names) for k, v in notice_values(requirement, event=event, note=note).items()
                }
                subject, body = template_render(subject_text, values), template_render(body_text, values)
                with transaction.atomic():
                    notice, created = CustomerNotice.objects.get_or_create(
                        requirement=requirement,
                        event=event,
                        channel=CustomerNotice.Channel.MAIL,
                        recipient=asker.email,
                        defaults={
                            "recipient_name": asker.name[:120],
                            "customer_id": asker.customer_id,
                            "contact_id": asker.contact_id,
                            "created_at": now,
                        },
                    )
                    if not created:
                        counts["already"] += 1
                        continue
                    mail = mail_queue(
                        key=f"loop:notice:{requirement.pk}:{event}:{asker.email}",
                        to=[asker.email],
                        subject=subject,
                        body=body,
                    )
                    notice.mail = mail
                    notice.save(update_fields=["mail"])
                    counts["mail"] += 1
        counts["in_app"] = _tell_watchers(requirement, event=event, actor_id=actor_id, now=now, counts=counts)
    return counts


def _tell_watchers(
    requirement: Requirement, *, event: str, actor_id: int | None, now: dt.datetime, counts: dict[str, int]
) -> int:
    watchers = [u for u in requirement.watchers.filter(is_active=True) if u.pk != actor_id]
    fresh: list[User] = []
    for user in watchers:
        _notice, created = CustomerNotice.objects.get_or_create(
            requirement=requirement,
            event=event,
            channel=CustomerNotice.Channel.IN_APP,
            recipient=str(user.pk),
            defaults={
                "recipient_name": (user.get_full_name() or user.username)[:120],
                "user": user,
                "status": CustomerNotice.Status.SENT,
                "created_at": now,
            },
        )
        if created:
            fresh.append(user)
        else:
            counts["already"] += 1
    if not fresh:
        return 0
    owner, event_key = requirement.owner, event
    people = hashlib.sha256(",".join(str(u.pk) for u in fresh).encode()).hexdigest()[:24]
    told_event = emit(
        kind=EventKind.CLOSE_LOOP,
        key=f"loop:watchers:{requirement.pk}:{event_key}:{people}",
        message=gettext_noop("%(code)s %(title)s：%(event)s，已通知提出需求的客户。"),
        params={"code": requirement.code, "title": requirement.title, "event": label(NoticeEvent(event_key).label)},
        url=reverse("requirements:detail", kwargs={"pk": requirement.pk}),
        actor=User.objects.filter(pk=actor_id).first() if actor_id else None,
        recipients=fresh,
        teams=teams_of(owner),
        subject=subject_of(requirement),
        data={"event": event_key},
    )
    told = told_event.recipients if told_event is not None else []
    return len(told)


def notices_sync_status() -> int:
    """Copy each queued notice's mail outcome onto it (sent / failed); returns how many changed."""
    changed = 0
    for status in (CustomerNotice.Status.SENT, CustomerNotice.Status.FAILED):
        changed += CustomerNotice.objects.filter(
            status=CustomerNotice.Status.QUEUED, channel=CustomerNotice.Channel.MAIL, mail__status=status
        ).update(status=status)
    return changed


def notices_catch_up(*, now: dt.datetime | None = None, days: int = 7) -> dict[str, int]:
    """Send the notices of recent moves whose job was lost (the listener's job normally sent them already)."""
    from needpool.requirements.models import StatusChange

    now = now or timezone.now()
    totals = {"mail": 0, "in_app": 0, "already": 0}
    moves = (
        StatusChange.objects.filter(
            at__gte=now - dt.timedelta(days=days),
            target__category__in=[StatusCategory.REJECTED, StatusCategory.DONE],
        )
        .select_related("source", "target")
        .order_by("pk")[:500]
    )
    for move in moves:
        event = event_for_move(
            target_key=move.target.key,
            target_category=move.target.category,
            source_category=move.source.category if move.source else "",
        )
        if event is None or CustomerNotice.objects.filter(requirement_id=move.requirement_id, event=event).exists():
            continue
        for key, value in customer_notices_send(
            requirement_id=move.requirement_id, event=event, note=move.note, actor_id=move.actor_id, now=now
        ).items():
            totals[key] += value
    return totals


def mail_status_of(notice: CustomerNotice) -> str:
    if notice.mail is not None and notice.mail.status != OutboundMail.Status.PENDING:
        return str(notice.mail.get_status_display())
    return str(notice.get_status_display())
