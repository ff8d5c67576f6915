"""Daily job of effect evaluations: open the ones a listener missed, then remind owners (safe to run twice)."""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from needpool.evaluation.services import evaluation_reminders_send, evaluations_catch_up

log = logging.getLogger("needpool.evaluation")


def evaluations_daily_run() -> dict[str, int]:
    opened = evaluations_catch_up()
    reminded = evaluation_reminders_send()
    log.info("evaluations: %s opened, %s reminded", opened, reminded)
    return {"opened": opened, "reminded": reminded}


@db_periodic_task(crontab(hour="8", minute="7"))
def evaluations_daily() -> dict[str, int]:
    """Every morning: evaluations for launches without one, and reminders for those due or overdue."""
    return evaluations_daily_run()
