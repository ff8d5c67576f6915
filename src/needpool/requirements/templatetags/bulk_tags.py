"""``{% bulk_choices user as bulk %}``: what the requirement list's bulk-edit bar offers (owners, urgencies, tags,
statuses of the active flow) and whether the user may bulk edit at all."""

from __future__ import annotations

from typing import Any

from django import template

from needpool.accounts.roles import Cap
from needpool.requirements.choices import Dimension
from needpool.requirements.forms import _users
from needpool.requirements.models import ClassOption
from needpool.requirements.services import active_workflow
from needpool.requirements.services.bulk import MAX_SELECTION

register = template.Library()


def may_bulk_edit(user: Any) -> bool:
    return bool(
        user
        and user.is_authenticated
        and any(user.can(cap) for cap in (Cap.REQUIREMENT_CREATE, Cap.REQUIREMENT_EDIT_ANY, Cap.REQUIREMENT_TRANSITION))
    )


@register.simple_tag
def bulk_choices(user: Any) -> dict[str, Any]:
    if not may_bulk_edit(user):
        return {"enabled": False}
    options = list(
        ClassOption.objects.filter(dimension__in=[Dimension.URGENCY, Dimension.TAG], is_active=True).order_by(
            "sort_order", "id"
        )
    )
    statuses = active_workflow().statuses.order_by("order", "id")
    return {
        "enabled": True,
        "max": MAX_SELECTION,
        "owners": list(_users()),
        "urgencies": [o for o in options if o.dimension == Dimension.URGENCY],
        "tags": [o for o in options if o.dimension == Dimension.TAG],
        "statuses": list(statuses),
    }
