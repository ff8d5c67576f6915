"""A small pool of duplicates with everything a merge must carry: feedback from several customers,
comments, attachments, watchers, status history, audit rows and Kano answers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from needpool.accounts.models import Team, User
from needpool.accounts.roles import Role
from needpool.customers.models import Customer
from needpool.requirements.models import Feedback, Requirement
from tests.conftest import option


@dataclass
class Pool:
    survivor: Requirement  # owned by sales, customer "小客户" (low value)
    dup_a: Requirement  # by the product manager: customer "大客户B", in progress, a comment, a file, a watcher
    dup_b: Requirement  # by the product manager: customers "大客户B" and "C零售", a comment
    other: Requirement  # unrelated, by the product manager
    small: Customer
    big: Customer
    retail: Customer


def _make(actor: User, customer: Customer | None, title: str, **extra: Any) -> Requirement:
    from needpool.requirements.services import requirement_create

    return requirement_create(
        actor=actor,
        customer=customer,
        title=title,
        background="客户批量下单多",
        concrete_ask="按客户等级自动打折",
        expected_date=dt.date(2025, 6, 30),
        type=option("type", "function_improvement"),
        urgency=option("urgency", "important"),
        submitted_at=timezone.now() - dt.timedelta(days=extra.pop("days_ago", 0)),
        **extra,
    )


@pytest.fixture
def outsider(make_user: Any) -> User:
    """A sales user of another team: sees none of this pool."""
    return make_user(Role.SALES, username="sales-other", team=Team.objects.create(name="销售二部"))


@pytest.fixture
def pool(users: dict[str, User]) -> Pool:
    from needpool.customers.services import customer_create
    from needpool.requirements.services import (
        attachment_add,
        comment_create,
        feedback_create,
        requirement_transition,
    )

    sales, pm = users["sales"], users["product_manager"]
    small = customer_create(actor=sales, name="小客户", yearly_purchase=10_000, owner=sales)
    big = customer_create(actor=pm, name="大客户B", yearly_purchase=9_000_000, owner=pm)
    retail = customer_create(actor=pm, name="C零售", yearly_purchase=2_000_000, owner=pm)

    survivor = _make(sales, small, "按客户等级设置批量订单折扣", days_ago=30)
    dup_a = _make(pm, big, "批量订单按会员等级打折", days_ago=20)
    requirement_transition(actor=pm, requirement=dup_a, to="in_progress", note="已开始评估")
    comment_create(actor=users["engineer"], requirement=dup_a, body="技术上可以复用价格引擎")
    attachment_add(
        actor=pm,
        requirement=dup_a,
        upload=SimpleUploadedFile("折扣规则.txt", "等级A 九折".encode(), content_type="text/plain"),
    )
    dup_a.watchers.add(users["viewer"], users["engineer"])
    survivor.watchers.add(users["engineer"])

    dup_b = _make(pm, big, "大客户下单自动折扣", days_ago=10)
    feedback_create(actor=pm, raw_text="零售门店也要批量折扣", channel="sales", customer=retail, requirement=dup_b)
    comment_create(actor=pm, requirement=dup_b, body="与 @engineer 确认过")

    other = _make(pm, None, "界面配色不够清晰")
    return Pool(survivor=survivor, dup_a=dup_a, dup_b=dup_b, other=other, small=small, big=big, retail=retail)


def feedback_map() -> dict[int, int | None]:
    return dict(Feedback.objects.values_list("pk", "requirement_id"))


def state() -> dict[str, Any]:
    """Everything a refused merge must leave untouched."""
    from needpool.core.models import AuditEntry, Notification
    from needpool.requirements.models import Attachment, Comment, RequirementMerge

    return {
        "feedback": feedback_map(),
        "comments": dict(Comment.objects.values_list("pk", "requirement_id")),
        "attachments": dict(Attachment.objects.values_list("pk", "requirement_id")),
        "watchers": sorted(Requirement.watchers.through.objects.values_list("requirement_id", "user_id")),
        "merged_into": dict(Requirement.objects.values_list("pk", "merged_into_id")),
        "audit": AuditEntry.objects.count(),
        "merges": RequirementMerge.objects.count(),
        "notifications": Notification.objects.count(),
    }
