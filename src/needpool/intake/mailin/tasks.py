"""Background jobs of feedback by mail: every two minutes each active mailbox is polled; 立即收取 queues one
poll. They take ids, call the service, and are safe to run twice (Message-IDs keep mails from doubling)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from needpool.intake.mailin.services import mail_poll, mail_poll_all


@db_periodic_task(crontab(minute="*/2"))
def mail_poll_all_job() -> int:
    return sum(sum(result.counts.values()) for result in mail_poll_all().values())


@db_task()
def mail_poll_job(source_id: int) -> int:
    return sum(mail_poll(source_id=source_id).counts.values())
