"""Concurrent edits of customers and contacts: the version, stale edits refused (service, API 412), the stale edit
form merged or shown as differences, and two edits with one If-Match at once on PostgreSQL."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection, connections
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from needpool.core.concurrency import StaleVersion, parse_if_match
from needpool.customers.models import Contact, Customer
from needpool.customers.services import contact_update, customer_update, interaction_create
from tests.conftest import docs_client

CUSTOMER = "/api/v1/customers/{}/"
CONTACT = "/api/v1/contacts/{}/"


def _api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


# ---------------------------------------------------------------- services


class TestServices:
    def test_every_write_bumps_the_version(self, users, customer):
        customer_update(actor=users["sales"], customer=customer, region="北京")
        assert Customer.objects.get(pk=customer.pk).version == 2
        interaction_create(
            actor=users["sales"],
            customer=customer,
            occurred_at=customer.created_at,
            channel="visit",
            key_content="回访",
            next_follow_up_date=customer.created_at.date(),
        )
        assert Customer.objects.get(pk=customer.pk).version == 3
        contact = customer.contacts.get()
        contact_update(actor=users["sales"], contact=contact, title="副总裁")
        assert Contact.objects.get(pk=contact.pk).version == 2

    def test_a_stale_customer_edit_is_refused_and_writes_nothing(self, users, customer):
        customer_update(actor=users["sales"], customer=customer, region="北京", expected_version=1)
        with pytest.raises(StaleVersion) as caught:
            customer_update(actor=users["sales"], customer=customer, region="上海", expected_version=1)
        assert caught.value.current_version == 2
        assert Customer.objects.get(pk=customer.pk).region == "北京"

    def test_a_stale_contact_edit_is_refused_and_writes_nothing(self, users, customer):
        contact = customer.contacts.get()
        contact_update(actor=users["sales"], contact=contact, title="副总裁", expected_version=1)
        with pytest.raises(StaleVersion):
            contact_update(actor=users["sales"], contact=contact, title="总经理", expected_version=1)
        assert Contact.objects.get(pk=contact.pk).title == "副总裁"


# ---------------------------------------------------------------- API


class TestApi:
    @pytest.mark.parametrize("kind", ["customer", "contact"])
    def test_reads_and_writes_carry_the_etag_and_a_stale_if_match_is_412(self, users, customer, kind):
        url = (CUSTOMER if kind == "customer" else CONTACT).format(
            customer.pk if kind == "customer" else customer.contacts.get().pk
        )
        field, mine, theirs = ("region", "北京", "上海") if kind == "customer" else ("title", "副总裁", "总经理")
        client = _api(users["sales"])
        read = client.get(url)
        assert read["ETag"] == 'W/"1"'
        ok = client.patch(url, {field: mine}, format="json", HTTP_IF_MATCH=read["ETag"])
        assert ok.status_code == 200 and ok["ETag"] == 'W/"2"'
        stale = client.patch(url, {field: theirs}, format="json", HTTP_IF_MATCH=read["ETag"])
        assert stale.status_code == 412 and stale["ETag"] == 'W/"2"'
        assert "他人修改" in stale.json()["detail"]
        assert client.get(url).json()[field] == mine
        plain = client.patch(url, {field: theirs}, format="json")  # no If-Match: applied
        assert plain.status_code == 200 and plain.json()[field] == theirs

    def test_five_stale_customer_writes_lose_no_update(self, users, customer):
        first, second = _api(users["sales"]), _api(users["manager"])
        url = CUSTOMER.format(customer.pk)
        lost = 0
        for n in range(5):
            a, b = first.get(url)["ETag"], second.get(url)["ETag"]
            first.patch(url, {"notes": f"甲{n}"}, format="json", HTTP_IF_MATCH=a)
            answer = second.patch(url, {"notes": f"乙{n}"}, format="json", HTTP_IF_MATCH=b)
            lost += Customer.objects.get(pk=customer.pk).notes != f"甲{n}" or answer.status_code != 412
        assert lost == 0

    def test_the_schema_documents_if_match_and_412(self, db):
        schema = docs_client().get("/api/schema/", {"format": "json"}).json()
        for path in ("/api/v1/customers/{id}/", "/api/v1/contacts/{id}/"):
            for method in ("put", "patch"):
                operation = schema["paths"][path][method]
                assert "If-Match" in {p["name"] for p in operation["parameters"]}
                assert {"200", "412"} <= set(operation["responses"])
            assert "ETag" in schema["paths"][path]["get"]["responses"]["200"].get("headers", {})


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    header=st.one_of(
        st.none(),
        st.integers(min_value=0, max_value=4).map(lambda n: f'W/"{n}"'),
        st.lists(st.integers(min_value=0, max_value=4), min_size=1, max_size=3).map(
            lambda ns: ", ".join(f'"{n}"' for n in ns)
        ),
        st.text(max_size=10),
    )
)
def test_a_contact_edit_applies_only_when_if_match_names_the_current_version(users, customer, header):
    contact = customer.contacts.get()
    contact.refresh_from_db()
    before = (contact.title, contact.version)
    extra = {} if header is None else {"HTTP_IF_MATCH": header}
    response = _api(users["sales"]).patch(
        CONTACT.format(contact.pk), {"title": f"t{before[1]}"}, format="json", **extra
    )
    listed = parse_if_match(header)
    contact.refresh_from_db()
    if listed is None or before[1] in listed:
        assert response.status_code == 200 and contact.version == before[1] + 1
    else:
        assert response.status_code == 412 and (contact.title, contact.version) == before


# ---------------------------------------------------------------- the edit page


def _opened(client: Client, customer: Customer) -> dict[str, Any]:
    form = client.get(reverse("customers:edit", args=[customer.pk])).context["form"]
    return {k: v for k, v in form.initial.items() if v is not None}


def _two(users: dict[str, Any]) -> tuple[Client, Client]:
    first, second = Client(), Client()
    first.force_login(users["sales"])
    second.force_login(users["manager"])
    return first, second


class TestPage:
    def test_two_forms_saving_different_fields_keep_both(self, users, customer):
        first, second = _two(users)
        a, b = _opened(first, customer), _opened(second, customer)
        assert first.post(reverse("customers:edit", args=[customer.pk]), {**a, "region": "北京"}).status_code == 302
        response = second.post(reverse("customers:edit", args=[customer.pk]), {**b, "notes": "乙的备注"})
        assert response.status_code == 302
        customer.refresh_from_db()
        assert (customer.region, customer.notes) == ("北京", "乙的备注")

    def test_the_same_field_saved_differently_shows_the_differences(self, users, customer):
        first, second = _two(users)
        a, b = _opened(first, customer), _opened(second, customer)
        first.post(reverse("customers:edit", args=[customer.pk]), {**a, "region": "北京"})
        response = second.post(reverse("customers:edit", args=[customer.pk]), {**b, "region": "上海"})
        assert response.status_code == 409
        html = response.content.decode()
        assert "此记录在您打开后已被他人修改" in html and "北京" in html and "上海" in html
        customer.refresh_from_db()
        assert customer.region == "北京"

    def test_an_unchanged_decimal_or_date_is_not_a_change(self, users, customer):
        first, second = _two(users)
        a, b = _opened(first, customer), _opened(second, customer)
        first.post(reverse("customers:edit", args=[customer.pk]), {**a, "yearly_purchase": "100"})
        # the second form posts the amount as the page shows it ("6000000.00"): not a change of theirs
        assert second.post(reverse("customers:edit", args=[customer.pk]), {**b, "notes": "乙"}).status_code == 302
        customer.refresh_from_db()
        assert (str(customer.yearly_purchase), customer.notes) == ("100.00", "乙")


# ---------------------------------------------------------------- PostgreSQL race


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are proven on PostgreSQL")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_customer_puts_with_one_if_match_give_one_200_and_one_412():
    from needpool.accounts.models import User
    from needpool.customers.services import customer_create

    people = [User.objects.create_user(username=f"s{i}", password="x-9-long-enough", role="manager") for i in (1, 2)]
    customer = customer_create(actor=people[0], name="并发客户")
    url = CUSTOMER.format(customer.pk)
    tag = _api(people[0]).get(url)["ETag"]
    barrier = threading.Barrier(2)
    codes: list[int] = []
    errors: list[BaseException] = []

    def put(user: Any, region: str) -> None:
        try:
            client = _api(user)
            barrier.wait(timeout=10)
            body = {"name": "并发客户", "region": region}
            codes.append(client.put(url, body, format="json", HTTP_IF_MATCH=tag).status_code)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=put, args=(u, r)) for u, r in zip(people, ["北京", "上海"], strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert sorted(codes) == [200, 412]
    assert Customer.objects.get(pk=customer.pk).version == 2
