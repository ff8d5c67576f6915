"""Background jobs through the configured queue (SQLite file by default, Redis when configured)."""

import datetime as dt

import pytest
from django.conf import settings
from django.utils import timezone

from needpool.requirements.models import Requirement
from needpool.requirements.services import requirement_create
from tests.conftest import option


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_sla_job_runs_through_the_real_queue(users, customer, _jobs_run_immediately):
    from needpool.requirements.tasks import sla_check

    huey = _jobs_run_immediately
    huey.immediate = False
    expected_storage = "PriorityRedisStorage" if settings.NEEDPOOL_REDIS_URL else "SqliteStorage"
    assert type(huey.storage).__name__ == expected_storage
    huey.flush()
    requirement_create(
        actor=users["sales"],
        customer=customer,
        title="紧急：系统无法下单",
        urgency=option("urgency", "urgent"),
        submitted_at=timezone.now() - dt.timedelta(hours=23),
    )
    assert not Requirement.objects.get().sla_breached
    # an hour on, its deadline has passed: the job, not the create, flags it
    Requirement.objects.update(first_response_due=timezone.now() - dt.timedelta(minutes=1))
    sla_check()  # enqueued, not yet run
    assert huey.pending_count() == 1
    assert not Requirement.objects.get().sla_breached
    task = huey.dequeue()
    huey.execute(task)
    assert Requirement.objects.get().sla_breached
    huey.flush()


def test_periodic_sla_job_is_scheduled():
    from needpool.requirements.tasks import sla_check

    periodic = sla_check.task_class()
    assert periodic.validate_datetime(dt.datetime(2024, 3, 1, 9, 0))
    assert not periodic.validate_datetime(dt.datetime(2024, 3, 1, 9, 1))
