"""Two admins edit the classification rules at the same moment (real threads on PostgreSQL): one If-Match
gives one 200 and one 412; edits without a precondition both apply, each with its own rule version."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from needpool.requirements.models import ClassificationRuleVersion, ClassOption
from tests.races import at_once as _at_once

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are proven on PostgreSQL"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _admins(n: int) -> list[Any]:
    from needpool.accounts.models import User

    return [
        User.objects.create_user(username=f"admin-race-{i}", password="x-9-long-enough", role="admin") for i in range(n)
    ]


def _client(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_two_admins_with_one_if_match_give_one_200_and_one_412():
    first, second = _admins(2)
    urgent = ClassOption.objects.get(dimension="urgency", key="urgent")
    url = f"/api/v1/classification/options/{urgent.pk}/"
    for round_ in range(3):
        tag = _client(first).get(url)["ETag"]
        versions = ClassificationRuleVersion.objects.count()

        def editor(user: Any, hours: int, tag: str = tag) -> Callable[[], Any]:
            return lambda: _client(user).patch(url, {"sla_hours": hours}, format="json", HTTP_IF_MATCH=tag)

        responses, errors = _at_once([editor(first, 10 + round_), editor(second, 20 + round_)])
        assert not errors, errors
        assert sorted(r.status_code for r in responses) == [200, 412]
        winner = next(r for r in responses if r.status_code == 200)
        urgent.refresh_from_db()
        assert urgent.sla_hours == winner.json()["sla_hours"]
        assert ClassificationRuleVersion.objects.count() == versions + 1  # the refused edit left no version


def test_concurrent_edits_without_if_match_each_get_their_own_rule_version():
    people = _admins(4)
    tags = list(ClassOption.objects.filter(dimension="tag").order_by("pk")[:4])
    start = ClassificationRuleVersion.objects.count()

    def editor(user: Any, option: ClassOption, n: int) -> Callable[[], Any]:
        url = f"/api/v1/classification/options/{option.pk}/"
        return lambda: _client(user).patch(url, {"description": f"说明 {n}"}, format="json")

    responses, errors = _at_once([editor(u, o, n) for n, (u, o) in enumerate(zip(people, tags, strict=True))])
    assert not errors, errors
    assert [r.status_code for r in responses] == [200] * 4
    numbers = list(ClassificationRuleVersion.objects.order_by("number").values_list("number", flat=True))
    assert len(numbers) == start + 4 and numbers == list(range(numbers[0], numbers[0] + len(numbers)))
