"""A customer's new value tier reaches its requirements: customers announce it, the pool queues a job after commit."""

from __future__ import annotations

import pytest
from django.db import transaction
from huey.storage import MemoryStorage

from needpool.customers.events import _value_tier_listeners
from needpool.customers.services import customer_update
from needpool.requirements.tasks import refresh_customer_value, refresh_customer_value_after_commit


def test_the_pool_listens_to_value_tier_changes():
    assert _value_tier_listeners.count(refresh_customer_value_after_commit) == 1  # RequirementsConfig.ready


def test_value_change_updates_linked_requirements(users, customer, requirement, django_capture_on_commit_callbacks):
    assert requirement.customer_value == "high"
    with django_capture_on_commit_callbacks(execute=True):
        customer_update(actor=users["sales"], customer=customer, yearly_purchase=100)
    requirement.refresh_from_db()
    assert requirement.customer_value == "low"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_refresh_is_queued_after_commit_and_runs_as_a_job(
    users, customer, requirement, _jobs_run_immediately, monkeypatch
):
    huey = _jobs_run_immediately
    huey.immediate = False  # queue for real, in memory (not the queue file other test processes share)
    monkeypatch.setattr(huey, "storage", MemoryStorage("needpool-test"))

    with transaction.atomic():
        customer_update(actor=users["sales"], customer=customer, yearly_purchase=100)
        assert huey.pending_count() == 0  # nothing is queued before the commit
    assert huey.pending_count() == 1
    requirement.refresh_from_db()
    assert requirement.customer_value == "high"  # not yet: the job has not run

    task = huey.dequeue()
    assert isinstance(task, refresh_customer_value.task_class)
    assert task.args == ([customer.pk],)
    huey.execute(task)
    requirement.refresh_from_db()
    assert requirement.customer_value == "low"


def test_an_edit_that_keeps_the_tier_queues_nothing(
    users, customer, requirement, django_capture_on_commit_callbacks, _jobs_run_immediately, monkeypatch
):
    huey = _jobs_run_immediately
    huey.immediate = False
    monkeypatch.setattr(huey, "storage", MemoryStorage("needpool-test"))
    with django_capture_on_commit_callbacks(execute=True):
        customer_update(actor=users["sales"], customer=customer, industry="电商", yearly_purchase=7_000_000)
    assert huey.pending_count() == 0
