"""The monthly review mail: on the first day of each month at 08:10 (the site's time zone), last month's review
to every recipient of the schedule. Imported by ``ReportsConfig.ready`` (the worker discovers only modules
named ``tasks``).

The check runs again at ten past every later hour of that day: a worker that was down at 08:10 still sends the
mail that day, and a run after a successful one finds every mail queued already and sends nothing more.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.utils import timezone
from huey.contrib.djhuey import HUEY, db_periodic_task

from needpool.reports.models import MonthlyReviewSchedule
from needpool.reports.services import monthly_review_mail_send

log = logging.getLogger("needpool.reports")

SEND_HOUR = 8
SEND_MINUTE = 10


def local_moment(timestamp: dt.datetime) -> dt.datetime:
    """The scheduler's timestamp in the site's time zone (the scheduler hands naive UTC, or naive local time
    when it runs without UTC)."""
    if timezone.is_aware(timestamp):
        return timezone.localtime(timestamp)
    if getattr(HUEY, "utc", True):
        return timezone.localtime(timestamp.replace(tzinfo=dt.UTC))
    return timezone.make_aware(timestamp)


def is_send_time(timestamp: dt.datetime) -> bool:
    """Day 1, 08:10 local — and ten past each later hour of that day (a catch-up that sends nothing twice)."""
    local = local_moment(timestamp)
    return local.day == MonthlyReviewSchedule.SEND_DAY and local.hour >= SEND_HOUR and local.minute == SEND_MINUTE


def monthly_review_mail_run(now: dt.datetime | None = None) -> dict[str, int]:
    counts = monthly_review_mail_send(now=now)
    log.info("monthly review mail: %s", counts)
    return counts


@db_periodic_task(is_send_time)
def monthly_review_mail() -> dict[str, int]:
    """Last month's review to the schedule's recipients (safe to run twice: one mail per recipient and month)."""
    return monthly_review_mail_run()
