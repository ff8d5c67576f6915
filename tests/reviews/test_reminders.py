"""Deferred requirements come back on their revisit date: the chair and the owner are reminded once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from needpool.core.models import Notification
from needpool.notify.models import Event
from needpool.requirements.services import requirement_transition
from needpool.reviews import services
from needpool.reviews.tasks import remind_revisits

pytestmark = pytest.mark.django_db


def test_revisit_reminder_once_on_the_day_while_still_deferred(meeting, pm, users, requirement):
    requirement.owner = users["service"]
    requirement.save()
    item = services.agenda_add(actor=pm, meeting=meeting, requirement_ids=[requirement.pk])[0]
    day = timezone.localdate() + dt.timedelta(days=10)
    services.decide(actor=pm, item=item, decision="deferred", revisit_date=day, note="等预算")
    Notification.objects.all().delete()
    before = timezone.make_aware(dt.datetime.combine(day - dt.timedelta(days=1), dt.time(9)))
    assert services.revisit_remind(now=before) == 0
    on_the_day = timezone.make_aware(dt.datetime.combine(day, dt.time(9)))
    assert services.revisit_remind(now=on_the_day) == 1
    assert services.revisit_remind(now=on_the_day + dt.timedelta(hours=1)) == 0  # run twice, told once
    notices = Notification.objects.filter(kind=Notification.Kind.REVIEW)
    assert sorted(n.recipient.username for n in notices) == ["product_manager", "service"]  # chair and owner
    assert "重新评审日期" in notices[0].text and "等预算" in notices[0].text
    event = Event.objects.get(key__startswith=f"review:revisit:{item.pk}:")
    assert sorted(event.recipients) == sorted([pm.pk, users["service"].pk])


def test_chair_is_told_when_someone_else_deferred(meeting, pm, users, requirement):
    item = services.agenda_add(actor=pm, meeting=meeting, requirement_ids=[requirement.pk])[0]
    today = timezone.localdate()
    services.decide(actor=users["manager"], item=item, decision="deferred", revisit_date=today)
    assert remind_revisits.call_local() == 1
    revisit = Notification.objects.filter(recipient=pm, kind=Notification.Kind.REVIEW, text__contains="重新评审日期")
    assert revisit.count() == 1
    assert pm.pk in Event.objects.get(key=f"review:revisit:{item.pk}:{today.isoformat()}").recipients


def test_no_reminder_once_the_requirement_moved_on(meeting, pm, users, requirement):
    item = services.agenda_add(actor=pm, meeting=meeting, requirement_ids=[requirement.pk])[0]
    services.decide(actor=pm, item=item, decision="deferred", revisit_date=timezone.localdate())
    requirement_transition(actor=pm, requirement=requirement, to="in_progress")
    assert services.revisit_remind() == 0
