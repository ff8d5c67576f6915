"""The customer profile card on the requirement detail page and the feedback triage page: what it shows,
what a scoped viewer does not see, and query counts that do not grow with the number of customers."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from needpool.customers.models import Customer
from needpool.customers.selectors import PROFILE_CUSTOMERS
from needpool.customers.services import customer_create, interaction_create
from needpool.requirements.services import feedback_create, requirement_create
from tests.conftest import count_queries

pytestmark = pytest.mark.django_db


def _card(html: str) -> str:
    found = re.search(
        r'<div class="card mb-3 customer-profile-card" id="customer-profile">.*?(?=\n<div class="card|\Z)', html, re.S
    )
    assert found, "no profile card"
    return found.group(0)


def _detail(client, pk):
    response = client.get(reverse("requirements:detail", args=[pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_detail_page_shows_the_customer_profile(client, users, customer, requirement):
    Customer.objects.filter(pk=customer.pk).update(employees=320, segment="high_value")
    interaction_create(
        actor=users["sales"],
        customer=customer,
        occurred_at=timezone.now() - dt.timedelta(days=1),
        channel="visit",
        key_content="上门演示批量折扣",
    )
    other = requirement_create(actor=users["sales"], customer=customer, title="对账单导出")
    client.force_login(users["sales"])
    html = _detail(client, requirement.pk)
    assert 'id="customer-profile"' in html
    for text in (
        "A科技公司",
        "互联网",
        "320 人",
        "600 万元",
        "价值高",
        "高价值",
        "王总",
        "决策者",
        "上门演示批量折扣",
        other.code,
    ):
        assert text in html, text
    assert html.count('class="list-group-item customer-profile"') == 1


def test_other_teams_customers_and_needs_stay_out_of_the_card(client, users, other_sales, customer, requirement):
    """A requirement carries feedback of another team's customer: the sales rep's card shows only their own."""
    theirs = customer_create(actor=users["admin"], name="乙方保密客户", industry="金融", owner=other_sales)
    feedback_create(
        actor=users["admin"], raw_text="同样的诉求", channel="sales", customer=theirs, requirement=requirement
    )
    secret = requirement_create(actor=users["admin"], customer=theirs, title="保密的另一个需求")
    client.force_login(users["sales"])
    card = _card(_detail(client, requirement.pk))
    assert "A科技公司" in card
    assert "乙方保密客户" not in card and "金融" not in card and secret.code not in card
    client.force_login(users["product_manager"])
    card = _card(_detail(client, requirement.pk))
    assert "乙方保密客户" in card and secret.code in card


def test_detail_query_count_does_not_grow_with_customers(client, users, make_customers):
    admin = users["admin"]
    few = make_customers(2)
    many = make_customers(20)

    def need_of(customers, title):
        r = requirement_create(actor=admin, customer=customers[0], title=title)
        for c in customers[1:]:
            feedback_create(actor=admin, raw_text="同样的诉求", channel="sales", customer=c, requirement=r)
            interaction_create(actor=admin, customer=c, occurred_at=timezone.now(), channel="phone", key_content="回访")
        return r

    small = need_of(few, "两个客户的需求")
    big = need_of(many, "二十个客户的需求")
    client.force_login(users["product_manager"])
    assert (
        count_queries(client, reverse("requirements:detail", args=[big.pk]))
        <= count_queries(client, reverse("requirements:detail", args=[small.pk])) + 1
    )  # the count of customers beyond the ones shown
    html = _detail(client, big.pk)
    card = _card(html)
    assert card.count('class="list-group-item customer-profile"') == PROFILE_CUSTOMERS
    assert f"更多：另外 {20 - PROFILE_CUSTOMERS} 个客户" in card


def test_triage_page_shows_the_feedback_customer_profile(client, users, customer, django_assert_max_num_queries):
    contact = customer.contacts.get()
    item = feedback_create(
        actor=users["sales"], raw_text="希望支持批量导出", channel="sales", customer=customer, contact=contact
    )
    earlier = requirement_create(actor=users["sales"], customer=customer, title="对账单导出")
    client.force_login(users["sales"])
    url = reverse("requirements:feedback_triage", args=[item.pk])
    response = client.get(url)
    assert response.status_code == 200
    card = _card(response.content.decode())
    for text in ("A科技公司", "互联网", "王总", "决策者", earlier.code, "暂无互动记录"):
        assert text in card, text


def test_triage_without_customer_says_so(client, users):
    item = feedback_create(actor=users["sales"], raw_text="匿名的反馈", channel="sales")
    client.force_login(users["sales"])
    card = _card(client.get(reverse("requirements:feedback_triage", args=[item.pk])).content.decode())
    assert "没有关联客户" in card
