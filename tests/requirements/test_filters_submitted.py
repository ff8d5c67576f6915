"""The submitted-from / submitted-to filters are a range of ``submitted_at`` (its index) that keeps exactly the
requirements whose local submission day is in the period, as the day of each row (``__date``) would."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from needpool.requirements.filters import RequirementFilter
from needpool.requirements.models import Requirement

pytestmark = pytest.mark.django_db

BASE = dt.date(2025, 3, 10)
# Moments around local midnights (a second before, at, a second after), and the middle of a day.
OFFSETS = st.sampled_from([-1, 0, 1, 12 * 3600])


class _Rollback(Exception):
    pass


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    moments=st.lists(st.tuples(st.integers(0, 3), OFFSETS), min_size=1, max_size=6),
    after=st.one_of(st.none(), st.integers(0, 3)),
    before=st.one_of(st.none(), st.integers(0, 3)),
)
def test_the_period_keeps_the_local_days_in_it(
    make_requirements: Any, moments: list[tuple[int, int]], after: int | None, before: int | None
) -> None:
    data = {}
    if after is not None:
        data["submitted_after"] = (BASE + dt.timedelta(days=after)).isoformat()
    if before is not None:
        data["submitted_before"] = (BASE + dt.timedelta(days=before)).isoformat()
    try:
        with transaction.atomic():
            made = make_requirements(len(moments))
            for requirement, (day, offset) in zip(made, moments, strict=True):
                midnight = timezone.make_aware(dt.datetime.combine(BASE + dt.timedelta(days=day), dt.time.min))
                Requirement.objects.filter(pk=requirement.pk).update(
                    submitted_at=midnight + dt.timedelta(seconds=offset)
                )
            ids = [r.pk for r in made]
            mine = Requirement.objects.filter(pk__in=ids)
            found = set(RequirementFilter(data, queryset=mine).qs.values_list("pk", flat=True))
            expected = mine
            if after is not None:
                expected = expected.filter(submitted_at__date__gte=BASE + dt.timedelta(days=after))
            if before is not None:
                expected = expected.filter(submitted_at__date__lte=BASE + dt.timedelta(days=before))
            assert found == set(expected.values_list("pk", flat=True))
            raise _Rollback
    except _Rollback:
        pass


def test_the_filter_compares_the_column_itself(make_requirements: Any) -> None:
    """No function of the column in the SQL, so the submitted_at index can serve the range."""
    make_requirements(1)
    sql = str(RequirementFilter({"submitted_after": "2025-01-01"}, queryset=Requirement.objects.all()).qs.query)
    where = sql.split("WHERE", 1)[1]
    assert '"requirements_requirement"."submitted_at" >=' in where
    assert "django_datetime_cast_date" not in where and "AT TIME ZONE" not in where
