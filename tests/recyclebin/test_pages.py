"""Recycle bin pages: the 删除 button for those allowed, delete with a clear refusal, the bin (admins only,
paginated, queries bounded), restore."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from needpool.customers.models import Customer
from needpool.requirements.models import Feedback, Requirement
from needpool.requirements.services import feedback_create, requirement_create
from needpool.requirements.services.recycle import requirement_delete
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def login(user: Any) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def _html(response: Any) -> str:
    return str(response.content.decode())


def test_delete_button_only_for_who_may_delete(
    users: dict[str, Any], requirement: Requirement, customer: Customer
) -> None:
    contact = customer.contacts.get()
    item = requirement.feedback_items.get()
    pages = {
        "requirement": reverse("requirements:detail", args=[requirement.pk]),
        "requirement-edit": reverse("requirements:edit", args=[requirement.pk]),
        "customer": reverse("customers:detail", args=[customer.pk]),
        "customer-edit": reverse("customers:edit", args=[customer.pk]),
        "contact": reverse("customers:contact", args=[contact.pk]),
        "feedback": reverse("requirements:feedback_triage", args=[item.pk]),
    }
    sales = login(users["sales"])
    for name, url in pages.items():
        assert 'id="delete-confirm"' in _html(sales.get(url)), name
    viewer = login(users["viewer"])
    for name in ("requirement", "customer", "contact"):
        assert 'id="delete-confirm"' not in _html(viewer.get(pages[name])), name


def test_delete_from_the_page_and_restore_from_the_bin(users: dict[str, Any], requirement: Requirement) -> None:
    sales = login(users["sales"])
    url = reverse("recyclebin:delete", args=["requirement", requirement.pk])
    stale = sales.post(url, {"version": requirement.version + 5})
    assert stale.status_code == 302 and stale.url == reverse("requirements:detail", args=[requirement.pk])
    assert Requirement.objects.filter(pk=requirement.pk).exists()
    done = sales.post(url, {"version": requirement.version}, follow=True)
    assert done.redirect_chain[-1][0] == reverse("requirements:list")
    assert "已删除" in _html(done) and "30 天内" in _html(done)
    assert requirement.code not in _html(sales.get(reverse("requirements:list")))
    assert sales.get(reverse("requirements:detail", args=[requirement.pk])).status_code == 404
    assert sales.get(reverse("recyclebin:index")).status_code == 403
    assert sales.post(reverse("recyclebin:restore", args=["requirement", requirement.pk])).status_code == 403
    admin = login(users["admin"])
    page = _html(admin.get(reverse("recyclebin:index")))
    assert requirement.code in page and str(users["sales"]) in page and "还可恢复 30 天" in page
    assert 'id="nav-recycle-bin"' in page
    restored = admin.post(reverse("recyclebin:restore", args=["requirement", requirement.pk]), follow=True)
    assert "已恢复" in _html(restored)
    assert sales.get(reverse("requirements:detail", args=[requirement.pk])).status_code == 200
    again = admin.post(reverse("recyclebin:restore", args=["requirement", requirement.pk]), follow=True)
    assert "不在回收站" in _html(again)


def test_a_refused_delete_shows_the_reason(
    users: dict[str, Any], requirement: Requirement, customer_b: Customer
) -> None:
    feedback_create(
        actor=users["product_manager"], raw_text="B 也要", channel="sales", customer=customer_b, requirement=requirement
    )
    sales = login(users["sales"])
    response = sales.post(reverse("recyclebin:delete", args=["requirement", requirement.pk]), follow=True)
    assert "无权删除的反馈" in _html(response)
    assert Requirement.objects.filter(pk=requirement.pk).exists()


def test_delete_routes(users: dict[str, Any], requirement: Requirement, customer: Customer, other_sales: Any) -> None:
    item = requirement.feedback_items.get()
    assert login(other_sales).post(reverse("recyclebin:delete", args=["feedback", item.pk])).status_code == 404
    assert login(users["viewer"]).post(reverse("recyclebin:delete", args=["feedback", item.pk])).status_code == 403
    sales = login(users["sales"])
    assert sales.get(reverse("recyclebin:delete", args=["feedback", item.pk])).status_code == 405
    assert sales.post(reverse("recyclebin:delete", args=["nothing", item.pk])).status_code == 404
    done = sales.post(reverse("recyclebin:delete", args=["feedback", item.pk]))
    assert done.url == reverse("requirements:feedback_inbox")
    assert not Feedback.objects.filter(pk=item.pk).exists()
    contact = customer.contacts.get()
    done = sales.post(reverse("recyclebin:delete", args=["contact", contact.pk]))
    assert done.url == reverse("customers:detail", args=[customer.pk])
    done = sales.post(reverse("recyclebin:delete", args=["customer", customer.pk]), follow=True)
    assert done.redirect_chain[-1][0] == reverse("customers:list")
    admin = login(users["admin"])
    for kind in ("feedback", "customer", "contact"):
        page = _html(admin.get(reverse("recyclebin:index"), {"kind": kind}))
        assert 'class="list-group-item bin-row"' in page, kind


def test_bin_page_is_paginated_with_bounded_queries(users: dict[str, Any], django_assert_max_num_queries: Any) -> None:
    pm = users["product_manager"]
    for i in range(30):
        requirement_delete(
            actor=pm, requirement=requirement_create(actor=pm, title=f"误录 {i}", submitted_at=timezone.now())
        )
    admin = login(users["admin"])
    admin.get(reverse("recyclebin:index"))  # warm the session and site configuration
    with django_assert_max_num_queries(14):
        page = _html(admin.get(reverse("recyclebin:index"), {"kind": "requirement"}))
    assert page.count('class="list-group-item bin-row"') == 25
    second = _html(admin.get(reverse("recyclebin:index"), {"kind": "requirement", "page": 2}))
    assert second.count('class="list-group-item bin-row"') == 5
    assert "回收站中没有这一类记录" in _html(admin.get(reverse("recyclebin:index"), {"kind": "contact"}))
