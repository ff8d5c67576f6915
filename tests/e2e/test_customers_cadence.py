"""A sales rep sees the segment a customer's signals suggest, with the reasons, and applies it; the follow-up
date moves to the new segment's cadence."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from playwright.sync_api import expect

from needpool.customers.models import Customer
from needpool.customers.services import interaction_create
from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in


def test_sales_applies_the_suggested_segment(page: Any, users: Any, customer: Customer) -> None:
    for hours in (3, 2):
        interaction_create(
            actor=users["sales"],
            customer=customer,
            occurred_at=timezone.now() - dt.timedelta(hours=hours),
            channel="phone",
            key_content="交付太慢，很不满意",
            mood="dissatisfied",
        )
    sign_in(page, "sales", PASSWORD)
    page.goto(page.base_url + f"/customers/{customer.pk}/")
    panel = page.locator("#segment-suggestion")
    expect(panel).to_contain_text("流失风险")
    expect(panel).to_contain_text("不满的互动")
    panel.get_by_role("button", name="采用建议").click()
    expect(page.locator(".alert-success")).to_contain_text("流失风险")
    expect(page.locator("#segment-suggestion")).to_have_count(0)
    expect(page.locator("#cadence-interval")).to_contain_text("7")
    customer.refresh_from_db()
    assert customer.segment == "churn_risk"
    last = customer.interactions.order_by("-occurred_at").first()
    assert customer.next_follow_up == timezone.localdate(last.occurred_at) + dt.timedelta(days=7)
