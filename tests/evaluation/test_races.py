"""Two at once: the listener and the job opening the same launch's evaluation, two people completing the same
evaluation, two reminder runs on the same day. One wins, nothing is doubled."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from needpool.accounts.models import User
from needpool.core.concurrency import StaleVersion
from needpool.core.models import Notification
from needpool.evaluation import services
from needpool.evaluation.models import Evaluation
from tests.races import at_once

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers are proven on PostgreSQL"),
]


def together(*calls: Callable[[], Any]) -> tuple[list[Any], list[BaseException]]:
    return at_once(list(calls))


@pytest.fixture
def launched(django_capture_on_commit_callbacks: Any) -> Any:
    from needpool.customers.services import customer_create
    from needpool.requirements.models import ClassOption
    from needpool.requirements.services import requirement_create, requirement_transition

    owner = User.objects.create_user(username="pm-race", password="x-9-long-enough", role="product_manager")
    customer = customer_create(actor=owner, name="并发客户")
    requirement = requirement_create(
        actor=owner,
        customer=customer,
        title="并发评估",
        background="背景",
        concrete_ask="诉求",
        expected_date=timezone.localdate(),
        type=ClassOption.objects.get(dimension="type", key="function_improvement"),
        submitted_at=timezone.now(),
        owner=owner,
    )
    with django_capture_on_commit_callbacks(execute=False):  # no listener: the race below opens it
        for key in ("in_progress", "testing", "launched"):
            requirement = requirement_transition(actor=owner, requirement=requirement, to=key)
    return requirement, owner


def test_listener_and_job_at_once_open_one_evaluation(launched: Any) -> None:
    requirement, _owner = launched
    change = requirement.status_changes.order_by("-at", "-pk").first()
    results, errors = together(
        lambda: services.evaluation_open_for_launch(change=change),
        lambda: services.evaluation_open_for_launch(change=change),
    )
    assert not errors, errors
    assert Evaluation.objects.filter(requirement=requirement).count() == 1
    assert len({r.pk for r in results}) == 1


def test_two_people_completing_the_same_version_give_one_success(launched: Any) -> None:
    requirement, owner = launched
    change = requirement.status_changes.order_by("-at", "-pk").first()
    evaluation = services.evaluation_open_for_launch(change=change)
    assert evaluation is not None
    other = User.objects.create_user(username="mgr-race", password="x-9-long-enough", role="manager")
    results, errors = together(
        lambda: services.evaluation_complete(actor=owner, evaluation=evaluation, expected_version=1, met="yes"),
        lambda: services.evaluation_complete(actor=other, evaluation=evaluation, expected_version=1, met="no"),
    )
    assert len(results) == 1 and len(errors) == 1 and isinstance(errors[0], StaleVersion)
    evaluation.refresh_from_db()
    assert evaluation.version == 2 and evaluation.met == results[0].met


def test_two_reminder_runs_at_once_remind_once(launched: Any) -> None:
    requirement, owner = launched
    change = requirement.status_changes.order_by("-at", "-pk").first()
    evaluation = services.evaluation_open_for_launch(change=change)
    assert evaluation is not None
    Evaluation.objects.filter(pk=evaluation.pk).update(due_date=timezone.localdate())
    now = timezone.now()
    results, errors = together(
        lambda: services.evaluation_reminders_send(now=now), lambda: services.evaluation_reminders_send(now=now)
    )
    assert not errors, errors
    assert sorted(results) == [0, 1]
    assert Notification.objects.filter(recipient=owner, kind=Notification.Kind.EVALUATION).count() == 1
