"""Property tests of the recycle bin's rules.

- Nobody deletes what they may not edit, and nobody but an admin restores: random roles, object kinds and
  ways in (service, page, API).
- A deleted row never shows again: after random deletes, no list, search, count, export, board, inbox,
  analysis page, API list or detail names it.
"""

from __future__ import annotations

import contextlib
import itertools
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from needpool.accounts.roles import Role
from needpool.customers.models import Contact, Customer
from needpool.customers.permissions import can_write_customer
from needpool.customers.services import contact_create, customer_create
from needpool.recyclebin.services import bin_delete, bin_restore
from needpool.requirements.models import Feedback, Requirement
from needpool.requirements.permissions import can_edit_requirement
from needpool.requirements.services import feedback_create, requirement_create
from needpool.requirements.services.recycle import can_delete_feedback

pytestmark = pytest.mark.django_db

KINDS = ("requirement", "feedback", "customer", "contact")
ROLES = [r.value for r in Role]
_serial = itertools.count()


def _world(users: dict[str, Any], owner: Any) -> dict[str, Any]:
    """One of each kind, owned by ``owner``, each with a marker no other row has."""
    n = next(_serial)
    customer = customer_create(actor=owner, name=f"标记客户{n}号", owner=owner)
    contact = contact_create(actor=owner, customer=customer, name=f"标记联系人{n}号")
    requirement = requirement_create(actor=owner, title=f"标记需求{n}号 批量对账", submitted_at=timezone.now())
    feedback = feedback_create(actor=owner, raw_text=f"标记反馈{n}号 希望导出", channel="sales", customer=None)
    return {"requirement": requirement, "feedback": feedback, "customer": customer, "contact": contact}


def _may_edit(user: Any, kind: str, obj: Any) -> bool:
    if kind == "requirement":
        return can_edit_requirement(user, obj)
    if kind == "feedback":
        return can_delete_feedback(user, obj)
    return can_write_customer(user, obj if kind == "customer" else obj.customer)


def _fresh(kind: str, obj: Any) -> Any:
    return type(obj).all_objects.get(pk=obj.pk)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    role=st.sampled_from(ROLES),
    owner_role=st.sampled_from(["sales", "product_manager", "service"]),
    kind=st.sampled_from(KINDS),
    way=st.sampled_from(["service", "page", "api"]),
)
def test_nobody_deletes_what_they_may_not_edit_and_only_admins_restore(
    users: dict[str, Any], other_sales: Any, role: str, owner_role: str, kind: str, way: str
) -> None:
    world = _world(users, users[owner_role])
    actor = other_sales if role == "sales" and owner_role == "product_manager" else users[role]
    obj = world[kind]
    allowed = _may_edit(actor, kind, obj)
    if way == "service":
        with contextlib.suppress(PermissionDenied):
            bin_delete(actor=actor, kind=kind, obj=obj)
    elif way == "page":
        client = Client()
        client.force_login(actor)
        status = client.post(reverse("recyclebin:delete", args=[kind, obj.pk])).status_code
        assert status in (302, 403, 404)
    else:
        client = APIClient()
        client.force_authenticate(actor)
        path = {"requirement": "requirements", "feedback": "feedback", "customer": "customers", "contact": "contacts"}
        status = client.delete(f"/api/v1/{path[kind]}/{obj.pk}/").status_code
        assert status in (204, 403, 404)
    deleted = _fresh(kind, obj).deleted_at is not None
    assert deleted == allowed, (role, kind, way)
    if not deleted:
        bin_delete(actor=users["admin"], kind=kind, obj=obj)
    for restorer in (users[r] for r in ROLES if r != "admin"):
        with pytest.raises(PermissionDenied):
            bin_restore(actor=restorer, kind=kind, pk=obj.pk)
    assert _fresh(kind, obj).deleted_at is not None
    client = APIClient()
    client.force_authenticate(actor)
    refused = client.post(f"/api/v1/recycle-bin/{kind}/{obj.pk}/restore/").status_code
    assert refused == (200 if role == "admin" else 403)


def _pages(world: dict[str, Any]) -> list[str]:
    marker = "标记"
    return [
        reverse("requirements:list"),
        f"{reverse('requirements:list')}?q={marker}",
        reverse("requirements:board"),
        reverse("requirements:feedback_inbox"),
        reverse("customers:list"),
        f"{reverse('customers:list')}?q={marker}",
        reverse("analysis:matrix"),
        reverse("analysis:ranked"),
        reverse("home:home"),
        reverse("intake:export_requirements", args=["management", "csv"]),
        reverse("intake:export_customers", args=["csv"]),
        "/api/v1/requirements/",
        f"/api/v1/requirements/?q={marker}",
        "/api/v1/feedback/",
        "/api/v1/customers/",
        "/api/v1/contacts/",
        f"/api/v1/requirements/similar/?text={marker}",
    ]


def _label(kind: str, obj: Any) -> str:
    if kind == "requirement":
        return obj.title.split()[0]
    if kind == "feedback":
        return obj.raw_text.split()[0]
    return obj.name


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    kinds=st.sets(st.sampled_from(KINDS), min_size=1),
    viewer_role=st.sampled_from(["admin", "product_manager", "sales"]),
)
def test_a_deleted_row_never_shows_again(users: dict[str, Any], kinds: set[str], viewer_role: str) -> None:
    world = _world(users, users["sales"])
    for kind in ("feedback", "contact", "requirement", "customer"):  # the customer last: its contact may go first
        if kind in kinds:
            bin_delete(actor=users["sales"], kind=kind, obj=world[kind])
    gone = [_label(kind, world[kind]) for kind in kinds]
    if "customer" in kinds:
        gone.append(world["contact"].name)  # went with its customer
    kept = [
        _label(kind, world[kind])
        for kind in KINDS
        if kind not in kinds and not (kind == "contact" and "customer" in kinds)
    ]
    client = Client()
    client.force_login(users[viewer_role])
    seen = ""
    for url in _pages(world):
        response = client.get(url)
        assert response.status_code == 200, url
        body = b"".join(response.streaming_content) if response.streaming else response.content
        text = body.decode("utf-8", errors="replace")
        seen += text
        for label in gone:
            assert label not in text, (url, label)
    for label in kept:  # the pages do show such rows: the test would see a deleted one
        assert label in seen, label
    detail = {
        "requirement": f"/api/v1/requirements/{world['requirement'].pk}/",
        "feedback": f"/api/v1/feedback/{world['feedback'].pk}/",
        "customer": f"/api/v1/customers/{world['customer'].pk}/",
        "contact": f"/api/v1/contacts/{world['contact'].pk}/",
    }
    for kind in kinds:
        assert client.get(detail[kind]).status_code == 404
    assert Requirement.objects.filter(pk=world["requirement"].pk).exists() == ("requirement" not in kinds)
    assert Feedback.objects.filter(pk=world["feedback"].pk).exists() == ("feedback" not in kinds)
    assert Customer.objects.filter(pk=world["customer"].pk).exists() == ("customer" not in kinds)
    assert Contact.objects.filter(pk=world["contact"].pk).exists() == (not kinds & {"contact", "customer"})
