"""Background jobs of the pool: they take ids or nothing, call a service, and are safe to run twice."""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from django.db import transaction
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from needpool.requirements.services import (
    requirements_refresh_customer_value,
    rules_review_remind,
    sla_mark_breaches,
)


@db_periodic_task(crontab(minute=f"*/{max(1, settings.NEEDPOOL_SLA_CHECK_MINUTES)}"))
def sla_check() -> int:
    """Flag requirements whose first-response deadline has passed unanswered."""
    return sla_mark_breaches()


@db_periodic_task(crontab(hour="8", minute="23"))
def classification_review_reminder() -> int:
    """Once a quarter (its first day, or 90 days after the last review), ask the admins to review the rules."""
    return rules_review_remind()


@db_task()
def dedup_embeddings_job() -> bool:
    """After many requirements arrived at once (an import): compute and store the embeddings of the new rows in
    the worker, so the web processes load them instead of computing them while people look up duplicates."""
    from needpool.requirements.dedup.index import prepare_embeddings

    return prepare_embeddings()


@db_task()
def refresh_customer_value(customer_ids: list[int]) -> int:
    return requirements_refresh_customer_value(customer_ids=customer_ids)


def refresh_customer_value_after_commit(customer_ids: Sequence[int]) -> None:
    """Listener for customers' value-tier changes (registered in ``RequirementsConfig.ready``): once the
    change is committed, queue ``refresh_customer_value`` for the requirements carrying their feedback."""
    ids = list(customer_ids)
    transaction.on_commit(lambda: refresh_customer_value(ids))
