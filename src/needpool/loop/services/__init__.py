"""Every write of the loop app (one function per use-case)."""

from needpool.loop.services.config import (
    loop_settings,
    loop_settings_update,
    notice_template,
    notice_template_reset,
    notice_template_update,
    notice_templates,
    template_check,
    template_render,
)
from needpool.loop.services.notices import (
    customer_notices_send,
    event_for_move,
    notices_catch_up,
    notices_sync_status,
    requirement_askers,
)
from needpool.loop.services.release_notes import (
    release_note_create,
    release_note_draft,
    release_note_publish,
    release_note_update,
    release_notes_catch_up,
)
from needpool.loop.services.surveys import (
    csat_invite,
    csat_invite_closed,
    invitation_by_token,
    nps_campaign_create,
    nps_campaign_send,
    nps_campaign_start,
    nps_send_due,
    survey_answer,
)

__all__ = [
    "csat_invite",
    "csat_invite_closed",
    "customer_notices_send",
    "event_for_move",
    "invitation_by_token",
    "loop_settings",
    "loop_settings_update",
    "notice_template",
    "notice_template_reset",
    "notice_template_update",
    "notice_templates",
    "notices_catch_up",
    "notices_sync_status",
    "nps_campaign_create",
    "nps_campaign_send",
    "nps_campaign_start",
    "nps_send_due",
    "release_note_create",
    "release_note_draft",
    "release_note_publish",
    "release_note_update",
    "release_notes_catch_up",
    "requirement_askers",
    "survey_answer",
    "template_check",
    "template_render",
]
