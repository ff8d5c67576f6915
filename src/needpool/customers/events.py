"""What the customers app tells other apps, without importing them.

Another app registers a listener once, in its ``AppConfig.ready()``; the customer services call the
announcement after the change is saved (inside their transaction: a listener that must wait for the
commit uses ``transaction.on_commit`` itself).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

CustomerValueListener = Callable[[Sequence[int]], None]
"""Called with the ids of customers whose value tier just changed."""

_value_tier_listeners: list[CustomerValueListener] = []


def on_value_tier_changed(listener: CustomerValueListener) -> CustomerValueListener:
    """Call ``listener(customer_ids)`` whenever customers' value tiers change (registering twice is once)."""
    if listener not in _value_tier_listeners:
        _value_tier_listeners.append(listener)
    return listener


def value_tier_changed(customer_ids: Sequence[int]) -> None:
    """Tell every listener that these customers' value tiers changed."""
    ids = list(customer_ids)
    if not ids:
        return
    for listener in list(_value_tier_listeners):
        listener(ids)
