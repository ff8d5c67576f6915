"""Daily job of the follow-up cadence: every customer's next follow-up, then the owners' reminders (safe to
run twice: a customer is reminded once per day)."""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from needpool.customers.cadence import follow_up_reminders_send, follow_ups_refresh

log = logging.getLogger("needpool.customers")


def follow_ups_daily_run() -> dict[str, int]:
    rescheduled = follow_ups_refresh()
    reminded = follow_up_reminders_send()
    log.info("follow-ups: %s rescheduled, %s reminded", rescheduled, reminded)
    return {"rescheduled": rescheduled, "reminded": reminded}


@db_periodic_task(crontab(hour="7", minute="43"))
def follow_ups_daily() -> dict[str, int]:
    """Every morning: reschedule follow-ups by the cadence, remind owners of those due or overdue."""
    return follow_ups_daily_run()
