"""Interactions API: create (late entries flagged), roles, and key asks turned into feedback."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from needpool.customers.models import Interaction
from needpool.requirements.models import Feedback
from tests.conftest import NON_WRITERS, WRITERS

LIST = "/api/v1/interactions/"


def payload(customer, **overrides):
    return {
        "customer": customer.pk,
        "contact": customer.contacts.get().pk,
        "occurred_at": (timezone.now() - dt.timedelta(hours=2)).isoformat(),
        "channel": "visit",
        "participants": "销售 张三；客户 王总",
        "key_content": "讨论批量订单的折扣规则",
        "mood": "satisfied",
        "key_asks": "按客户等级设置批量折扣\n开放实时监控 API\n",
        "next_follow_up_plan": "发送方案",
        "next_follow_up_date": (timezone.localdate() + dt.timedelta(days=7)).isoformat(),
        **overrides,
    }


@pytest.fixture
def interaction(users, customer):
    from needpool.customers.services import interaction_create

    return interaction_create(
        actor=users["sales"],
        customer=customer,
        occurred_at=timezone.now() - dt.timedelta(hours=1),
        channel="phone",
        key_content="电话沟通",
        key_asks="按客户等级设置批量折扣\n开放实时监控 API",
    )


@pytest.mark.parametrize("role", WRITERS)
def test_writers_record_interactions(api, users, customer, role):
    response = api(users[role]).post(LIST, payload(customer), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["is_late"] is False
    assert body["key_ask_lines"] == ["按客户等级设置批量折扣", "开放实时监控 API"]
    assert body["recorded_by"] == users[role].pk
    customer.refresh_from_db()
    assert customer.next_follow_up.isoformat() == payload(customer)["next_follow_up_date"]


@pytest.mark.parametrize("role", NON_WRITERS)
def test_others_may_not_record_interactions(api, users, customer, role):
    assert api(users[role]).post(LIST, payload(customer), format="json").status_code == 403
    assert not Interaction.objects.exists()


def test_late_entry_is_flagged_and_is_late_is_read_only(api, users, customer):
    occurred = (timezone.now() - dt.timedelta(days=3)).isoformat()
    response = api(users["sales"]).post(LIST, payload(customer, occurred_at=occurred, is_late=False), format="json")
    assert response.status_code == 201
    assert response.json()["is_late"] is True


def test_service_errors_are_per_field(api, users, customer, customer_b):
    from needpool.customers.services import contact_create

    other_contact = contact_create(actor=users["manager"], customer=customer_b, name="赵工")
    client = api(users["manager"])
    wrong_contact = client.post(LIST, payload(customer, contact=other_contact.pk), format="json")
    assert wrong_contact.status_code == 400
    assert list(wrong_contact.json()) == ["contact"]
    future = (timezone.now() + dt.timedelta(days=1)).isoformat()
    in_future = client.post(LIST, payload(customer, occurred_at=future), format="json")
    assert in_future.status_code == 400
    assert list(in_future.json()) == ["occurred_at"]
    missing = client.post(LIST, {"customer": customer.pk}, format="json")
    assert missing.status_code == 400
    assert {"occurred_at", "channel", "key_content"} <= set(missing.json())
    assert not Interaction.objects.exists()


def test_no_edit_or_delete(api, users, interaction):
    client = api(users["admin"])
    assert client.patch(f"{LIST}{interaction.pk}/", {"mood": "neutral"}, format="json").status_code == 405
    assert client.delete(f"{LIST}{interaction.pk}/").status_code == 405


def test_other_team_cannot_see_interactions(api, other_sales, interaction):
    client = api(other_sales)
    assert client.get(LIST).json()["count"] == 0
    assert client.get(f"{LIST}{interaction.pk}/").status_code == 404
    assert client.post(f"{LIST}{interaction.pk}/key-asks/0/feedback/").status_code == 404


def test_list_and_filter_by_customer(api, users, interaction, customer_b):
    client = api(users["viewer"])
    assert client.get(LIST).json()["count"] == 1
    assert client.get(LIST, {"customer": customer_b.pk}).json()["count"] == 0
    assert client.get(f"{LIST}{interaction.pk}/").json()["key_content"] == "电话沟通"


@pytest.mark.parametrize("role", WRITERS)
def test_key_ask_becomes_feedback(api, users, interaction, role):
    url = f"{LIST}{interaction.pk}/key-asks/1/feedback/"
    response = api(users[role]).post(url)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["raw_text"] == "开放实时监控 API"
    assert body["interaction"] == interaction.pk
    assert body["customer"] == interaction.customer_id
    assert body["channel"] == "sales"
    # asking again returns the same item instead of a duplicate
    again = api(users[role]).post(url)
    assert again.json()["id"] == body["id"]
    assert Feedback.objects.filter(interaction=interaction).count() == 1


@pytest.mark.parametrize("role", NON_WRITERS)
def test_key_ask_to_feedback_is_refused_for_others(api, users, interaction, role):
    assert api(users[role]).post(f"{LIST}{interaction.pk}/key-asks/0/feedback/").status_code == 403
    assert not Feedback.objects.filter(interaction=interaction).exists()


def test_missing_key_ask_is_400(api, users, interaction):
    response = api(users["sales"]).post(f"{LIST}{interaction.pk}/key-asks/5/feedback/")
    assert response.status_code == 400
    assert list(response.json()) == ["index"]
