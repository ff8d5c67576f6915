"""Feedback API: create per role, scope, filters; no edit or delete."""

from __future__ import annotations

import pytest

from needpool.requirements.models import Feedback
from tests.conftest import ALL_ROLES, NON_WRITERS, WRITERS

LIST = "/api/v1/feedback/"


@pytest.mark.parametrize("role", WRITERS)
def test_writers_enter_feedback(api, users, customer, role):
    response = api(users[role]).post(
        LIST,
        {
            "customer": customer.pk,
            "contact": customer.contacts.get().pk,
            "channel": "website_form",
            "raw_text": "希望支持按区域统计订单",
            "sentiment": "neutral",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["created_by"] == users[role].pk
    assert body["received_at"]
    assert body["requirement"] is None
    assert Feedback.objects.get(pk=body["id"]).raw_text == "希望支持按区域统计订单"


@pytest.mark.parametrize("role", NON_WRITERS)
def test_others_may_not_enter_feedback(api, users, customer, role):
    response = api(users[role]).post(LIST, {"channel": "ticket", "raw_text": "x"}, format="json")
    assert response.status_code == 403
    assert not Feedback.objects.filter(raw_text="x").exists()


def test_feedback_can_be_linked_to_a_requirement_on_entry(api, users, requirement, customer):
    response = api(users["sales"]).post(
        LIST,
        {"customer": customer.pk, "channel": "ticket", "raw_text": "同样需要批量折扣", "requirement": requirement.pk},
        format="json",
    )
    assert response.status_code == 201
    assert requirement.feedback_items.count() == 2


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"channel": "ticket"}, "raw_text"),
        ({"channel": "pigeon", "raw_text": "x"}, "channel"),
        ({"channel": "ticket", "raw_text": "x", "sentiment": "angry"}, "sentiment"),
        ({"channel": "ticket", "raw_text": "x", "customer": 999999}, "customer"),
    ],
)
def test_bad_input_is_per_field(api, users, data, field, db):
    response = api(users["sales"]).post(LIST, data, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Feedback.objects.exists()


def test_contact_must_belong_to_the_customer(api, users, customer, customer_b):
    response = api(users["manager"]).post(
        LIST,
        {"customer": customer_b.pk, "contact": customer.contacts.get().pk, "channel": "ticket", "raw_text": "x"},
        format="json",
    )
    assert response.status_code == 400
    assert list(response.json()) == ["contact"]


@pytest.mark.parametrize("role", ALL_ROLES)
def test_every_role_of_the_team_reads_feedback(api, users, requirement, role):
    client = api(users[role])
    listed = client.get(LIST).json()
    assert listed["count"] == 1
    item = listed["results"][0]
    assert client.get(f"{LIST}{item['id']}/").json()["requirement"] == requirement.pk


def test_other_team_cannot_see_feedback(api, other_sales, requirement):
    item = requirement.feedback_items.get()
    client = api(other_sales)
    assert client.get(LIST).json()["count"] == 0
    assert client.get(f"{LIST}{item.pk}/").status_code == 404


def test_filters(api, users, pool, customer, customer_b):
    from needpool.requirements.services import feedback_create

    feedback_create(actor=users["manager"], raw_text="尚未归入需求", channel="survey", customer=customer)
    client = api(users["manager"])
    assert client.get(LIST).json()["count"] == 4
    assert client.get(LIST, {"customer": customer_b.pk}).json()["count"] == 1
    assert client.get(LIST, {"requirement": pool["r3"].pk}).json()["count"] == 1
    unlinked = client.get(LIST, {"unlinked": "true"}).json()["results"]
    assert [f["raw_text"] for f in unlinked] == ["尚未归入需求"]
    # the inbox's filter: by channel, the same FilterSet as the page
    by_channel = client.get(LIST, {"channel": "survey", "unlinked": "true"}).json()["results"]
    assert [f["raw_text"] for f in by_channel] == ["尚未归入需求"]
    assert client.get(LIST, {"channel": "ticket", "unlinked": "true"}).json()["count"] == 0
    refused = client.get(LIST, {"channel": "no-such-channel"})
    assert refused.status_code == 400 and "channel" in refused.json()


def test_no_edit_and_delete_goes_to_the_recycle_bin(api, users, requirement):
    item = requirement.feedback_items.get()
    client = api(users["admin"])
    assert client.patch(f"{LIST}{item.pk}/", {"raw_text": "x"}, format="json").status_code == 405
    assert client.delete(f"{LIST}{item.pk}/").status_code == 204
    assert client.get(f"{LIST}{item.pk}/").status_code == 404
