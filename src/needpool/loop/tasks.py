"""Background jobs of closing the loop: each takes ids (or nothing), calls a service, is safe to run twice and
returns its counts (kept by the queue as the job's result; the rows it writes carry their own outcome)."""

from __future__ import annotations

import logging
from typing import Any

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from needpool.loop import services
from needpool.loop.models import NoticeEvent

log = logging.getLogger("needpool.loop")


@db_task()
def close_loop_after_move(
    requirement_id: int, event: str, note: str = "", actor_id: int | None = None
) -> dict[str, Any]:
    """After a move into 已拒绝 / 已上线 / 已关闭: tell the askers, draft the release note, invite to CSAT."""
    result: dict[str, Any] = {
        "notices": services.customer_notices_send(
            requirement_id=requirement_id, event=event, note=note, actor_id=actor_id
        )
    }
    if event == NoticeEvent.LAUNCHED:
        result["release_note"] = services.release_note_draft(requirement_id=requirement_id)[1]
    if event == NoticeEvent.CLOSED:
        result["csat_invited"] = services.csat_invite(requirement_id=requirement_id)
    log.info("close the loop for requirement %s (%s): %s", requirement_id, event, result)
    return result


@db_task()
def nps_send(campaign_id: int) -> dict[str, int]:
    return services.nps_campaign_send(campaign_id=campaign_id)


@db_periodic_task(crontab(minute="*/15"))
def close_loop_sweep() -> dict[str, Any]:
    """What a lost job left undone: notices of recent moves, release notes of launches, CSAT of closed
    requirements, NPS batches; and the mail outcome copied onto the notices. Idempotent: keys and unique
    constraints make a second run send nothing."""
    result = loop_sweep()
    log.info("close-the-loop sweep: %s", result)
    return result


def loop_sweep(now: Any = None) -> dict[str, Any]:
    return {
        "notices": services.notices_catch_up(now=now),
        "release_notes": services.release_notes_catch_up(now=now),
        "csat": services.csat_invite_closed(now=now),
        "nps": services.nps_send_due(now=now),
        "synced": services.notices_sync_status(),
    }
