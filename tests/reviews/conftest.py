"""Fixtures of the review tests: a meeting chaired by the product manager, requirements on either flow."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from needpool.accounts.models import User
from needpool.customers.models import Customer
from needpool.requirements.models import Requirement, Workflow
from needpool.reviews.models import ReviewAttendee, ReviewMeeting


@pytest.fixture
def pm(users: dict[str, User]) -> User:
    pm = users["product_manager"]
    pm.email = "pm@example.com"
    pm.save(update_fields=["email"])
    return pm


@pytest.fixture
def make_meeting(pm: User, users: dict[str, User]) -> Callable[..., ReviewMeeting]:
    from needpool.reviews.services import meeting_create

    def make(**extra: Any) -> ReviewMeeting:
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

    return make


@pytest.fixture
def meeting(make_meeting: Callable[..., ReviewMeeting]) -> ReviewMeeting:
    return make_meeting()


@pytest.fixture
def reviewed_flow(users: dict[str, User]) -> Workflow:
    from needpool.requirements.services.configuration import workflow_activate

    return workflow_activate(actor=users["admin"], workflow=Workflow.objects.get(key="reviewed"))


@pytest.fixture
def make_requirement(users: dict[str, User], customer: Customer) -> Callable[..., Requirement]:
    from needpool.requirements.services import requirement_create

    def make(title: str = "批量导出报表", actor: User | None = None, **extra: Any) -> Requirement:
        fields: dict[str, Any] = {
            "customer": customer,
            "title": title,
            "background": "每月对账",
            "concrete_ask": "支持 Excel 导出",
            "expected_date": dt.date(2030, 1, 1),
            "owner": users["service"],
        }
        fields.update(extra)
        return requirement_create(actor=actor or users["sales"], **fields)

    return make


@pytest.fixture
def in_review(reviewed_flow: Workflow, make_requirement: Callable[..., Requirement], pm: User) -> Requirement:
    """A requirement of the reviewed flow in 评审中."""
    from needpool.requirements.services import requirement_transition

    req = make_requirement("评审流程的需求")
    assert req.status.key == "to_analyse"
    return requirement_transition(actor=pm, requirement=req, to="in_review")
