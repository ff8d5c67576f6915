"""Background jobs of delivery: they take ids or nothing, call a service, and are safe to run twice."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from needpool.delivery.services import overdue_remind


@db_periodic_task(crontab(minute="0", hour="9"))
def remind_overdue_tasks() -> int:
    """Every morning: remind owners and plan managers of overdue tasks (once per task and day)."""
    return overdue_remind()
