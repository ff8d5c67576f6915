"""The built-in senders: mail to a user, in their language, through Django's mail backend — one event, or the
daily digest. Both mails are rendered from templates (``notify/mail/*.txt`` and ``*.html``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from needpool.core.links import absolute
from needpool.notify.kinds import EventKind
from needpool.notify.models import Delivery, DigestRun, Event
from needpool.notify.registry import SendResult, register_sender
from needpool.notify.services import DIGEST_MAX_LINES, render, user_language


def link(url: str) -> str:
    """The event's link for a mail: a path of this site made absolute; anything else is no link."""
    if url.startswith("/") and not url.startswith("//"):
        return absolute(url)
    return ""


def _common(user: Any) -> dict[str, Any]:
    return {
        "user": user,
        "preferences_url": absolute(reverse("notify:preferences")),
        "inbox_url": absolute(reverse("core:notifications")),
    }


def _send(*, user: Any, subject: str, template: str, context: dict[str, Any]) -> None:
    body = render_to_string(f"notify/mail/{template}.txt", context)
    html = render_to_string(f"notify/mail/{template}.html", context)
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split())[:300], body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[user.email]
    )
    message.attach_alternative(html, "text/html")
    message.send()


def kind_label(kind: str) -> str:
    try:
        return str(EventKind(kind).label)
    except ValueError:
        return kind


def mail_send(delivery: Delivery) -> SendResult:
    user = get_user_model().objects.filter(pk=delivery.target_id, is_active=True).first()
    if user is None or not user.email:
        return SendResult(skipped=True, response_excerpt="no address")
    event = delivery.event
    language = user_language(user)
    text = render(event, language)
    with translation.override(language):
        subject = gettext("【需求池】%(text)s") % {"text": text[:120]}
        context = {
            **_common(user),
            "text": text,
            "kind": kind_label(event.kind),
            "url": link(event.url),
            "actor": str(event.actor) if event.actor_id and event.actor else "",
            "created_at": timezone.localtime(event.created_at),
        }
        _send(user=user, subject=subject, template="event", context=context)
    return SendResult(response_excerpt=user.email)


def digest_mail_send(run: DigestRun) -> bool:
    """Send ``run``'s digest to its user (False: nothing to send — no address, or the events are gone)."""
    user = run.user
    if not (user.is_active and user.email):
        return False
    events = list(Event.objects.filter(pk__in=run.events).order_by("-created_at", "-id"))
    if not events:
        return False
    language = user_language(user)
    shown, rest = events[:DIGEST_MAX_LINES], max(len(events) - DIGEST_MAX_LINES, 0)
    with translation.override(language):
        groups: dict[str, list[dict[str, Any]]] = {}
        for event in shown:
            groups.setdefault(event.kind, []).append(
                {
                    "text": render(event, language),
                    "url": link(event.url),
                    "created_at": timezone.localtime(event.created_at),
                }
            )
        subject = gettext("【需求池】每日摘要 %(day)s：%(count)s 条更新") % {
            "day": run.day.isoformat(),
            "count": len(events),
        }
        context = {
            **_common(user),
            "day": run.day,
            "count": len(events),
            "groups": [{"label": kind_label(kind), "lines": lines} for kind, lines in groups.items()],
            "rest": rest,
        }
        _send(user=user, subject=subject, template="digest", context=context)
    return True


register_sender("mail", mail_send)
