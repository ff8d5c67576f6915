"""Tags of the requirement detail page and the feedback triage page: the SLA as it stands at render time,
and the customer profile beside a requirement or a feedback item (``requirements.profiles``)."""

from __future__ import annotations

from typing import Any

from django.template import Library
from django.utils import timezone

from needpool.requirements import sla
from needpool.requirements.models import Feedback, Requirement
from needpool.requirements.profiles import feedback_profile, requirement_profiles

register = Library()


def _user(context: Any) -> Any:
    request = context.get("request")
    return getattr(request, "user", None) or context.get("user")


@register.simple_tag
def sla_now(requirement: Requirement) -> dict[str, Any]:
    """``state`` (sla.SlaState) and ``breached`` now: a breach shows the moment the deadline passes, not only
    after the periodic job has flagged it."""
    state = sla.state(
        due_at=requirement.first_response_due, responded_at=requirement.first_responded_at, now=timezone.now()
    )
    return {"state": str(state), "breached": bool(requirement.sla_breached) or state is sla.SlaState.BREACHED}


@register.inclusion_tag("customers/_profile_card.html", takes_context=True)
def customer_profile_card(context: Any, obj: Requirement | Feedback, evidence: Any = None) -> dict[str, Any]:
    """The customer profile card of a requirement (its customers, from the evidence the viewer may see) or of
    a feedback item (its customer), as the viewer may see them."""
    user = _user(context)
    if isinstance(obj, Requirement):
        profiles = requirement_profiles(user=user, requirement=obj, evidence=evidence)
    else:
        profiles = feedback_profile(user=user, feedback=obj)
    return {"profiles": profiles}
