"""Contacts API: the privacy rule (no personal mobile or mailbox), roles, team scope."""

from __future__ import annotations

import pytest

from needpool.customers.models import Contact
from tests.conftest import NON_WRITERS, WRITERS

LIST = "/api/v1/contacts/"


def payload(customer, **overrides):
    return {
        "customer": customer.pk,
        "name": "李经理",
        "title": "IT 经理",
        "phone": "010-62345678",
        "email": "li@a-tech.com.cn",
        "decision_role": "influencer",
        **overrides,
    }


@pytest.mark.parametrize("phone", ["138 0013 8000", "+86-139-1234-5678", "13800138000", "0086 186 0000 1111"])
def test_personal_mobile_is_refused_and_nothing_written(api, users, customer, phone):
    before = Contact.objects.count()
    response = api(users["sales"]).post(LIST, payload(customer, phone=phone), format="json")
    assert response.status_code == 400
    body = response.json()
    assert list(body) == ["phone"]
    assert "个人手机号" in body["phone"][0]
    assert Contact.objects.count() == before


@pytest.mark.parametrize("email", ["x@qq.com", "someone@163.com", "Boss@Gmail.com"])
def test_personal_mailbox_is_refused_and_nothing_written(api, users, customer, email):
    before = Contact.objects.count()
    response = api(users["sales"]).post(LIST, payload(customer, email=email), format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["email"]
    assert "个人邮箱" in response.json()["email"][0]
    assert Contact.objects.count() == before


def test_both_refusals_come_back_together(api, users, customer):
    response = api(users["sales"]).post(LIST, payload(customer, phone="13912345678", email="x@qq.com"), format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"phone", "email"}


@pytest.mark.parametrize("phone", ["010-62345678", "021 6888 1234", "400-800-8888", ""])
def test_work_numbers_are_accepted(api, users, customer, phone):
    response = api(users["sales"]).post(LIST, payload(customer, phone=phone), format="json")
    assert response.status_code == 201, response.json()
    contact = Contact.objects.get(pk=response.json()["id"])
    assert contact.phone == phone
    assert contact.customer_id == customer.pk


def test_update_with_personal_mobile_is_refused_and_keeps_the_old_number(api, users, customer):
    contact = customer.contacts.get()
    response = api(users["sales"]).patch(f"{LIST}{contact.pk}/", {"phone": "138 0013 8000"}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["phone"]
    contact.refresh_from_db()
    assert contact.phone == "010-62345678"


def test_update_changes_fields_but_not_the_customer(api, users, customer, customer_b):
    contact = customer.contacts.get()
    client = api(users["manager"])
    ok = client.patch(f"{LIST}{contact.pk}/", {"title": "CTO"}, format="json")
    assert ok.status_code == 200
    assert ok.json()["title"] == "CTO"
    moved = client.patch(f"{LIST}{contact.pk}/", {"customer": customer_b.pk}, format="json")
    assert moved.status_code == 400
    assert list(moved.json()) == ["customer"]
    contact.refresh_from_db()
    assert contact.customer_id == customer.pk


@pytest.mark.parametrize("role", WRITERS)
def test_writers_add_contacts(api, users, customer, role):
    assert api(users[role]).post(LIST, payload(customer), format="json").status_code == 201


@pytest.mark.parametrize("role", NON_WRITERS)
def test_others_may_not_add_or_edit_contacts(api, users, customer, role):
    client = api(users[role])
    assert client.post(LIST, payload(customer), format="json").status_code == 403
    contact = customer.contacts.get()
    assert client.patch(f"{LIST}{contact.pk}/", {"title": "x"}, format="json").status_code == 403
    assert Contact.objects.count() == 1


def test_other_team_sees_no_contacts_and_cannot_attach_to_the_customer(api, other_sales, customer):
    client = api(other_sales)
    contact = customer.contacts.get()
    assert client.get(LIST).json()["count"] == 0
    assert client.get(f"{LIST}{contact.pk}/").status_code == 404
    response = client.post(LIST, payload(customer), format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["customer"]


def test_list_filters_by_customer(api, users, customer, customer_b):
    from needpool.customers.services import contact_create

    contact_create(actor=users["manager"], customer=customer_b, name="赵工", phone="0755-88886666")
    client = api(users["viewer"])
    assert client.get(LIST).json()["count"] == 2
    only_b = client.get(LIST, {"customer": customer_b.pk}).json()["results"]
    assert [c["name"] for c in only_b] == ["赵工"]


def test_delete_goes_to_the_recycle_bin(api, users, customer):
    contact = customer.contacts.get()
    assert api(users["admin"]).delete(f"{LIST}{contact.pk}/").status_code == 204
    assert api(users["admin"]).get(f"{LIST}{contact.pk}/").status_code == 404
