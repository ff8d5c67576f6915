"""Reads of the loop app, scoped to what the user may see; plus the survey arithmetic others may reuse.

For other apps (reports, home, the archive): ``csat_summary(requirement_id)`` / ``csat_summaries(ids)`` —
satisfaction per requirement (share of 4–5 and the average); ``nps_score(scores)`` — the NPS formula;
``nps_for_campaign(campaign)`` and ``nps_overall(since=)`` — NPS for reports.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Avg, Count, Q, QuerySet
from django.http import Http404

from needpool.loop import permissions
from needpool.loop.models import CustomerNotice, NpsCampaign, ReleaseNote, SurveyInvitation
from needpool.requirements.models import Requirement
from needpool.requirements.permissions import can_view_requirement, visible_requirements

SATISFIED_MIN = 4
PROMOTER_MIN = 9
DETRACTOR_MAX = 6


@dataclass(frozen=True)
class NpsResult:
    total: int
    promoters: int
    passives: int
    detractors: int

    @property
    def nps(self) -> float | None:
        """% promoters (9–10) − % detractors (0–6), from −100 to 100; None without answers."""
        if not self.total:
            return None
        return 100.0 * (self.promoters - self.detractors) / self.total

    @property
    def nps_rounded(self) -> int | None:
        value = self.nps
        return None if value is None else round(value)


def nps_score(scores: Iterable[int]) -> NpsResult:
    """The NPS of plain scores 0–10."""
    values = list(scores)
    promoters = sum(1 for s in values if s >= PROMOTER_MIN)
    detractors = sum(1 for s in values if s <= DETRACTOR_MAX)
    return NpsResult(len(values), promoters, len(values) - promoters - detractors, detractors)


def nps_of(qs: QuerySet[SurveyInvitation]) -> NpsResult:
    """The NPS of the answered NPS invitations of ``qs``, counted by the database."""
    counts = qs.filter(kind=SurveyInvitation.Kind.NPS, score__isnull=False).aggregate(
        total=Count("pk"),
        promoters=Count("pk", filter=Q(score__gte=PROMOTER_MIN)),
        detractors=Count("pk", filter=Q(score__lte=DETRACTOR_MAX)),
    )
    total, promoters, detractors = counts["total"], counts["promoters"], counts["detractors"]
    return NpsResult(total, promoters, total - promoters - detractors, detractors)


def nps_for_campaign(campaign: NpsCampaign) -> NpsResult:
    return nps_of(SurveyInvitation.objects.filter(campaign=campaign))


def nps_overall(*, since: dt.datetime | None = None, segments: Iterable[str] = ()) -> NpsResult:
    """NPS over every campaign's answers (since a time, for some customer segments) — for reports."""
    qs = SurveyInvitation.objects.all()
    if since is not None:
        qs = qs.filter(answered_at__gte=since)
    segments = list(segments)
    if segments:
        qs = qs.filter(customer__segment__in=segments)
    return nps_of(qs)


@dataclass(frozen=True)
class CsatSummary:
    invited: int
    answered: int
    satisfied: int
    average: float | None

    @property
    def satisfied_percent(self) -> int | None:
        """Share of 4–5 among the answers, e.g. 95 (%); None without answers."""
        return round(100 * self.satisfied / self.answered) if self.answered else None

    @property
    def response_percent(self) -> int | None:
        return round(100 * self.answered / self.invited) if self.invited else None


_CSAT_AGG = {
    "invited": Count("pk"),
    "answered": Count("pk", filter=Q(score__isnull=False)),
    "satisfied": Count("pk", filter=Q(score__gte=SATISFIED_MIN)),
    "average": Avg("score"),
}


def _summary(row: dict[str, Any]) -> CsatSummary:
    average = row.get("average")
    return CsatSummary(
        int(row.get("invited") or 0),
        int(row.get("answered") or 0),
        int(row.get("satisfied") or 0),
        None if average is None else round(float(average), 2),
    )


def csat_summary(requirement_id: int) -> CsatSummary:
    """Satisfaction of one requirement (no permission check: callers show it only to people who see it)."""
    row = SurveyInvitation.objects.filter(kind=SurveyInvitation.Kind.CSAT, requirement_id=requirement_id).aggregate(
        **_CSAT_AGG
    )
    return _summary(row)


def csat_summaries(requirement_ids: Iterable[int]) -> dict[int, CsatSummary]:
    """Satisfaction of many requirements in one query."""
    rows = (
        SurveyInvitation.objects.filter(kind=SurveyInvitation.Kind.CSAT, requirement_id__in=list(requirement_ids))
        .values("requirement_id")
        .annotate(**_CSAT_AGG)
        .order_by()
    )
    return {row["requirement_id"]: _summary(dict(row)) for row in rows}


def csat_overall(*, user: Any, since: dt.datetime | None = None) -> CsatSummary:
    qs = permissions.visible_csat(user)
    if since is not None:
        qs = qs.filter(created_at__gte=since)
    return _summary(qs.aggregate(**_CSAT_AGG))


# ---------------------------------------------------------------- lists for pages and the API


def notice_list(*, user: Any, requirement_id: int | None = None) -> QuerySet[CustomerNotice]:
    qs = permissions.visible_notices(user).select_related("requirement", "mail", "customer")
    if requirement_id is not None:
        qs = qs.filter(requirement_id=requirement_id)
    return qs.order_by("-created_at", "-id")


def notice_get(*, user: Any, pk: Any) -> CustomerNotice:
    notice = notice_list(user=user).filter(pk=pk).first()
    if notice is None:
        raise Http404
    return notice


def csat_requirements(*, user: Any) -> QuerySet[Requirement]:
    """Requirements the user sees that have CSAT invitations, with their counts and average (newest first)."""
    csat = Q(survey_invitations__kind=SurveyInvitation.Kind.CSAT)
    return (
        visible_requirements(user)
        .filter(survey_invitations__kind=SurveyInvitation.Kind.CSAT)
        .annotate(
            csat_invited=Count("survey_invitations", filter=csat, distinct=True),
            csat_answered=Count(
                "survey_invitations", filter=csat & Q(survey_invitations__score__isnull=False), distinct=True
            ),
            csat_satisfied=Count(
                "survey_invitations", filter=csat & Q(survey_invitations__score__gte=SATISFIED_MIN), distinct=True
            ),
            csat_average=Avg("survey_invitations__score", filter=csat),
        )
        .select_related("status")
        .order_by("-updated_at", "-id")
        .distinct()
    )


def csat_answers(*, user: Any, requirement_id: int) -> QuerySet[SurveyInvitation]:
    return (
        permissions.visible_csat(user)
        .filter(requirement_id=requirement_id, answered_at__isnull=False)
        .select_related("customer", "contact")
        .order_by("-answered_at", "-id")
    )


def campaign_list(*, user: Any) -> QuerySet[NpsCampaign]:
    return (
        permissions.visible_campaigns(user)
        .annotate(
            invited=Count("invitations"),
            answered=Count("invitations", filter=Q(invitations__score__isnull=False)),
            promoters=Count("invitations", filter=Q(invitations__score__gte=PROMOTER_MIN)),
            detractors=Count("invitations", filter=Q(invitations__score__lte=DETRACTOR_MAX)),
        )
        .select_related("created_by")
        .order_by("-created_at", "-id")
    )


def campaign_result(campaign: Any) -> NpsResult:
    """The NPS of a campaign read from ``campaign_list``'s counts (no query)."""
    answered, promoters, detractors = campaign.answered, campaign.promoters, campaign.detractors
    return NpsResult(answered, promoters, answered - promoters - detractors, detractors)


def campaign_get(*, user: Any, pk: Any) -> NpsCampaign:
    campaign = campaign_list(user=user).filter(pk=pk).first()
    if campaign is None:
        raise Http404
    return campaign


def campaign_answers(campaign: NpsCampaign) -> QuerySet[SurveyInvitation]:
    return (
        SurveyInvitation.objects.filter(campaign=campaign, answered_at__isnull=False)
        .select_related("customer", "contact")
        .order_by("-answered_at", "-id")
    )


def release_note_list(*, user: Any) -> QuerySet[ReleaseNote]:
    return permissions.visible_release_notes(user).select_related("requirement", "published_by")


def release_note_get(*, user: Any, pk: Any) -> ReleaseNote:
    note = release_note_list(user=user).filter(pk=pk).first()
    if note is None:
        raise Http404
    return note


def published_notes() -> QuerySet[ReleaseNote]:
    """The public changelog: published, public notes, newest first (nothing about customers)."""
    return (
        ReleaseNote.objects.filter(is_public=True, published_at__isnull=False)
        .only("id", "title", "body", "published_at")
        .order_by("-published_at", "-id")
    )


def requirement_loop(*, requirement: Requirement, user: Any) -> dict[str, Any] | None:
    """The loop section of a requirement: notices sent and its satisfaction; None when there is nothing."""
    if not (user and user.is_authenticated) or not can_view_requirement(user, requirement):
        return None
    notices = list(notice_list(user=user, requirement_id=requirement.pk)[:50])
    summary = csat_summary(requirement.pk)
    if not notices and not summary.invited:
        return None
    answers = list(csat_answers(user=user, requirement_id=requirement.pk)[:20])
    note = ReleaseNote.objects.filter(requirement=requirement).first()
    return {
        "notices": notices,
        "csat": summary,
        "answers": answers,
        "release_note": note,
        "can_close_loop": permissions.can_close_loop(user),
    }
