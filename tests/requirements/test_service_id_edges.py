"""Ids and expected statuses that reach the services from any caller: refused with a message, never a 500."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from needpool.requirements.merging.services import _ids

ODD_IDS = st.one_of(
    st.integers(min_value=2**63, max_value=2**80),
    st.integers(max_value=0),
    st.sampled_from(["²", "٣", "１２", "1e3", "0x10", "", " ", "-1", "9" * 40]),
)


@given(value=ODD_IDS)
def test_merge_ids_refuse_what_no_row_can_have(value) -> None:
    with pytest.raises(ValidationError):
        _ids([value])


def test_merge_ids_keep_order_and_drop_repeats() -> None:
    assert _ids(["3", 1, " 3 ", 2]) == [3, 1, 2]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(expected=st.sampled_from(["²", "٣", "9" * 40, "-1", "pending-x", str(2**64)]))
@pytest.mark.django_db
def test_a_strange_expected_status_is_a_stale_move(api, users, requirement, expected) -> None:
    response = api(users["product_manager"]).post(
        f"/api/v1/requirements/{requirement.pk}/transition/", {"to": "rejected", "note": "重复", "from": expected}
    )
    assert response.status_code in (400, 409), response.content[:200]
    requirement.refresh_from_db()
    assert requirement.status.key != "rejected"
