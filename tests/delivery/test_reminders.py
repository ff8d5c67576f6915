"""Overdue reminders with time frozen: once per task and day, not for done tasks, again the next day."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from needpool.core.models import Notification
from needpool.delivery import selectors, services
from needpool.delivery.models import OverdueReminder
from needpool.notify.models import Delivery, Event

pytestmark = pytest.mark.django_db


def at(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(9, 0)))


@pytest.fixture
def mailed(users):
    for name in ("engineer", "product_manager"):
        users[name].email = f"{name}@needpool.example.cn"
        users[name].save()
    return users


def _task_notices(user):
    return Notification.objects.filter(recipient=user, kind="task", text__contains="已逾期")


def test_an_overdue_task_reminds_its_owner_and_the_plan_manager_once_a_day(
    mailed, example_tasks, engineer, pm, django_capture_on_commit_callbacks
):
    dev = example_tasks["dev"]  # due 2024-04-10, owner engineer, plan manager pm
    assert services.overdue_remind(now=at(dt.date(2024, 4, 10))) == 1  # PRD (due 3/5, not done) only
    first_day = dt.date(2024, 4, 12)
    with django_capture_on_commit_callbacks(execute=True):
        sent = services.overdue_remind(now=at(first_day))
        assert sent == 2  # PRD and 开发
        assert services.overdue_remind(now=at(first_day)) == 0  # run twice on one day: nothing more
    assert _task_notices(engineer).filter(text__contains="开发").count() == 1
    assert _task_notices(pm).filter(text__contains="开发").count() == 1
    reminder = OverdueReminder.objects.get(task=dev, day=first_day)
    assert reminder.recipients == 2
    event = Event.objects.get(key=f"task-overdue:{dev.pk}:{first_day.isoformat()}")
    assert event.kind == "task" and sorted(event.recipients) == sorted([engineer.pk, pm.pk])
    mailed_once = Delivery.objects.filter(event=event, target=f"mail:{engineer.pk}", status=Delivery.Status.SENT)
    assert mailed_once.count() == 1
    # Next day: reminded again.
    assert services.overdue_remind(now=at(first_day + dt.timedelta(days=1))) == 2
    assert _task_notices(engineer).filter(text__contains="开发").count() == 2


def test_done_tasks_and_tasks_due_today_are_not_reminded(mailed, example_tasks, pm):
    services.task_move(actor=pm, task=example_tasks["prd"], status="done")
    assert services.overdue_remind(now=at(dt.date(2024, 4, 10))) == 0  # 开发 is due that day: not yet overdue
    assert not OverdueReminder.objects.exists()


def test_the_periodic_job_calls_the_service(mailed, example_tasks, monkeypatch):
    from needpool.delivery import tasks

    monkeypatch.setattr(timezone, "now", lambda: at(dt.date(2024, 3, 6)))
    assert tasks.remind_overdue_tasks.call_local() == 1
    assert tasks.remind_overdue_tasks.call_local() == 0


def test_overdue_tasks_selector_for_the_home_page(example_tasks, engineer, pm, users):
    day = dt.date(2024, 4, 15)
    assert [t.title for t in selectors.overdue_tasks(engineer, today=day)] == ["开发"]
    assert [t.title for t in selectors.overdue_tasks(pm, today=day)] == ["PRD", "开发"]  # owns PRD, manages the plan
    assert list(selectors.overdue_tasks(users["sales"], today=day)) == []


def test_tasks_of_a_plan_whose_requirements_are_all_finished_are_not_chased(
    mailed, example_tasks, plan, requirement, users, make_requirements
):
    from needpool.requirements.services import requirement_transition

    day = at(dt.date(2024, 4, 12))
    second = make_requirements(1)[0]
    plan.requirements.add(second)
    requirement_transition(actor=users["admin"], requirement=requirement, to="rejected", note="不再需要")
    assert services.overdue_remind(now=day) == 2  # the second requirement is still open: its work is chased
    requirement_transition(actor=users["admin"], requirement=second, to="rejected", note="不再需要")
    assert services.overdue_remind(now=day + dt.timedelta(days=1)) == 0  # nothing open is left behind the plan
