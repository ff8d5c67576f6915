"""Ids and dates out of range at each kind of edge: exports refuse before the first row, forms and API bodies
refuse with the one Chinese message and write nothing, the merge list and the duplicate lookup's exclude
answer 400 with the documented body."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from needpool.customers.models import Customer, Interaction
from needpool.requirements.models import Requirement
from tests.conftest import option

HUGE = "99999999999999999999"
DATE_MESSAGE = "日期必须在 1900-01-01 到 2200-12-31 之间。"
ID_MESSAGE = "编号必须是 1 到 9223372036854775807 之间的整数。"


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/intake/export/requirements/intake.csv", {"customer": HUGE}),
        ("/intake/export/requirements/management.csv", {"owner": f"-{HUGE}"}),
        ("/intake/export/requirements/intake.xlsx", {"expected_after": "0004-01-01"}),
        ("/intake/export/requirements/priority.csv", {"submitted_before": "9999-12-31"}),
        ("/intake/export/customers.csv", {"owner": HUGE}),
        ("/intake/export/interactions.csv", {"owner": "²"}),
    ],
)
def test_an_export_with_a_bad_filter_is_refused_before_any_row(client, admin_user, pool, path, query):
    client.force_login(admin_user)
    response = client.get(path, query)
    assert response.status_code == 400
    assert not response.streaming
    html = response.content.decode()
    assert "筛选条件有误，未导出" in html
    # The id filters' message, the date filters', or a choice's (the owner is a select on the page).
    assert ID_MESSAGE in html or DATE_MESSAGE in html or "这一项，请从列表中选择" in html


def test_an_export_with_good_filters_runs_to_its_end(client, admin_user, pool):
    client.force_login(admin_user)
    response = client.get("/intake/export/requirements/intake.csv", {"customer": str(pool["r1"].pk + 10**6)})
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"\xef\xbb\xbf")


@pytest.mark.parametrize("day", ["0004-01-01", "0001-01-01", "9999-12-31", "1899-12-31", "2201-01-01"])
def test_the_requirement_form_refuses_a_date_out_of_range_and_writes_nothing(client, users, customer, day):
    client.force_login(users["sales"])
    before = Requirement.objects.count()
    data = {"customer": customer.pk, "channel": "sales", "title": "开放 API", "expected_date": day}
    data["type"] = option("type", "function").pk
    response = client.post(reverse("requirements:create"), data)
    assert response.status_code == 200
    assert DATE_MESSAGE in response.content.decode()
    assert Requirement.objects.count() == before


def test_the_edges_of_the_range_are_taken(api, users, customer):
    client = api(users["sales"])
    for day in ("1900-01-01", "2200-12-31"):
        body = {"title": f"边界 {day}", "customer": customer.pk, "expected_date": day}
        response = client.post("/api/v1/requirements/", body, format="json")
        assert response.status_code == 201, response.json()
        assert response.json()["expected_date"] == day


@pytest.mark.parametrize(
    ("path", "field", "value"),
    [
        ("/api/v1/requirements/", "expected_date", "0004-01-01"),
        ("/api/v1/customers/", "founded", "9999-12-31"),
        ("/api/v1/interactions/", "occurred_at", "0001-01-01T00:00:00Z"),
        ("/api/v1/interactions/", "next_follow_up_date", "2201-01-01"),
    ],
)
def test_api_bodies_refuse_dates_out_of_range_and_write_nothing(api, users, customer, path, field, value):
    counts = (Requirement.objects.count(), Customer.objects.count(), Interaction.objects.count())
    base = {
        "/api/v1/requirements/": {"title": "开放 API", "customer": customer.pk},
        "/api/v1/customers/": {"name": "C公司"},
        "/api/v1/interactions/": {
            "customer": customer.pk,
            "occurred_at": "2024-03-01T10:00:00+08:00",
            "channel": "visit",
            "key_content": "拜访",
        },
    }[path]
    response = api(users["sales"]).post(path, {**base, field: value}, format="json")
    assert response.status_code == 400
    assert response.json()[field] == [DATE_MESSAGE]
    assert (Requirement.objects.count(), Customer.objects.count(), Interaction.objects.count()) == counts


@given(
    survivor=st.one_of(st.integers(min_value=-(2**70), max_value=2**70), st.text(max_size=22)),
    merged=st.lists(st.one_of(st.integers(min_value=-(2**70), max_value=2**70), st.text(max_size=22)), max_size=3),
)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_the_merge_list_takes_only_ids_in_range(api, admin_user, pool, survivor: Any, merged: list[Any]) -> None:
    """An attacker's merge list (huge, negative, text ids) is a 400 or a refusal by the service: never a 500,
    and nothing is merged unless every id is a real requirement."""
    response = api(admin_user).post(
        "/api/v1/requirements/merge/", {"survivor": survivor, "merged": merged}, format="json"
    )
    assert response.status_code in (200, 400, 403, 404)
    if response.status_code == 400:
        assert isinstance(response.json(), dict)


@pytest.mark.parametrize("bad", [HUGE, "-1", "²", "abc", "0"])
def test_similar_lookup_refuses_bad_exclude_with_a_flat_message(api, admin_user, pool, bad):
    response = api(admin_user).get("/api/v1/requirements/similar/", {"text": "折扣", "exclude": f"1,{bad}"})
    assert response.status_code == 400
    assert response.json() == {"exclude": ["exclude 必须是需求 ID（正整数）。"]}


def test_api_404_is_json_for_an_id_beyond_range(api, admin_user):
    response = api(admin_user).get(f"/api/v1/requirements/{HUGE}/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert "detail" in response.json()
