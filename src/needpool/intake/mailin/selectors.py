"""Reads of the feedback-by-mail pages (admin only; "not found" and "not allowed" look the same)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, Q, QuerySet
from django.http import Http404

from needpool.accounts.models import User
from needpool.intake.mailin.models import InboundMail, InboundMailAttachment, InboundStatus, MailSource
from needpool.intake.mailin.permissions import can_manage_mail


def _require(user: User | AnonymousUser) -> None:
    if not can_manage_mail(user):
        raise Http404


def mail_sources(*, user: User | AnonymousUser) -> QuerySet[MailSource]:
    """Every mailbox with how many of its mails each outcome had."""
    _require(user)
    counts = {f"{status}_count": Count("mails", filter=Q(mails__status=status)) for status in InboundStatus.values}
    return MailSource.objects.annotate(**counts).order_by("name", "id")


def mail_source_get(*, user: User | AnonymousUser, pk: Any) -> MailSource:
    _require(user)
    try:
        return MailSource.objects.get(pk=pk)
    except (MailSource.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def inbound_mails(
    *, user: User | AnonymousUser, source: MailSource | None = None, status: str = ""
) -> QuerySet[InboundMail]:
    """The mail log, newest first (the page paginates it)."""
    _require(user)
    mails = InboundMail.objects.select_related("source").annotate(attachment_count=Count("attachments"))
    if source is not None:
        mails = mails.filter(source=source)
    if status in InboundStatus.values:
        mails = mails.filter(status=status)
    return mails.order_by("-created_at", "-id")


def inbound_mail_get(*, user: User | AnonymousUser, pk: Any) -> InboundMail:
    _require(user)
    try:
        return InboundMail.objects.select_related("source", "feedback", "thread_feedback").get(pk=pk)
    except (InboundMail.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def inbound_thread(mail: InboundMail) -> QuerySet[InboundMail]:
    """Every mail of the same feedback (the first one and its threaded replies), oldest first."""
    feedback_id = mail.feedback_id or mail.thread_feedback_id
    if feedback_id is None:
        return InboundMail.objects.filter(pk=mail.pk)
    return (
        InboundMail.objects.filter(Q(feedback_id=feedback_id) | Q(thread_feedback_id=feedback_id))
        .prefetch_related("attachments")
        .order_by("received_at", "id")[:200]
    )


def inbound_attachment_get(*, user: User | AnonymousUser, mail_pk: Any, pk: Any) -> InboundMailAttachment:
    mail = inbound_mail_get(user=user, pk=mail_pk)
    try:
        return mail.attachments.get(pk=pk)
    except (InboundMailAttachment.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
