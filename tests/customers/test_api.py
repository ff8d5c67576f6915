"""Customers API: roles, team scope (404), filters, pagination, no DELETE."""

from __future__ import annotations

import pytest

from needpool.core.models import AuditEntry
from needpool.customers.models import Customer
from tests.conftest import ALL_ROLES, NON_WRITERS, WRITERS

LIST = "/api/v1/customers/"


def detail(customer):
    return f"{LIST}{customer.pk}/"


@pytest.mark.parametrize("role", ALL_ROLES)
def test_every_role_reads_the_customer_of_the_sales_team(api, users, customer, role):
    client = api(users[role])
    listed = client.get(LIST)
    assert listed.status_code == 200
    assert [c["code"] for c in listed.json()["results"]] == [customer.code]
    body = client.get(detail(customer)).json()
    assert body["name"] == "A科技公司"
    assert body["value_tier"] == "high"
    assert body["owner"] == users["sales"].pk


def test_sales_of_another_team_cannot_see_the_customer(api, other_sales, customer):
    client = api(other_sales)
    assert client.get(LIST).json()["count"] == 0
    assert client.get(detail(customer)).status_code == 404
    assert client.patch(detail(customer), {"name": "改名"}, format="json").status_code == 404
    assert Customer.objects.get(pk=customer.pk).name == "A科技公司"


@pytest.mark.parametrize("role", WRITERS)
def test_writers_create_customers(api, users, role):
    response = api(users[role]).post(
        LIST,
        {"name": "C零售集团", "industry": "零售", "yearly_purchase": "2000000.00", "segment": "potential"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["code"].startswith("C")
    assert body["value_tier"] == "medium"
    assert body["owner"] == users[role].pk
    created = Customer.objects.get(pk=body["id"])
    assert AuditEntry.objects.filter(object_id=created.pk, action="create").exists()


@pytest.mark.parametrize("role", NON_WRITERS)
def test_others_may_not_create_customers(api, users, role):
    response = api(users[role]).post(LIST, {"name": "C零售集团"}, format="json")
    assert response.status_code == 403
    assert "detail" in response.json()
    assert not Customer.objects.filter(name="C零售集团").exists()


def test_permission_is_checked_before_input(api, users):
    assert api(users["viewer"]).post(LIST, {}, format="json").status_code == 403


@pytest.mark.parametrize("role", WRITERS)
def test_writers_update_a_customer_they_can_see(api, users, customer, role):
    response = api(users[role]).patch(
        detail(customer), {"yearly_purchase": "100", "notes": "改为低价值"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["value_tier"] == "low"
    customer.refresh_from_db()
    assert customer.notes == "改为低价值"


@pytest.mark.parametrize("role", NON_WRITERS)
def test_others_may_not_update_customers(api, users, customer, role):
    response = api(users[role]).patch(detail(customer), {"notes": "x"}, format="json")
    assert response.status_code == 403
    customer.refresh_from_db()
    assert customer.notes == ""


def test_read_only_fields_are_ignored(api, users, customer):
    response = api(users["sales"]).patch(detail(customer), {"code": "C1999001", "value_tier": "low"}, format="json")
    assert response.status_code == 200
    customer.refresh_from_db()
    assert (customer.code, customer.value_tier) == (response.json()["code"], "high")
    assert customer.code != "C1999001"


def test_put_replaces_the_editable_fields(api, users, customer):
    response = api(users["sales"]).put(detail(customer), {"name": "A科技股份有限公司"}, format="json")
    assert response.status_code == 200
    customer.refresh_from_db()
    assert customer.name == "A科技股份有限公司"


def test_bad_input_is_per_field_json(api, users):
    response = api(users["sales"]).post(
        LIST, {"name": "", "segment": "vip", "employees": -3, "founded": "yesterday"}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()) >= {"name", "segment", "employees", "founded"}
    assert not Customer.objects.exists()


def test_unknown_owner_is_refused(api, users):
    response = api(users["sales"]).post(LIST, {"name": "D物流", "owner": 999999}, format="json")
    assert response.status_code == 400
    assert "owner" in response.json()


def test_delete_goes_to_the_recycle_bin(api, users, customer):
    assert api(users["admin"]).delete(detail(customer)).status_code == 204
    assert not Customer.objects.filter(pk=customer.pk).exists()
    assert Customer.all_objects.filter(pk=customer.pk).exists()


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, {"A科技公司", "B制造企业"}),
        ({"q": "科技"}, {"A科技公司"}),
        ({"q": "制造"}, {"B制造企业"}),
        ({"segment": "potential"}, {"B制造企业"}),
        ({"value_tier": "high"}, {"A科技公司"}),
        ({"value_tier": "low"}, {"B制造企业"}),
        ({"industry": "互联网"}, {"A科技公司"}),
        ({"segment": ""}, {"A科技公司", "B制造企业"}),
    ],
)
def test_filters_narrow_the_list(api, users, customer, customer_b, params, expected):
    response = api(users["manager"]).get(LIST, params)
    assert response.status_code == 200
    assert {c["name"] for c in response.json()["results"]} == expected


def test_filter_by_owner_and_sort(api, users, customer, customer_b):
    client = api(users["manager"])
    owned = client.get(LIST, {"owner": users["product_manager"].pk}).json()["results"]
    assert [c["name"] for c in owned] == ["B制造企业"]
    by_name = client.get(LIST, {"sort": "name"}).json()["results"]
    assert [c["name"] for c in by_name] == sorted(c["name"] for c in by_name)


def test_bad_filter_values_are_400(api, users):
    response = api(users["manager"]).get(LIST, {"segment": "vip", "owner": "abc"})
    assert response.status_code == 400
    assert set(response.json()) == {"segment", "owner"}


def test_pagination_defaults_and_page_size_cap(api, users):
    Customer.objects.bulk_create(Customer(code=f"T{i:04d}", name=f"批量客户{i}") for i in range(130))
    client = api(users["manager"])
    first = client.get(LIST).json()
    assert first["count"] == 130
    assert len(first["results"]) == 25
    assert first["next"]
    capped = client.get(LIST, {"page_size": 1000}).json()
    assert len(capped["results"]) == 100
    second = client.get(LIST, {"page_size": 100, "page": 2}).json()
    assert len(second["results"]) == 30
    assert second["next"] is None
    assert client.get(LIST, {"page": 99}).status_code == 404
