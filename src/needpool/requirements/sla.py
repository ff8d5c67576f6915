"""The first-response SLA (首次响应时限) of a requirement: one rule, used by every path.

A requirement's SLA clock starts when it was submitted; its urgency's ``sla_hours`` give the deadline
(紧急 24 h, 重要 72 h, 一般 none). The first response is the first status move, or the first comment by
someone other than the submitter. It is breached when the deadline passes before that response.

Services call :func:`apply_due` (create, update, import), :func:`mark_responded` (transition, comment),
the periodic job calls ``services.sla_mark_breaches``, and selectors and filters read :func:`breached_q`.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import TYPE_CHECKING

from django.db.models import Q

if TYPE_CHECKING:
    from needpool.requirements.models import ClassOption, Requirement


class SlaState(StrEnum):
    NONE = "none"  # no deadline (一般, or no urgency)
    RUNNING = "running"  # deadline ahead, not yet answered
    MET = "met"  # answered in time
    BREACHED = "breached"  # answered late, or deadline passed unanswered


def due(urgency: ClassOption | None, start: dt.datetime) -> dt.datetime | None:
    """The first-response deadline for a requirement of ``urgency`` submitted at ``start``."""
    if urgency is None or urgency.sla_hours is None:
        return None
    return start + dt.timedelta(hours=urgency.sla_hours)


def state(*, due_at: dt.datetime | None, responded_at: dt.datetime | None, now: dt.datetime) -> SlaState:
    """Pure: where one requirement stands against its deadline."""
    if due_at is None:
        return SlaState.NONE
    if responded_at is not None:
        return SlaState.MET if responded_at <= due_at else SlaState.BREACHED
    return SlaState.BREACHED if now > due_at else SlaState.RUNNING


def is_breached(*, due_at: dt.datetime | None, responded_at: dt.datetime | None, now: dt.datetime) -> bool:
    return state(due_at=due_at, responded_at=responded_at, now=now) is SlaState.BREACHED


def breached_q(now: dt.datetime) -> Q:
    """Requirements in breach at ``now``: flagged, or past their deadline unanswered and not yet flagged."""
    return Q(sla_breached=True) | Q(first_responded_at__isnull=True, first_response_due__lt=now)


def due_unflagged_q(now: dt.datetime) -> Q:
    """Requirements the periodic job must flag: past their deadline, unanswered, not flagged yet."""
    return Q(first_responded_at__isnull=True, sla_breached=False, first_response_due__lt=now)


def apply_due(requirement: Requirement, *, now: dt.datetime) -> bool:
    """Set the deadline from urgency and submission time; return True when this newly breaches it.

    A backdated requirement (an import of last year's sheet) is flagged at once, not at the next job run.
    """
    if requirement.first_responded_at is not None:
        return False
    requirement.first_response_due = due(requirement.urgency, requirement.submitted_at)
    breached = is_breached(due_at=requirement.first_response_due, responded_at=None, now=now)
    newly = breached and not requirement.sla_breached
    requirement.sla_breached = breached
    return newly


def mark_responded(requirement: Requirement, at: dt.datetime) -> tuple[list[str], bool]:
    """Record the first response at ``at``; returns the changed fields and whether it newly breached."""
    if requirement.first_responded_at is not None:
        return [], False
    requirement.first_responded_at = at
    late = is_breached(due_at=requirement.first_response_due, responded_at=at, now=at)
    newly = late and not requirement.sla_breached
    if late:
        requirement.sla_breached = True
    return ["first_responded_at", "sla_breached"], newly
