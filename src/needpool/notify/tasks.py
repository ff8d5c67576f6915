"""Jobs of notifications: dispatch an event after commit, send each delivery, retry what is due."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task


@db_task()
def event_dispatch(event_id: int) -> int:
    """Create the event's deliveries and send each in its own job (safe to run twice)."""
    from needpool.notify.services import event_dispatch_now

    created = event_dispatch_now(event_id)
    for pk in created:
        delivery_deliver(pk)
    return len(created)


@db_task()
def event_dispatch_many(event_ids: list[int]) -> int:
    """``event_dispatch`` for the events one ``emit_many`` wrote (one job instead of one per event)."""
    from needpool.notify.services import event_dispatch_now

    created = 0
    for event_id in event_ids:
        for pk in event_dispatch_now(event_id):
            delivery_deliver(pk)
            created += 1
    return created


@db_task()
def delivery_deliver(delivery_id: int) -> str:
    from needpool.notify.services import delivery_send

    return delivery_send(delivery_id)


@db_periodic_task(crontab(minute="*"))
def deliveries_retry_due() -> int:
    """Every minute: send the deliveries whose backoff has passed (and those whose job was lost)."""
    from needpool.notify.services import deliveries_due, delivery_send

    return sum(delivery_send(pk) == "sent" for pk in deliveries_due())


@db_periodic_task(crontab(hour="8", minute="0"))
def digests_daily() -> int:
    """At 08:00 site time: make each user's daily digest and send each in its own job (a rerun sends nothing twice)."""
    from needpool.notify.services import digests_prepare

    created = digests_prepare()
    for pk in created:
        digest_deliver(pk)
    return len(created)


@db_task()
def digest_deliver(run_id: int) -> str:
    from needpool.notify.services import digest_send

    return digest_send(run_id)


@db_periodic_task(crontab(minute="*/5"))
def digests_retry_due() -> int:
    """Every five minutes: send the digests whose backoff has passed (and those whose job was lost)."""
    from needpool.notify.services import digest_send, digests_due

    return sum(digest_send(pk) == "sent" for pk in digests_due())
