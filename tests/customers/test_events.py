"""Customers announce value-tier changes to whoever listens, without importing the listeners."""

from __future__ import annotations

import pytest

from needpool.customers import events
from needpool.customers.services import customer_update


@pytest.fixture
def heard(monkeypatch):
    monkeypatch.setattr(events, "_value_tier_listeners", [])
    calls: list[list[int]] = []

    def listener(customer_ids):
        calls.append(list(customer_ids))

    events.on_value_tier_changed(listener)
    events.on_value_tier_changed(listener)  # registering twice is once
    return calls


def test_a_tier_change_is_announced_once_with_the_customer(users, customer, heard):
    customer_update(actor=users["sales"], customer=customer, yearly_purchase=100)
    assert heard == [[customer.pk]]


def test_other_edits_announce_nothing(users, customer, heard):
    customer_update(actor=users["sales"], customer=customer, industry="电商")
    customer_update(actor=users["sales"], customer=customer, yearly_purchase=5_500_000)  # still high
    events.value_tier_changed([])
    assert heard == []
