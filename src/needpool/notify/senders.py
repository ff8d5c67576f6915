"""The built-in sender: mail to a user, in their language, through Django's mail backend."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.utils import translation
from django.utils.translation import gettext

from needpool.core.links import absolute
from needpool.notify.models import Delivery
from needpool.notify.registry import SendResult, register_sender
from needpool.notify.services import render, user_language


def mail_send(delivery: Delivery) -> SendResult:
    user = get_user_model().objects.filter(pk=delivery.target_id, is_active=True).first()
    if user is None or not user.email:
        return SendResult(skipped=True, response_excerpt="no address")
    event = delivery.event
    language = user_language(user)
    text = render(event, language)
    with translation.override(language):
        subject = gettext("【需求池】%(text)s") % {"text": text[:120]}
    body = text + (f"\n\n{absolute(event.url)}" if event.url else "")
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split())[:300], body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[user.email]
    )
    message.send()
    return SendResult(response_excerpt=user.email)


register_sender("mail", mail_send)
