"""With many customers the forms take a customer code instead of rendering a huge <select>."""

import pytest

from needpool.customers import forms as customer_forms
from needpool.requirements.models import Requirement


@pytest.fixture
def many(monkeypatch):
    monkeypatch.setattr(customer_forms, "SELECT_LIMIT", 0)


def test_list_filter_takes_a_customer_code(client, users, customer, requirement, many):
    client.force_login(users["manager"])
    page = client.get("/requirements/", {"customer": customer.code})
    html = page.content.decode()
    assert '<select name="customer"' not in html
    assert requirement.code in html
    other = client.get("/requirements/", {"customer": "C1999999"}).content.decode()
    assert requirement.code not in other


def test_create_form_resolves_the_typed_code(client, users, customer, many):
    client.force_login(users["sales"])
    form = client.get("/requirements/new/").content.decode()
    assert '<select name="customer"' not in form
    response = client.post(
        "/requirements/new/",
        {"customer": f"{customer.code.lower()} A科技公司", "channel": "sales", "title": "按编号录入的需求"},
    )
    assert response.status_code == 302
    assert Requirement.objects.get(title="按编号录入的需求").feedback_items.get().customer == customer


def test_unknown_code_is_refused_with_a_message(client, users, customer, many):
    client.force_login(users["sales"])
    response = client.post("/requirements/new/", {"customer": "C1999999", "channel": "sales", "title": "x"})
    assert response.status_code == 200
    assert "找不到客户" in response.content.decode()
    assert not Requirement.objects.filter(title="x").exists()


def test_contact_options_accept_a_code(client, users, customer):
    client.force_login(users["sales"])
    html = client.get("/customers/contact-options/", {"customer": customer.code}).content.decode()
    assert "王总" in html


@pytest.mark.parametrize(("limit", "select"), [(0, False), (1, True), (2, True)])
def test_the_field_is_a_select_up_to_the_limit_and_counts_no_further(users, customer, monkeypatch, limit, select):
    """One customer: a select while the limit is at least one, a code input below; the count reads at most
    ``limit + 1`` rows, however many customers there are."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from needpool.customers.permissions import visible_customers

    monkeypatch.setattr(customer_forms, "SELECT_LIMIT", limit)
    with CaptureQueriesContext(connection) as ctx:
        field = customer_forms.customer_field(visible_customers(users["manager"]), required=False)
    assert isinstance(field, customer_forms.CustomerRefField) is not select
    (count,) = [q["sql"] for q in ctx.captured_queries if "COUNT" in q["sql"]]
    assert f"LIMIT {limit + 1}" in count, count
