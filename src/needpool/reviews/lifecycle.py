"""What the reviews app contributes to a requirement's life (registered from its AppConfig.ready()).

- Fact ``review_decision``: the requirement's latest review decision (``accepted``, ``changes``, ``deferred``,
  ``rejected``) or None when no meeting decided on it.
- Gate ``review_accepted`` (需经评审通过): a move into a status carrying it is refused unless the latest
  decision is 通过. Opt-in: an admin puts the key on a status's entry gates (e.g. 开发中 of the reviewed flow).
- Section ``reviews``: the requirement's agenda items (meeting, date, decision, note, iteration) on its page
  and in its archive.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from needpool.requirements import lifecycle
from needpool.requirements import workflow as flow_rules
from needpool.reviews.models import Decision

GATE_REVIEW_ACCEPTED = "review_accepted"


def review_decision(requirement: Any) -> str | None:
    from needpool.reviews.selectors import latest_decision

    return latest_decision(requirement)


def check_review_accepted(move: flow_rules.Move, facts: flow_rules.Facts) -> str | None:
    """Pure: the refusal unless the latest review decision is 通过."""
    decision = facts.get("review_decision")
    if decision == Decision.ACCEPTED:
        return None
    if decision:
        return _("需求需经评审通过才能进入“%(target)s”（最近的评审决策：%(decision)s）。") % {
            "target": move.target_label,
            "decision": Decision(decision).label,
        }
    return _("需求需经评审通过才能进入“%(target)s”（尚未评审）。") % {"target": move.target_label}


REVIEW_GATE = flow_rules.Gate(
    key=GATE_REVIEW_ACCEPTED,
    label=lambda: _("需经评审通过"),
    check=check_review_accepted,
    facts=("review_decision",),
)


def review_section_context(requirement: Any, user: Any) -> dict[str, Any] | None:
    """The requirement's review items the user may see; for reviewers also a way onto a meeting's agenda."""
    from needpool.reviews.permissions import can_review
    from needpool.reviews.selectors import requirement_items

    items = requirement_items(requirement, user)
    may_add = can_review(user) and not requirement.merged_into_id
    if not items and not may_add:
        return None
    return {"review_items": items, "may_add": may_add}


def review_section_empty(requirement: Any, user: Any) -> dict[str, Any] | None:
    """The section of a requirement on no agenda: for reviewers only, a way onto a meeting's agenda."""
    from needpool.reviews.permissions import can_review

    if not can_review(user) or requirement.merged_into_id:
        return None
    return {"review_items": [], "may_add": True}


def review_section_probe() -> Any:
    """Whether the page's requirement is on any agenda."""
    from django.db.models import Exists, OuterRef

    from needpool.reviews.models import AgendaItem

    return Exists(AgendaItem.objects.filter(requirement_id=OuterRef("pk")))


def register() -> None:
    """Register this app's gates, facts, status listeners and requirement sections (idempotent)."""
    lifecycle.register_fact("review_decision", review_decision)
    lifecycle.register_history_labels(
        {
            "review_decision": gettext_lazy("评审决策"),
            "review_note": gettext_lazy("评审意见"),
            "review_meeting": gettext_lazy("评审会议"),
        }
    )
    lifecycle.register_gate(REVIEW_GATE)
    lifecycle.register_section(
        lifecycle.Section(
            key="reviews",
            label=lambda: _("需求评审"),
            order=30,
            template="reviews/_requirement_section.html",
            context=review_section_context,
            probe=review_section_probe,
            when_empty=review_section_empty,
        )
    )
