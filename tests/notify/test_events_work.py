"""Delivery and reviews tell people through typed events: a task assigned or overdue (TASK), a review meeting's
invitation (REVIEW) and its decisions (REVIEW_DECISION); never the person who made the change, once each."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import transaction

from needpool.accounts.models import Team, User
from needpool.core.models import Notification
from needpool.delivery.models import Task
from needpool.delivery.services import overdue_remind, task_create, task_update
from needpool.notify.kinds import EventKind
from needpool.notify.models import Event
from needpool.requirements.models import Requirement
from needpool.reviews.models import AgendaItem, ReviewAttendee
from needpool.reviews.services import agenda_add, attendees_set, decide, meeting_create, meeting_update

pytestmark = pytest.mark.django_db
D = dt.date


@pytest.fixture
def pm(users: dict[str, User]) -> User:
    return users["product_manager"]


@pytest.fixture
def plan(pm: User, requirement: Requirement) -> Any:
    from needpool.delivery.services import plan_create

    return plan_create(
        actor=pm,
        requirements=[requirement],
        title="批量折扣规则上线",
        strategy="product_iteration",
        solution="在订单模块增加按客户等级的批量折扣配置",
        team=Team.objects.create(name="产品部"),
        owner=pm,
        start_date=D(2024, 3, 1),
        end_date=D(2024, 4, 30),
    )


def _task(actor: User, plan: Any, owner: User | None, **extra: Any) -> Task:
    return task_create(
        actor=actor, plan=plan, title="接口开发", start_date=D(2024, 3, 1), due_date=D(2024, 3, 5), owner=owner, **extra
    )


# ---------------------------------------------------------------- tasks


def test_a_task_assigned_to_someone_tells_them(plan: Any, pm: User, users: dict[str, User]) -> None:
    task = _task(pm, plan, users["engineer"])
    (event,) = Event.objects.filter(kind=EventKind.TASK, subject__id=task.pk)
    assert event.recipients == [users["engineer"].pk] and event.data["event"] == "assigned"
    assert event.subject["type"] == "task" and event.subject["plan"] == plan.pk
    notice = Notification.objects.get(recipient=users["engineer"], kind=EventKind.TASK)
    assert "接口开发" in notice.text and "2024-03-05" in notice.text


def test_a_task_the_planner_takes_himself_tells_nobody(plan: Any, pm: User) -> None:
    task = _task(pm, plan, pm)
    assert Event.objects.get(kind=EventKind.TASK, subject__id=task.pk).recipients == []
    assert not Notification.objects.filter(kind=EventKind.TASK).exists()


def test_a_task_handed_to_someone_else_tells_the_new_owner(plan: Any, pm: User, users: dict[str, User]) -> None:
    task = _task(pm, plan, users["engineer"])
    task_update(actor=pm, task=task, owner=users["manager"])
    task_update(actor=pm, task=Task.objects.get(pk=task.pk), title="接口开发（二期）")  # no new owner: nobody
    told = Event.objects.filter(kind=EventKind.TASK, subject__id=task.pk).order_by("pk")
    assert [e.recipients for e in told] == [[users["engineer"].pk], [users["manager"].pk]]


def test_an_overdue_task_tells_its_owner_and_the_plan_owner_once_a_day(
    plan: Any, pm: User, users: dict[str, User]
) -> None:
    from django.utils import timezone

    task = _task(pm, plan, users["engineer"])
    now = timezone.make_aware(dt.datetime(2024, 3, 7, 9))
    assert overdue_remind(now=now) == 1
    assert overdue_remind(now=now) == 0  # the same reminder run twice: one event
    (event,) = Event.objects.filter(key=f"task-overdue:{task.pk}:2024-03-07")
    assert sorted(event.recipients) == sorted([users["engineer"].pk, pm.pk])
    assert event.data == {"event": "overdue", "overdue_days": 2, "due_date": "2024-03-05"}


# ---------------------------------------------------------------- review meetings


def _meeting(pm: User, users: dict[str, User], **extra: Any) -> Any:
    from django.utils import timezone

    start = timezone.now() + dt.timedelta(days=7)
    fields: dict[str, Any] = {
        "title": "五月需求评审会",
        "starts_at": start,
        "ends_at": start + dt.timedelta(hours=2),
        "place": "3 楼会议室",
        "chair": pm,
        "attendees": [(users["engineer"], ReviewAttendee.Role.RD), (users["sales"], ReviewAttendee.Role.SALES)],
    }
    fields.update(extra)
    return meeting_create(actor=pm, **fields)


def _invited(meeting: Any) -> list[Event]:
    return list(
        Event.objects.filter(kind=EventKind.REVIEW, key__startswith=f"review:invite:{meeting.pk}:").order_by("pk")
    )


def test_an_invited_person_gets_the_calendar_mail_and_no_second_mail_of_the_event(
    pm: User, users: dict[str, User]
) -> None:
    from needpool.core.models import OutboundMail
    from needpool.notify.kinds import Channel
    from needpool.notify.models import Preference
    from needpool.notify.services import event_targets

    engineer, sales = users["engineer"], users["sales"]
    engineer.email = "eng@example.com"
    engineer.save()
    for user in (engineer, sales):  # both want review events by mail; only the engineer has an address
        Preference.objects.create(user=user, kind=EventKind.REVIEW, channels=[Channel.INAPP, Channel.MAIL])
    meeting = _meeting(pm, users)
    (event,) = _invited(meeting)
    assert event.mailed == [engineer.pk]
    targets = event_targets(event)
    assert f"mail:{engineer.pk}" not in targets  # the invitation (.ics) was the mail
    assert f"mail:{sales.pk}" in targets  # no invitation reached sales: the event's own mail is theirs
    assert OutboundMail.objects.filter(to=["eng@example.com"]).count() == 1
    assert Notification.objects.filter(recipient=engineer, kind=EventKind.REVIEW).count() == 1  # still in the app


def test_participants_are_invited_not_the_chair_who_made_the_meeting(pm: User, users: dict[str, User]) -> None:
    meeting = _meeting(pm, users)
    (event,) = _invited(meeting)
    assert sorted(event.recipients) == sorted([users["engineer"].pk, users["sales"].pk])
    assert event.subject == {"type": "review", "id": meeting.pk, "code": "", "title": "五月需求评审会"}
    invited = Notification.objects.get(recipient=users["sales"], kind=EventKind.REVIEW)
    assert invited.text == "评审会议邀请：五月需求评审会"


def test_a_newcomer_is_invited_once_and_the_others_not_again(pm: User, users: dict[str, User]) -> None:
    meeting = _meeting(pm, users)
    seats = [(users["engineer"], "rd"), (users["sales"], "sales"), (users["service"], "other")]
    attendees_set(actor=pm, meeting=meeting, attendees=seats)
    attendees_set(actor=pm, meeting=meeting, attendees=seats)  # nothing new: nobody told again
    assert [sorted(e.recipients) for e in _invited(meeting)] == [
        sorted([users["engineer"].pk, users["sales"].pk]),
        [users["service"].pk],
    ]


def test_a_rescheduled_meeting_tells_everyone_of_the_update(pm: User, users: dict[str, User]) -> None:
    meeting = _meeting(pm, users)
    meeting_update(
        actor=users["manager"],
        meeting=meeting,
        starts_at=meeting.starts_at + dt.timedelta(days=1),
        ends_at=meeting.ends_at + dt.timedelta(days=1),
    )
    update = [e for e in _invited(meeting) if ":v2:" in e.key]
    assert len(update) == 1 and update[0].message == "评审会议更新：%(title)s"
    assert sorted(update[0].recipients) == sorted([users["engineer"].pk, users["sales"].pk, pm.pk])


@pytest.mark.parametrize("decider", ["product_manager", "manager"])
def test_a_decision_tells_requester_owner_watchers_and_participants_not_the_decider(
    pm: User, users: dict[str, User], requirement: Requirement, decider: str
) -> None:
    requirement.watchers.add(users["compliance"])
    Requirement.objects.filter(pk=requirement.pk).update(owner=users["service"])
    meeting = _meeting(pm, users)
    item = agenda_add(actor=pm, meeting=meeting, requirement_ids=[requirement.pk])[0]
    decide(actor=users[decider], item=item, decision="rejected", note="超出范围")
    decide(actor=users[decider], item=AgendaItem.objects.get(pk=item.pk), decision="rejected", note="超出范围")
    (event,) = Event.objects.filter(kind=EventKind.REVIEW_DECISION)
    everyone = {"sales", "service", "compliance", "engineer", "product_manager"}
    assert {User.objects.get(pk=pk).username for pk in event.recipients} == everyone - {decider}
    assert event.data["decision"] == "rejected" and event.data["note"] == "超出范围"
    assert event.teams == [users["service"].team_id] and event.subject["id"] == requirement.pk
    text = Notification.objects.get(recipient=users["compliance"], kind=EventKind.REVIEW_DECISION).text
    assert text == f"评审会议“五月需求评审会”对需求 {requirement.code} 的决策：拒绝。理由：超出范围"


def test_a_decision_rolled_back_tells_nobody(pm: User, users: dict[str, User], requirement: Requirement) -> None:
    meeting = _meeting(pm, users)
    item = agenda_add(actor=pm, meeting=meeting, requirement_ids=[requirement.pk])[0]

    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        decide(actor=pm, item=item, decision="rejected", note="超出范围")
        raise Abort
    assert not Event.objects.filter(kind__in=[EventKind.REVIEW_DECISION, EventKind.STATUS]).exists()
    assert not Notification.objects.filter(kind=EventKind.REVIEW_DECISION).exists()
