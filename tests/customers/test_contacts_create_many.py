"""``contacts_create_many`` (an import's new contacts, saved together) leaves what ``contact_create`` one by one
leaves, and refuses all of them when one customer is not the user's to maintain."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from needpool.core.models import AuditEntry
from needpool.customers.models import Contact
from needpool.customers.services import contact_create, contact_prepare, contacts_create_many, customer_create

pytestmark = pytest.mark.django_db

NAMES = st.sampled_from(["王总", "李经理", "  赵主管 ", "x" * 61, "", "Tom"])


def _left(customer_ids: list[int], since: int) -> list[Any]:
    contacts = sorted(Contact.objects.filter(customer_id__in=customer_ids).values_list("customer_id", "name", "phone"))
    audit = sorted(
        (a.object_id, a.action, a.actor_id, str(a.changes))
        for a in AuditEntry.objects.filter(pk__gt=since, object_id__in=customer_ids)
    )
    return [contacts, audit]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(picks=st.lists(st.tuples(st.booleans(), NAMES), min_size=1, max_size=6))
def test_many_at_once_leaves_what_one_by_one_leaves(users: Any, customer: Any, picks: list[Any]) -> None:
    actor = users["sales"]
    other = customer_create(actor=actor, name="丙公司")
    targets = [customer if first else other for first, _n in picks]
    states = []
    for way in ("one by one", "at once"):
        with transaction.atomic():
            since = AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
            refused: list[Any] = []
            prepared = []
            for target, (_first, name) in zip(targets, picks, strict=True):
                try:
                    if way == "one by one":
                        with transaction.atomic():
                            contact_create(actor=actor, customer=target, name=name)
                    else:
                        prepared.append(contact_prepare(customer=target, name=name))
                except ValidationError as exc:
                    refused.append(sorted(exc.message_dict))
            if way == "at once":
                contacts_create_many(actor=actor, contacts=prepared)
            states.append([refused, *_left([customer.pk, other.pk], since)])
            transaction.set_rollback(True)
    assert states[0] == states[1]


def test_a_customer_the_user_may_not_maintain_refuses_them_all(users: Any, customer: Any) -> None:
    hidden = customer_create(actor=users["admin"], name="看不到的客户", owner=users["admin"])
    contacts = [contact_prepare(customer=customer, name="甲"), contact_prepare(customer=hidden, name="乙")]
    with pytest.raises(PermissionDenied):
        contacts_create_many(actor=users["sales"], contacts=contacts)
    assert not Contact.objects.filter(name__in=["甲", "乙"]).exists()
    with pytest.raises(PermissionDenied):
        contacts_create_many(actor=users["viewer"], contacts=[contact_prepare(customer=customer, name="丙")])
    assert not Contact.objects.filter(name="丙").exists()
