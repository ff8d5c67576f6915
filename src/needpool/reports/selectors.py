"""The requirements a report counts, scoped to the reader: the base every figure starts from.

A sales rep counts only the requirements they may open (requirements.permissions), so their numbers are their
customers' numbers. Deleted requirements (in the recycle bin) and requirements merged into another are never
counted: the survivor carries the feedback. The team of a requirement is its current owner's team, so a
requirement whose owner moved to another team counts for the new team.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404
from django.utils import timezone

from needpool.accounts.models import User
from needpool.analysis.selectors import project_get, project_requirements
from needpool.reports.filters import ReportFilters
from needpool.requirements.models import Feedback, Requirement
from needpool.requirements.permissions import visible_requirements


def _customer_slice(qs: QuerySet[Requirement], filters: ReportFilters) -> QuerySet[Requirement]:
    lookups = {}
    if filters.segment:
        lookups["customer__segment"] = filters.segment
    if filters.industry:
        lookups["customer__industry"] = filters.industry
    if not lookups:
        return qs
    linked = Feedback.objects.filter(requirement=OuterRef("pk"), **lookups)
    return qs.filter(Exists(linked))


def sliced_requirements(user: User, filters: ReportFilters) -> QuerySet[Requirement]:
    """Every requirement in the reader's scope and the filters' slice, whatever its submission date."""
    if filters.project is not None:
        try:
            project = project_get(user=user, pk=filters.project)
        except Http404:
            return Requirement.objects.none()
        qs = project_requirements(project, user=user)
    else:
        qs = visible_requirements(user).filter(merged_into__isnull=True)
    if filters.team is not None:
        qs = qs.filter(owner__team_id=filters.team)
    if filters.owner is not None:
        qs = qs.filter(owner_id=filters.owner)
    return _customer_slice(qs, filters)


def report_requirements(user: User, filters: ReportFilters) -> QuerySet[Requirement]:
    """The requirements submitted in the period, in scope and slice (the cohort most figures count)."""
    start, end = period_bounds(filters)
    return sliced_requirements(user, filters).filter(submitted_at__gte=start, submitted_at__lt=end)


def period_bounds(filters: ReportFilters) -> tuple[dt.datetime, dt.datetime]:
    """The period as [start 00:00, day after end 00:00) in the site's time zone: a range on the column itself,
    so the submitted_at indexes serve it (a ``__date`` lookup would wrap the column in a function)."""
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(filters.start, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(filters.end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return start, end
