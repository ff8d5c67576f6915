"""The detail page shows an SLA breach the moment it is true (sla.state at render time), not only after
the periodic job (services.sla_mark_breaches) has flagged it."""

from __future__ import annotations

import datetime as dt
import re
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from needpool.requirements.models import Requirement
from needpool.requirements.services import requirement_create
from tests.conftest import option

pytestmark = pytest.mark.django_db


def _sla(client, pk):
    html = client.get(reverse("requirements:detail", args=[pk])).content.decode()
    state = re.search(r'id="sla-state" data-state="(\w+)"', html)
    assert state
    return state.group(1), html


def _urgent(users, submitted_at):
    return requirement_create(
        actor=users["sales"], title="系统宕机无法下单", urgency=option("urgency", "urgent"), submitted_at=submitted_at
    )


def test_breach_shows_as_soon_as_the_deadline_passes(client, users):
    start = timezone.now()
    requirement = _urgent(users, start)  # 紧急: 24 hours to the first response
    client.force_login(users["product_manager"])

    state, html = _sla(client, requirement.pk)
    assert state == "running"
    assert "还剩" in html and 'id="status-sla-breached"' not in html

    with mock.patch("django.utils.timezone.now", return_value=start + dt.timedelta(hours=25)):
        state, html = _sla(client, requirement.pk)
    assert state == "breached"
    assert 'id="status-sla-breached"' in html  # beside the status, on the first screen of a phone
    requirement.refresh_from_db()
    assert requirement.sla_breached is False  # the periodic job has not run: the page computed it


def test_one_second_before_the_deadline_is_not_a_breach(client, users):
    start = timezone.now()
    requirement = _urgent(users, start)
    client.force_login(users["product_manager"])
    with mock.patch("django.utils.timezone.now", return_value=start + dt.timedelta(hours=24) - dt.timedelta(seconds=1)):
        assert _sla(client, requirement.pk)[0] == "running"


def test_answered_in_time_is_met_and_a_flagged_breach_stays_shown(client, users):
    start = timezone.now()
    requirement = _urgent(users, start)
    Requirement.objects.filter(pk=requirement.pk).update(first_responded_at=start + dt.timedelta(hours=1))
    client.force_login(users["product_manager"])
    with mock.patch("django.utils.timezone.now", return_value=start + dt.timedelta(days=3)):
        assert _sla(client, requirement.pk)[0] == "met"
    Requirement.objects.filter(pk=requirement.pk).update(sla_breached=True)
    assert _sla(client, requirement.pk)[0] == "breached"


def test_no_deadline_without_an_sla(client, users, requirement):
    Requirement.objects.filter(pk=requirement.pk).update(first_response_due=None)
    client.force_login(users["product_manager"])
    assert _sla(client, requirement.pk)[0] == "none"
