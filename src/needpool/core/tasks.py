"""Jobs of the shared core: find the background jobs a dead worker left behind (at start and every minute)."""

from __future__ import annotations

from django.conf import settings
from django.db import close_old_connections
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, on_startup

from needpool.core.jobs import jobs_recover_stale


@on_startup()
def recover_jobs_on_startup() -> None:
    """A worker that starts marks INTERRUPTED the jobs whose heartbeat stopped (e.g. the worker it replaces),
    then loads what its jobs would otherwise load on first use (``core.warmup``)."""
    close_old_connections()
    try:
        jobs_recover_stale()
    finally:
        close_old_connections()
    from needpool.core.warmup import warm_up, warmup_enabled

    if warmup_enabled() and not settings.HUEY.get("immediate"):
        warm_up()


@db_periodic_task(crontab(minute="17"))
def planner_statistics() -> float:
    """Every hour: refresh the database planner's statistics (core.dbstats), so the plans follow the data."""
    from needpool.core.dbstats import planner_statistics_refresh

    return planner_statistics_refresh()


@db_periodic_task(crontab(minute=getattr(settings, "NEEDPOOL_JOB_RECOVERY_CRONTAB_MINUTE", "*")))
def recover_jobs() -> int:
    """Every minute: jobs running without a heartbeat for NEEDPOOL_JOB_STALE_SECONDS become INTERRUPTED."""
    return jobs_recover_stale()


@db_task()
def mail_deliver(mail_id: int) -> str:
    """Send one queued mail (core.mail); a second run finds it sent and does nothing."""
    from needpool.core.mail import mail_send

    return mail_send(mail_id)


@db_periodic_task(crontab(minute="*/5"))
def mail_retry_pending() -> int:
    """Every five minutes: send mails whose job was lost or whose transport failed (up to 5 attempts)."""
    from needpool.core.mail import mail_send_pending

    return mail_send_pending()
