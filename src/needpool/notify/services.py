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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext as _

from needpool.accounts.roles import Cap
from needpool.core.audit import audit_record
from needpool.core.bulk import create_many
from needpool.core.models import AuditEntry, Notification
from needpool.core.permissions import is_admin
from needpool.notify.kinds import Channel, EventKind, default_channels
from needpool.notify.models import Delivery, DigestRun, Event, Preference
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
    """The channels ``user`` hears ``kind`` on: their choice, else their role's default."""
    row = Preference.objects.filter(user=user.pk, kind=kind).values_list("channels", flat=True).first()
    return set(row if row is not None else default_channels(kind, getattr(user, "role", None)))


def _channels_by_user(roles: Mapping[int, str], kind: str) -> dict[int, set[str]]:
    """Each user's channels for ``kind`` (``roles``: user id → role, for the defaults); one query."""
    ids = list(roles)
    chosen = dict(Preference.objects.filter(user__in=ids, kind=kind).values_list("user_id", "channels"))
    return {pk: set(chosen[pk]) if pk in chosen else set(default_channels(kind, roles[pk])) for pk in ids}


@dataclass(frozen=True)
class Emission:
    """One occurrence to tell (``emit``'s arguments), for ``emit_many``."""

    kind: str
    key: str
    message: str
    params: Mapping[str, Any] | None = None
    url: str = ""
    actor: Any = None
    recipients: Sequence[Any] = ()
    teams: Sequence[Any] = ()
    subject: Mapping[str, Any] | None = None
    data: Mapping[str, Any] | None = None
    mailed: Sequence[Any] = ()

    @property
    def actor_id(self) -> int | None:
        return getattr(self.actor, "pk", None)

    def candidates(self) -> dict[int, Any]:
        """The recipients who may hear of it before the activity check: not None, not the actor, not inactive."""
        wanted: dict[int, Any] = {}
        for user in self.recipients:
            if user is not None and user.pk != self.actor_id and getattr(user, "is_active", True):
                wanted.setdefault(user.pk, user)
        return wanted

    def event(self, wanted: Mapping[int, Any]) -> Event:
        """The unsaved event row, told to ``wanted`` (the active recipients)."""
        return Event(
            key=self.key[:200],
            kind=self.kind,
            message=str(self.message)[:500],
            params=dict(self.params or {}),
            url=self.url[:300],
            actor_id=self.actor_id,
            recipients=sorted(wanted),
            mailed=sorted({getattr(u, "pk", u) for u in self.mailed} & set(wanted)),
            teams=sorted({getattr(t, "pk", t) for t in self.teams if t is not None}),
            subject=dict(self.subject or {}),
            data=dict(self.data or {}),
        )


def _active_roles(ids: Iterable[int]) -> dict[int, str]:
    from django.contrib.auth import get_user_model

    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return {}
    return dict(get_user_model().objects.filter(pk__in=wanted, is_active=True).values_list("pk", "role"))


def _notices(event: Event, wanted: Mapping[int, Any], channels: Mapping[int, set[str]]) -> list[Notification]:
    """The in-app notices of ``event``: one per recipient who hears its kind in the app, in recipient order."""
    return [
        Notification(
            recipient_id=pk,
            kind=event.kind,
            text=render(event, user_language(wanted[pk]))[:500],
            url=event.url,
            actor_id=event.actor_id,
        )
        for pk in sorted(wanted)
        if Channel.INAPP in channels[pk]
    ]


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
    mailed: Iterable[Any] = (),
) -> Event | None:
    """Record that ``kind`` happened and tell who should hear of it; None when ``key`` was emitted before.

    ``message`` is a gettext msgid (mark it with ``gettext_noop``) with ``%(name)s`` placeholders filled from
    ``params``; ``recipients`` are users (None entries, the actor and inactive users are left out); ``teams``
    are teams or team ids whose chat routes may carry the event. ``mailed`` are recipients (users or ids) told
    of this occurrence by a mail of its own (a calendar invitation): they get no second mail of it.
    """
    return emit_one(
        Emission(
            kind=kind,
            key=key,
            message=message,
            params=params,
            url=url,
            actor=actor,
            recipients=tuple(recipients),
            teams=tuple(teams),
            subject=subject,
            data=data,
            mailed=tuple(mailed),
        )
    )


def emit_one(item: Emission) -> Event | None:
    """``emit`` of an ``Emission``."""
    wanted = item.candidates()
    roles = _active_roles(wanted)
    wanted = {pk: user for pk, user in wanted.items() if pk in roles}
    try:
        with transaction.atomic():
            event = item.event(wanted)
            event.save(force_insert=True)
    except IntegrityError:
        return None  # this occurrence was emitted before: nobody hears of it twice
    notices = _notices(event, wanted, _channels_by_user({pk: roles[pk] for pk in wanted}, item.kind))
    if notices:
        Notification.objects.bulk_create(notices)
    from needpool.notify.tasks import event_dispatch

    pk = event.pk
    transaction.on_commit(lambda: event_dispatch(pk))
    return event


#: Keys looked up, events and notices written, per statement in ``emit_many``.
EMIT_BATCH = 2000
#: Events dispatched per job after an ``emit_many``.
DISPATCH_BATCH = 500


def emit_many(items: Sequence[Emission]) -> list[Event | None]:
    """``emit`` for many occurrences at once (a recompute that changes thousands of priorities, a batch of SLA
    breaches): the same events, notices and deliveries as calling ``emit`` for each in turn, in a few statements
    instead of five per occurrence, and one job after commit that dispatches them all. Each item's event, or None
    where its key was emitted before (also earlier in ``items``)."""
    if len(items) <= 1:
        return [emit_one(item) for item in items]  # one occurrence: ``emit``'s statements are fewer
    candidates = [item.candidates() for item in items]
    roles = _active_roles(pk for wanted in candidates for pk in wanted)
    keys = [item.key[:200] for item in items]
    taken: set[str] = set()
    for start in range(0, len(keys), EMIT_BATCH):
        taken.update(Event.objects.filter(key__in=keys[start : start + EMIT_BATCH]).values_list("key", flat=True))
    fresh: list[int] = []
    for position, key in enumerate(keys):
        if key not in taken:
            taken.add(key)
            fresh.append(position)
    told = {p: {pk: u for pk, u in candidates[p].items() if pk in roles} for p in fresh}
    events = {p: items[p].event(told[p]) for p in fresh}
    try:
        with transaction.atomic():
            create_many(Event, list(events.values()), batch_size=EMIT_BATCH)
    except IntegrityError:  # one of the keys was emitted meanwhile by someone else: one at a time, as ``emit``
        return [emit_one(item) for item in items]
    channels: dict[str, dict[int, set[str]]] = {}
    for kind in dict.fromkeys(items[p].kind for p in fresh):
        heard = {pk for p in fresh if items[p].kind == kind for pk in told[p]}
        channels[kind] = _channels_by_user({pk: roles[pk] for pk in heard}, kind)
    notices = [n for p in fresh for n in _notices(events[p], told[p], channels[items[p].kind])]
    if notices:
        create_many(Notification, notices, batch_size=EMIT_BATCH)
    from needpool.notify.tasks import event_dispatch_many

    pks = [events[p].pk for p in fresh]
    if pks:
        # A job per DISPATCH_BATCH events: a recompute that tells 100,000 owners is not one job of many minutes.
        transaction.on_commit(
            lambda: [event_dispatch_many(pks[i : i + DISPATCH_BATCH]) for i in range(0, len(pks), DISPATCH_BATCH)]
        )
    return [events.get(p) for p in range(len(items))]


def event_targets(event: Event) -> list[str]:
    """Every target of ``event`` beyond the in-app inbox, in a stable order."""
    targets: list[str] = []
    from django.contrib.auth import get_user_model

    roles = dict(
        get_user_model().objects.filter(pk__in=list(event.recipients), is_active=True).values_list("pk", "role")
    )
    channels = _channels_by_user(roles, event.kind)
    mailed = set(event.mailed or [])
    for pk in event.recipients:
        if pk not in channels:  # no longer active: nothing to send
            continue
        if Channel.MAIL in channels[pk] and pk not in mailed:
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


def _retry_fields(attempts: int, failed_status: str) -> dict[str, Any]:
    """After a failed attempt: the next try after the backoff, or given up after ``MAX_ATTEMPTS``."""
    if attempts >= MAX_ATTEMPTS:
        return {"status": failed_status, "next_attempt_at": None}
    return {"next_attempt_at": timezone.now() + dt.timedelta(seconds=backoff_seconds(attempts))}


def _due_ids(model: Any, pending: str, *, limit: int) -> list[int]:
    """Pending rows of ``model`` whose retry time has come, and those whose job was lost (a minute old)."""
    from django.db.models import Q

    now = timezone.now()
    stale = now - dt.timedelta(seconds=60)
    return list(
        model.objects.filter(status=pending)
        .filter(Q(next_attempt_at__lte=now) | Q(next_attempt_at__isnull=True, created_at__lte=stale))
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


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
        fields.update(_retry_fields(delivery.attempts, Delivery.Status.FAILED))
    Delivery.objects.filter(pk=delivery.pk).update(**fields)
    return str(fields.get("status", Delivery.Status.PENDING))


def deliveries_due(*, limit: int = 500) -> list[int]:
    """Pending deliveries whose time has come (retries, and sends whose job was lost)."""
    return _due_ids(Delivery, Delivery.Status.PENDING, limit=limit)


def delivery_resend(*, delivery: Delivery, actor: Any = None) -> Delivery:
    """Send a delivery again now (the resend button): a sent or failed one becomes a new attempt.

    ``actor`` (the button's user) must be an admin; callers inside the system pass none.
    """
    if actor is not None and not is_admin(actor):
        raise PermissionDenied(_("您没有执行此操作的权限。"))
    Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.PENDING, next_attempt_at=None)
    delivery_send(delivery.pk, force=True)
    delivery.refresh_from_db()
    return delivery


# ---------------------------------------------------------------- each user's choices


def _may_edit_preferences(actor: Any, user: Any) -> bool:
    if not (actor is not None and actor.is_authenticated and actor.is_active):
        return False
    return bool(actor.pk == user.pk or actor.can(Cap.MANAGE_USERS))


def _shown(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:40] + "…"


def preferences_clean(choices: Mapping[str, Iterable[str]]) -> dict[str, list[str]]:
    """``choices`` checked: every kind and channel known (else ValidationError naming them), channels in order."""
    errors: list[str] = []
    cleaned: dict[str, list[str]] = {}
    kinds, channels = set(EventKind.values), set(Channel.values)
    for kind, chosen in choices.items():
        if kind not in kinds:
            errors.append(_("未知的通知类型：%(kind)s") % {"kind": _shown(kind)})
            continue
        values = [chosen] if isinstance(chosen, str) else list(chosen)
        bad = [value for value in values if value not in channels]
        for value in bad:
            errors.append(_("未知的通知渠道：%(channel)s") % {"channel": _shown(value)})
        cleaned[kind] = [c for c in Channel.values if c in values]
    if errors:
        raise ValidationError(list(dict.fromkeys(errors)))
    return cleaned


@transaction.atomic
def preferences_set(*, actor: Any, user: Any, choices: Mapping[str, Iterable[str]]) -> dict[str, list[str]]:
    """Store ``user``'s channels for each kind in ``choices`` (an empty list: off); other kinds stay as they are.

    A user changes their own; a holder of 管理用户与团队 anyone's. Unknown kinds or channels: nothing written.
    """
    if not _may_edit_preferences(actor, user):
        raise PermissionDenied(_("您没有执行此操作的权限。"))
    cleaned = preferences_clean(choices)
    before = dict(Preference.objects.filter(user=user.pk, kind__in=list(cleaned)).values_list("kind", "channels"))
    changed: dict[str, Any] = {}
    for kind, channels in cleaned.items():
        old = before.get(kind)
        if old == channels:
            continue
        Preference.objects.update_or_create(user_id=user.pk, kind=kind, defaults={"channels": channels})
        shown_old = old if old is not None else list(default_channels(kind, getattr(user, "role", None)))
        changed[f"notify:{kind}"] = (",".join(shown_old), ",".join(channels))
    if changed:
        audit_record(actor=actor, obj=user, action=AuditEntry.Action.UPDATE, changes=changed)
    return cleaned


@transaction.atomic
def preferences_reset(*, actor: Any, user: Any) -> int:
    """Forget ``user``'s choices: every kind back to their role's default; returns how many were forgotten."""
    if not _may_edit_preferences(actor, user):
        raise PermissionDenied(_("您没有执行此操作的权限。"))
    count, _rows = Preference.objects.filter(user=user.pk).delete()
    if count:
        audit_record(actor=actor, obj=user, action=AuditEntry.Action.UPDATE, changes={"notify": "reset"})
    return count


def language_codes() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


@transaction.atomic
def user_language_set(*, actor: Any, user: Any, language: str) -> Any:
    """The language of ``user``'s mails, IM messages, digest and pages ("": the site's default)."""
    if not _may_edit_preferences(actor, user):
        raise PermissionDenied(_("您没有执行此操作的权限。"))
    language = (language or "").strip()
    if language and language not in language_codes():
        raise ValidationError({"language": _("未知的语言：%(language)s") % {"language": _shown(language)}})
    if user.language != language:
        before = user.language
        user.language = language
        user.save(update_fields=["language"])
        audit_record(actor=actor, obj=user, action=AuditEntry.Action.UPDATE, changes={"language": (before, language)})
    return user


@transaction.atomic
def preferences_save(
    *, actor: Any, user: Any, choices: Mapping[str, Iterable[str]], language: str | None = None
) -> dict[str, list[str]]:
    """The preferences page's one form: channels per kind and (unless None) the language, all or nothing."""
    cleaned = preferences_set(actor=actor, user=user, choices=choices)
    if language is not None:
        user_language_set(actor=actor, user=user, language=language)
    return cleaned


# ---------------------------------------------------------------- the daily digest

DIGEST_MAX_LINES = 50
#: A digest covers the events since the previous one, but never more than this (the worker was down for days).
DIGEST_LOOKBACK = dt.timedelta(hours=48)
DIGEST_DEFAULT_WINDOW = dt.timedelta(hours=24)


def _digest_kinds(user_ids: list[int]) -> dict[int, set[str]]:
    """Each user's kinds with the digest channel: their choices, else their role's defaults (two queries)."""
    from django.contrib.auth import get_user_model

    roles = dict(get_user_model().objects.filter(pk__in=user_ids).values_list("pk", "role"))
    chosen: dict[int, dict[str, list[str]]] = {}
    for user_id, kind, channels in Preference.objects.filter(user__in=user_ids).values_list(
        "user_id", "kind", "channels"
    ):
        chosen.setdefault(user_id, {})[kind] = channels
    result: dict[int, set[str]] = {}
    for pk in user_ids:
        mine = chosen.get(pk, {})
        result[pk] = {
            kind
            for kind in EventKind.values
            if Channel.DIGEST in (mine[kind] if kind in mine else default_channels(kind, roles.get(pk)))
        }
    return result


def digests_prepare(*, now: dt.datetime | None = None, users: Iterable[Any] | None = None) -> list[int]:
    """Create today's digest of each active user with an address who has something in it; returns the new ids.

    Today is the site's date at ``now``; a user who already has today's digest gets no second one. The events
    are those since the user's previous digest (at most ``DIGEST_LOOKBACK``; the last 24 h for a first one) in
    which they are a recipient and whose kind they read in the digest.
    """
    from django.contrib.auth import get_user_model

    now = now or timezone.now()
    day = timezone.localdate(now)
    people = get_user_model().objects.filter(is_active=True).exclude(email="")
    if users is not None:
        people = people.filter(pk__in=[getattr(u, "pk", u) for u in users])
    user_ids = list(people.exclude(notify_digests__day=day).values_list("pk", flat=True))
    if not user_ids:
        return []
    earliest = now - DIGEST_LOOKBACK
    wanted = set(user_ids)
    by_user: dict[int, list[tuple[int, str, dt.datetime]]] = {}
    rows = Event.objects.filter(created_at__gt=earliest, created_at__lte=now).values_list(
        "pk", "kind", "recipients", "created_at"
    )
    for pk, kind, recipients, created_at in rows.iterator(chunk_size=2000):
        for user_id in recipients or ():
            if user_id in wanted:
                by_user.setdefault(user_id, []).append((pk, kind, created_at))
    if not by_user:
        return []
    kinds = _digest_kinds(list(by_user))
    previous: dict[int, dt.datetime] = {}
    for user_id, until in (
        DigestRun.objects.filter(user__in=list(by_user), day__lt=day)
        .order_by("user_id", "day")
        .values_list("user_id", "until")
    ):
        previous[user_id] = until  # ordered by day: the last one wins
    created: list[int] = []
    for user_id, events in sorted(by_user.items()):
        since = previous.get(user_id)
        if since is None or since < earliest:
            since = now - DIGEST_DEFAULT_WINDOW
        ids = [
            pk
            for pk, kind, created_at in sorted(events, key=lambda e: (e[2], e[0]), reverse=True)
            if created_at > since and kind in kinds[user_id]
        ]
        if not ids:
            continue
        try:
            with transaction.atomic():
                run = DigestRun.objects.create(user_id=user_id, day=day, since=since, until=now, events=ids)
        except IntegrityError:
            continue  # another run made today's digest first
        created.append(run.pk)
    return created


def digest_prepare(*, user: Any, now: dt.datetime | None = None) -> DigestRun | None:
    """Today's digest of one user (None: nothing to tell, no address, or already made today)."""
    ids = digests_prepare(now=now, users=[user])
    return DigestRun.objects.filter(pk__in=ids).first()


def digest_send(run_id: int, *, force: bool = False, now: dt.datetime | None = None) -> str:
    """Send one pending digest if due (claimed under a lock, sent outside it); returns its status."""
    from needpool.notify.senders import digest_mail_send

    now = now or timezone.now()
    with transaction.atomic():
        run = DigestRun.objects.select_for_update().filter(pk=run_id).select_related("user").first()
        if run is None:
            return ""
        if run.status != DigestRun.Status.PENDING:
            return str(run.status)
        if not force and run.next_attempt_at and run.next_attempt_at > now:
            return str(run.status)
        run.attempts += 1
        run.next_attempt_at = now + dt.timedelta(seconds=120)
        run.save(update_fields=["attempts", "next_attempt_at"])
    fields: dict[str, Any]
    try:
        sent = digest_mail_send(run)
    except Exception as exc:  # any failure of a send is recorded and retried
        fields = {"error": str(exc)[:500] or exc.__class__.__name__}
        fields.update(_retry_fields(run.attempts, DigestRun.Status.FAILED))
    else:
        fields = {
            "status": DigestRun.Status.SENT if sent else DigestRun.Status.SKIPPED,
            "sent_at": timezone.now() if sent else None,
            "next_attempt_at": None,
            "error": "",
        }
    DigestRun.objects.filter(pk=run.pk).update(**fields)
    return str(fields.get("status", DigestRun.Status.PENDING))


def digests_due(*, limit: int = 500) -> list[int]:
    """Pending digests whose retry time has come (and those whose job was lost)."""
    return _due_ids(DigestRun, DigestRun.Status.PENDING, limit=limit)
