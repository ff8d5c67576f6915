"""Two people at once on the same month's review: one row is made, one save of a version wins and the other is
refused with the conflict message (never a silent overwrite)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from needpool.accounts.models import User
from needpool.core.concurrency import StaleVersion
from needpool.reports import services
from needpool.reports.models import MonthlyReview
from tests.races import at_once

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers are proven on PostgreSQL"),
]

NOVEMBER = dt.date(2026, 11, 1)
NOW = timezone.make_aware(dt.datetime(2026, 12, 6, 10, 0))


@pytest.fixture
def two() -> tuple[User, User]:
    return (
        User.objects.create_user(username="mgr-race", password="x-9-long-enough", role="manager"),
        User.objects.create_user(username="pm-race", password="x-9-long-enough", role="product_manager"),
    )


def test_two_first_openings_make_one_row(two: Any) -> None:
    a, b = two
    results, errors = at_once(
        [
            lambda: services.monthly_review_get_or_create(actor=a, month=NOVEMBER, now=NOW),
            lambda: services.monthly_review_get_or_create(actor=b, month=NOVEMBER, now=NOW),
        ]
    )
    assert not errors, errors
    assert MonthlyReview.objects.count() == 1 and len({r.pk for r in results}) == 1


def test_two_saves_of_the_same_version_give_one_success_and_one_conflict(two: Any) -> None:
    a, b = two
    review = services.monthly_review_get_or_create(actor=a, month=NOVEMBER, now=NOW)
    results, errors = at_once(
        [
            lambda: services.monthly_review_update(actor=a, review=review, conclusions="经理的结论", version=1),
            lambda: services.monthly_review_update(actor=b, review=review, conclusions="产品经理的结论", version=1),
        ]
    )
    assert len(results) == 1 and len(errors) == 1 and isinstance(errors[0], StaleVersion)
    assert "已被他人修改" in errors[0].messages[0]
    review.refresh_from_db()
    assert review.version == 2 and review.conclusions == results[0].conclusions
