"""The recycle bin's writes, one entry point per kind: delete (pages), restore (admins), purge (the periodic job).

Each calls the owning app's service (``requirements.services.recycle``, ``customers.services``), where the
rules live: who may, what blocks, the audit rows.
"""

from __future__ import annotations

from typing import Any

from needpool.accounts.models import User
from needpool.customers.services import (
    contact_delete,
    contact_restore,
    customer_delete,
    customer_restore,
    customers_purge,
)
from needpool.recyclebin.selectors import kind_of
from needpool.requirements.services.recycle import (
    feedback_delete,
    feedback_restore,
    requirement_delete,
    requirement_restore,
    requirements_purge,
)


def bin_delete(*, actor: User, kind: str, obj: Any, expected_version: int | None = None) -> Any:
    """Put ``obj`` (already read through its app's permission-scoped selector) in the bin."""
    kind_of(kind)
    if kind == "requirement":
        return requirement_delete(actor=actor, requirement=obj, expected_version=expected_version)
    if kind == "feedback":
        return feedback_delete(actor=actor, feedback=obj)
    if kind == "customer":
        return customer_delete(actor=actor, customer=obj, expected_version=expected_version)
    return contact_delete(actor=actor, contact=obj, expected_version=expected_version)


def bin_restore(*, actor: User, kind: str, pk: int) -> Any:
    kind_of(kind)
    restore = {
        "requirement": requirement_restore,
        "feedback": feedback_restore,
        "customer": customer_restore,
        "contact": contact_restore,
    }[kind]
    return restore(actor=actor, pk=pk)


def bin_purge() -> dict[str, int]:
    """Delete for good what has been in the bin longer than it keeps rows (feedback before its customer)."""
    return {**requirements_purge(), **customers_purge()}
