"""Reads for the portal (public, by channel slug or tracking token) and the staff pages (permission-scoped).

"Not found" and "not allowed" look the same: an inactive channel, a channel without a portal form, an
unknown tracking token and a submission the user may not see are all 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils.translation import gettext as _

from needpool.accounts.models import User
from needpool.intake.channels.tokens import digest
from needpool.intake.models import (
    IntakeChannel,
    IntakeKind,
    PortalMessage,
    Submission,
    SubmissionAttachment,
    TrackingLink,
)
from needpool.intake.portal.permissions import visible_submissions
from needpool.requirements.choices import StatusCategory
from needpool.requirements.models import Requirement

#: joins for a list of submissions with their feedback, customer, type and requirement status (and one merge hop)
SUBMISSION_RELATED = (
    "channel",
    "feedback__customer",
    "feedback__type",
    "feedback__requirement__status",
    "feedback__requirement__merged_into__status",
)


# ---------------------------------------------------------------- public (portal)


def portal_channels() -> QuerySet[IntakeChannel]:
    """Active channels that offer the public form, for the portal's front page."""
    return IntakeChannel.objects.filter(is_active=True, kind=IntakeKind.PORTAL).order_by("name", "id")


def portal_channel(slug: str) -> IntakeChannel:
    channel = portal_channels().filter(slug=slug).first()
    if channel is None:
        raise Http404
    return channel


def tracking_link(token: str) -> TrackingLink:
    if not token or len(token) > 64:
        raise Http404
    link = TrackingLink.objects.filter(token_hash=digest(token)).first()
    if link is None:
        raise Http404
    return link


def tracked_submissions(link: TrackingLink) -> QuerySet[Submission]:
    """The submissions a tracking link covers: its own one, or every one sent with its e-mail address."""
    qs = Submission.objects.select_related(*SUBMISSION_RELATED).prefetch_related("messages", "attachments")
    if link.submission_id is not None:
        return qs.filter(pk=link.submission_id)
    # Addresses are stored lower-cased by the services, so an exact match can use the index.
    return qs.filter(contact_email=link.email.lower()).order_by("-created_at", "-id")


@dataclass(frozen=True)
class PortalStatus:
    """What a submitter may see of the pool's state: a label and its category (for the badge colour)."""

    label: str
    category: str


def submission_status(submission: Submission) -> PortalStatus:
    """The status label of the requirement behind a submission (following merges), or "received"."""
    requirement: Requirement | None = submission.feedback.requirement
    hops = 0
    while requirement is not None and requirement.merged_into_id is not None and hops < 5:
        requirement = requirement.merged_into
        hops += 1
    if requirement is None:
        return PortalStatus(label=_("已收到，待评估"), category="received")
    return PortalStatus(label=str(requirement.status), category=requirement.status.category)


STATUS_BADGES = {
    "received": "bg-secondary-lt",
    StatusCategory.NEW: "bg-azure-lt",
    StatusCategory.ACTIVE: "bg-blue-lt",
    StatusCategory.DONE: "bg-green-lt",
    StatusCategory.DEFERRED: "bg-yellow-lt",
    StatusCategory.REJECTED: "bg-red-lt",
}


# ---------------------------------------------------------------- staff


def _count_of(model: type[PortalMessage] | type[SubmissionAttachment]) -> Coalesce:
    rows = model.objects.filter(submission=OuterRef("pk")).order_by().values("submission")
    return Coalesce(Subquery(rows.annotate(n=Count("pk")).values("n")[:1], output_field=IntegerField()), 0)


def submission_list(
    *, user: User | AnonymousUser, channel_id: int | None = None, unlinked: bool = False, q: str = ""
) -> QuerySet[Submission]:
    # Correlated counts rather than Count() joins: the page's COUNT(*) then needs no GROUP BY.
    qs = (
        visible_submissions(user)
        .select_related(*SUBMISSION_RELATED)
        .annotate(message_count=_count_of(PortalMessage), attachment_count=_count_of(SubmissionAttachment))
    )
    if channel_id:
        qs = qs.filter(channel_id=channel_id)
    if unlinked:
        qs = qs.filter(feedback__requirement__isnull=True)
    if q:
        qs = qs.filter(
            Q(customer_text__icontains=q)
            | Q(contact_name__icontains=q)
            | Q(contact_email__icontains=q)
            | Q(feedback__raw_text__icontains=q)
            | Q(external_id=q)
        )
    return qs.order_by("-created_at", "-id")


def submission_get(*, user: User | AnonymousUser, pk: Any) -> Submission:
    try:
        return (
            visible_submissions(user)
            .select_related(*SUBMISSION_RELATED, "feedback__contact")
            .prefetch_related("attachments", "messages__author")
            .get(pk=pk)
        )
    except (Submission.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def submission_attachment_get(*, user: User | AnonymousUser, submission_pk: Any, pk: Any) -> SubmissionAttachment:
    submission = submission_get(user=user, pk=submission_pk)
    try:
        return submission.attachments.get(pk=pk)
    except (SubmissionAttachment.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def submission_for_feedback(*, user: User | AnonymousUser, feedback_id: int) -> Submission | None:
    """The submission a feedback item came from (for pages that show a feedback item), if visible."""
    return visible_submissions(user).filter(feedback_id=feedback_id).first()
