"""Races on one requirement, with real threads on PostgreSQL: many moves at once, two edits with one If-Match."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from needpool.requirements.models import Requirement, StatusChange, WorkflowTransition
from tests.races import at_once as _at_once

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are proven on PostgreSQL"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _people(n: int) -> list[Any]:
    from needpool.accounts.models import User

    return [
        User.objects.create_user(username=f"pm-race-{i}", password="x-9-long-enough", role="product_manager")
        for i in range(n)
    ]


def _standardised(actor: Any) -> Requirement:
    import datetime as dt

    from needpool.customers.services import customer_create
    from needpool.requirements.services import requirement_create

    customer = customer_create(actor=actor, name="并发客户")
    return requirement_create(
        actor=actor,
        customer=customer,
        title="并发流转",
        background="背景",
        concrete_ask="诉求",
        expected_date=dt.date(2030, 1, 1),
    )


def _client(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_many_moves_at_once_record_exactly_the_moves_that_applied():
    people = _people(6)
    req = _standardised(people[0])
    targets = ["in_progress", "in_progress", "deferred", "rejected", "in_progress", "deferred"]
    url = f"/api/v1/requirements/{req.pk}/transition/"

    def mover(user: Any, to: str) -> Callable[[], Any]:
        return lambda: _client(user).post(url, {"to": to, "note": "并发测试"}, format="json")

    responses, errors = _at_once([mover(u, t) for u, t in zip(people, targets, strict=True)])
    assert not errors, errors
    codes = [r.status_code for r in responses]
    assert all(code in (200, 400, 409) for code in codes), [(r.status_code, r.content[:200]) for r in responses]
    for r in responses:
        if r.status_code == 409:
            assert {"key", "label"} <= set(r.json()["status"])
    moved = codes.count(200)
    assert moved >= 1
    req.refresh_from_db()
    changes = list(StatusChange.objects.filter(requirement=req).order_by("id"))
    assert len(changes) == 1 + moved  # creation + each move that answered 200
    for before, after in itertools.pairwise(changes):
        assert after.source_id == before.target_id  # an unbroken chain
        assert WorkflowTransition.objects.filter(source_id=after.source_id, target_id=after.target_id).exists()
    assert changes[-1].target_id == req.status_id
    assert req.version == 1 + moved


@pytest.mark.parametrize("method", ["put", "patch"])
def test_two_edits_with_one_if_match_give_one_200_and_one_412(method):
    people = _people(2)
    req = _standardised(people[0])
    url = f"/api/v1/requirements/{req.pk}/"
    for round_ in range(3):
        tag = _client(people[0]).get(url)["ETag"]

        def editor(user: Any, title: str, tag: str = tag) -> Callable[[], Any]:
            body = {"title": title, "description": "", "background": "背景", "concrete_ask": "诉求"}
            return lambda: getattr(_client(user), method)(url, body, format="json", HTTP_IF_MATCH=tag)

        responses, errors = _at_once([editor(people[0], f"甲{round_}"), editor(people[1], f"乙{round_}")])
        assert not errors, errors
        assert sorted(r.status_code for r in responses) == [200, 412]
        winner = next(r for r in responses if r.status_code == 200)
        req.refresh_from_db()
        assert req.title == winner.json()["title"]  # the refused edit left no trace
        assert responses[0]["ETag"] == responses[1]["ETag"] == f'W/"{req.version}"'
