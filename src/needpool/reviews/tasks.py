"""Background jobs of reviews: they take nothing, call a service, and are safe to run twice."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from needpool.reviews.services.reminders import revisit_remind


@db_periodic_task(crontab(minute="30", hour="8"))
def remind_revisits() -> int:
    """Every morning: remind chairs and owners of deferred requirements whose revisit date has come."""
    return revisit_remind()
