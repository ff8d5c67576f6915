"""Review use-cases; every write of the app goes through these functions."""

from needpool.reviews.services.decisions import decide, decision_target
from needpool.reviews.services.invitation import invitation_ics, meeting_send_invitation
from needpool.reviews.services.meetings import (
    agenda_add,
    agenda_remove,
    agenda_reorder,
    attendees_set,
    material_add,
    meeting_create,
    meeting_update,
    minutes_update,
)
from needpool.reviews.services.reminders import revisit_remind

__all__ = [
    "agenda_add",
    "agenda_remove",
    "agenda_reorder",
    "attendees_set",
    "decide",
    "decision_target",
    "invitation_ics",
    "material_add",
    "meeting_create",
    "meeting_send_invitation",
    "meeting_update",
    "minutes_update",
    "revisit_remind",
]
