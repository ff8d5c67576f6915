"""Emit events and deliver them: the one way every app tells people something.

``emit`` runs inside the caller's transaction: it stores the event (once per ``key``), writes the in-app
notices of the recipients who want them and, after commit, queues ``tasks.event_dispatch``, which creates one
``Delivery`` per target (the recipients' mail / IM per their preferences, plus whatever the registered target
sources add: team bots, webhooks) and sends each in its own job. A failed send is retried with exponential
backoff up to ``MAX_ATTEMPTS``; every outcome is kept on the delivery row.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from needpool.core.models import Notification
from needpool.notify.kinds import Channel, default_channels
from needpool.notify.models import Delivery, Event, Preference
from needpool.notify.registry import SendError, SendResult, sender_for, target_sources

MAX_ATTEMPTS = 8
BACKOFF_BASE_SECONDS = 30
BACKOFF_MAX_SECONDS = 6 * 3600


def render(event: Event, language: str | None = None) -> str:
    """The event's sentence in ``language`` (the site's default when None)."""
    with translation.override(language or None):
        text = gettext(event.message)
        try:
            return text % event.params if event.params else text
        except (KeyError, TypeError, ValueError):
            return event.message


def user_language(user: Any) -> str | None:
    return getattr(user, "language", "") or None


def channels_for(user: Any, kind: str) -> set[str]:
    """The channels ``user`` hears ``kind`` on: their choice, else the default."""
    row = Preference.objects.filter(user=user.pk, kind=kind).values_list("channels", flat=True).first()
    return set(row if row is not None else default_channels(kind))


def _channels_by_user(user_ids: Iterable[int], kind: str) -> dict[int, set[str]]:
    ids = list(user_ids)
    chosen = dict(Preference.objects.filter(user__in=ids, kind=kind).values_list("user_id", "channels"))
    default = set(default_channels(kind))
    return {pk: set(chosen[pk]) if pk in chosen else default for pk in ids}


def emit(
    *,
    kind: str,
    key: str,
    message: str,
    params: Mapping[str, Any] | None = None,
    url: str = "",
    actor: Any = None,
    recipients: Iterable[Any] = (),
    teams: Iterable[Any] = (),
    subject: Mapping[str, Any] | None = None,
    data: Mapping[str, Any] | None = None,
) -> Event | None:
    """Record that ``kind`` happened and tell who should hear of it; None when ``key`` was emitted before.

    ``message`` is a gettext msgid (mark it with ``gettext_noop``) with ``%(name)s`` placeholders filled from
    ``params``; ``recipients`` are users (None entries, the actor and inactive users are left out); ``teams``
    are teams or team ids whose chat routes may carry the event.
    """
    from django.contrib.auth import get_user_model

    actor_id = getattr(actor, "pk", None)
    wanted: dict[int, Any] = {}
    for user in recipients:
        if user is not None and user.pk != actor_id and getattr(user, "is_active", True):
            wanted.setdefault(user.pk, user)
    if wanted:
        active = set(get_user_model().objects.filter(pk__in=list(wanted), is_active=True).values_list("pk", flat=True))
        wanted = {pk: user for pk, user in wanted.items() if pk in active}
    team_ids = sorted({getattr(t, "pk", t) for t in teams if t is not None})
    try:
        with transaction.atomic():
            event = Event.objects.create(
                key=key[:200],
                kind=kind,
                message=str(message)[:500],
                params=dict(params or {}),
                url=url[:300],
                actor_id=actor_id,
                recipients=sorted(wanted),
                teams=team_ids,
                subject=dict(subject or {}),
                data=dict(data or {}),
            )
    except IntegrityError:
        return None  # this occurrence was emitted before: nobody hears of it twice
    channels = _channels_by_user(wanted, kind)
    inbox = [pk for pk in sorted(wanted) if Channel.INAPP in channels[pk]]
    if inbox:
        Notification.objects.bulk_create(
            Notification(
                recipient_id=pk,
                kind=kind,
                text=render(event, user_language(wanted[pk]))[:500],
                url=event.url,
                actor_id=actor_id,
            )
            for pk in inbox
        )
    from needpool.notify.tasks import event_dispatch

    pk = event.pk
    transaction.on_commit(lambda: event_dispatch(pk))
    return event


def event_targets(event: Event) -> list[str]:
    """Every target of ``event`` beyond the in-app inbox, in a stable order."""
    targets: list[str] = []
    channels = _channels_by_user(event.recipients, event.kind)
    for pk in event.recipients:
        if Channel.MAIL in channels[pk]:
            targets.append(f"mail:{pk}")
        if Channel.IM in channels[pk]:
            targets.append(f"im:{pk}")
    for source in target_sources():
        targets.extend(source(event))
    return list(dict.fromkeys(targets))


def event_dispatch_now(event_id: int) -> list[int]:
    """Create the event's deliveries (once per target, safe to run twice); returns the new pending ids."""
    event = Event.objects.filter(pk=event_id).first()
    if event is None:
        return []
    created: list[int] = []
    for target in event_targets(event):
        delivery, made = Delivery.objects.get_or_create(event=event, target=target[:60])
        if made:
            created.append(delivery.pk)
    return created


def backoff_seconds(attempts: int) -> float:
    """Wait before attempt ``attempts + 1``: 30 s, 1 min, 2 min, … up to 6 h."""
    return float(min(BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_MAX_SECONDS))


def delivery_send(delivery_id: int, *, force: bool = False) -> str:
    """Send one delivery if it is pending and due (``force``: now, as the resend button does); returns its status.

    The row is claimed under a lock, so two workers never send it twice; the send itself runs outside the
    transaction (a slow webhook must not hold the database).
    """
    now = timezone.now()
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().filter(pk=delivery_id).first()
        if delivery is None:
            return ""
        if delivery.status != Delivery.Status.PENDING:
            return str(delivery.status)
        if not force and delivery.next_attempt_at and delivery.next_attempt_at > now:
            return str(delivery.status)
        delivery.attempts += 1
        # Claimed: another worker that looks now sees it not due until the send would have timed out.
        delivery.next_attempt_at = now + dt.timedelta(seconds=120)
        delivery.save(update_fields=["attempts", "next_attempt_at"])
    sender = sender_for(delivery.target_kind)
    started = time.monotonic()
    result: SendResult | None = None
    error: SendError | Exception | None = None
    try:
        if sender is None:
            result = SendResult(skipped=True, response_excerpt=f"no sender for {delivery.target_kind}")
        else:
            result = sender(delivery)
    except Exception as exc:  # any failure of a send is recorded and retried
        error = exc
    latency = int((time.monotonic() - started) * 1000)
    fields: dict[str, Any] = {"latency_ms": latency}
    if error is None and result is not None:
        fields.update(
            status=Delivery.Status.SKIPPED if result.skipped else Delivery.Status.SENT,
            sent_at=None if result.skipped else timezone.now(),
            response_status=result.response_status,
            response_excerpt=result.response_excerpt[:500],
            error="",
            next_attempt_at=None,
        )
    else:
        fields.update(
            error=str(error)[:500] or error.__class__.__name__,
            response_status=getattr(error, "response_status", None),
            response_excerpt=str(getattr(error, "response_excerpt", ""))[:500],
        )
        if delivery.attempts >= MAX_ATTEMPTS:
            fields.update(status=Delivery.Status.FAILED, next_attempt_at=None)
        else:
            fields.update(next_attempt_at=timezone.now() + dt.timedelta(seconds=backoff_seconds(delivery.attempts)))
    Delivery.objects.filter(pk=delivery.pk).update(**fields)
    return str(fields.get("status", Delivery.Status.PENDING))


def deliveries_due(*, limit: int = 500) -> list[int]:
    """Pending deliveries whose time has come (retries, and sends whose job was lost)."""
    now = timezone.now()
    stale = now - dt.timedelta(seconds=60)
    from django.db.models import Q

    return list(
        Delivery.objects.filter(status=Delivery.Status.PENDING)
        .filter(Q(next_attempt_at__lte=now) | Q(next_attempt_at__isnull=True, created_at__lte=stale))
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def delivery_resend(*, delivery: Delivery) -> Delivery:
    """Send a delivery again now (the resend button): a sent or failed one becomes a new attempt."""
    Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.PENDING, next_attempt_at=None)
    delivery_send(delivery.pk, force=True)
    delivery.refresh_from_db()
    return delivery
