"""The API of the recycle bin: DELETE on the four resources (204 / 403 / 404 / 412 / 400), the bin list and
restore for admins only."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from needpool.customers.models import Contact, Customer
from needpool.requirements.models import Feedback, Requirement
from needpool.requirements.services import requirement_create

pytestmark = pytest.mark.django_db

BIN = "/api/v1/recycle-bin/"


def _restore(kind: str, pk: int) -> str:
    return f"{BIN}{kind}/{pk}/restore/"


def test_delete_a_requirement_then_restore_it(api: Any, users: dict[str, Any], requirement: Requirement) -> None:
    url = f"/api/v1/requirements/{requirement.pk}/"
    sales = api(users["sales"])
    stale = sales.delete(url, HTTP_IF_MATCH='W/"999"')
    assert stale.status_code == 412
    assert sales.delete(url, HTTP_IF_MATCH=f'W/"{requirement.version}"').status_code == 204
    assert sales.get(url).status_code == 404
    assert sales.delete(url).status_code == 404
    assert requirement.pk not in [r["id"] for r in sales.get("/api/v1/requirements/").json()["results"]]
    assert sales.get(BIN).status_code == 403
    assert sales.post(_restore("requirement", requirement.pk)).status_code == 403
    admin = api(users["admin"])
    listed = admin.get(BIN, {"kind": "requirement"}).json()
    assert listed["count"] == 1
    row = listed["results"][0]
    assert row["id"] == requirement.pk and row["deleted_by"] == str(users["sales"]) and row["days_left"] == 30
    assert admin.get(BIN, {"kind": "feedback"}).json()["count"] == 1  # its evidence went with it
    restored = admin.post(_restore("requirement", requirement.pk))
    assert restored.status_code == 200 and restored.json()["id"] == requirement.pk
    assert sales.get(url).status_code == 200
    assert admin.post(_restore("requirement", requirement.pk)).status_code == 404  # no longer in the bin
    assert admin.get(BIN, {"kind": "nothing"}).status_code == 400
    assert admin.post(_restore("nothing", 1)).status_code == 404


def test_delete_is_scoped_like_editing(
    api: Any, users: dict[str, Any], requirement: Requirement, other_sales: Any
) -> None:
    url = f"/api/v1/requirements/{requirement.pk}/"
    assert api(other_sales).delete(url).status_code == 404  # cannot see it
    assert api(users["viewer"]).delete(url).status_code == 403
    assert api(users["engineer"]).delete(url).status_code == 403
    assert api(None).delete(url).status_code in (401, 403)
    assert Requirement.objects.filter(pk=requirement.pk).exists()


def test_a_refused_delete_says_why(
    api: Any, users: dict[str, Any], requirement: Requirement, customer_b: Customer
) -> None:
    from needpool.requirements.services import feedback_create

    feedback_create(
        actor=users["product_manager"], raw_text="B 也要", channel="sales", customer=customer_b, requirement=requirement
    )
    response = api(users["sales"]).delete(f"/api/v1/requirements/{requirement.pk}/")
    assert response.status_code == 400
    assert "无权删除的反馈" in response.json()["non_field_errors"][0]


def test_delete_feedback(api: Any, users: dict[str, Any], requirement: Requirement, other_sales: Any) -> None:
    item = requirement.feedback_items.get()
    url = f"/api/v1/feedback/{item.pk}/"
    assert api(other_sales).delete(url).status_code == 404
    assert api(users["viewer"]).delete(url).status_code == 403
    assert api(users["sales"]).delete(url).status_code == 204
    assert not Feedback.objects.filter(pk=item.pk).exists()
    assert api(users["sales"]).get(f"/api/v1/requirements/{requirement.pk}/").status_code == 200
    admin = api(users["admin"])
    assert admin.post(_restore("feedback", item.pk)).status_code == 200
    assert Feedback.objects.get(pk=item.pk).requirement_id == requirement.pk


def test_delete_customer_and_contact(api: Any, users: dict[str, Any], customer: Customer, other_sales: Any) -> None:
    contact = customer.contacts.get()
    assert api(other_sales).delete(f"/api/v1/contacts/{contact.pk}/").status_code == 404
    assert api(users["viewer"]).delete(f"/api/v1/contacts/{contact.pk}/").status_code == 403
    assert api(users["sales"]).delete(f"/api/v1/contacts/{contact.pk}/", HTTP_IF_MATCH='W/"77"').status_code == 412
    assert api(users["sales"]).delete(f"/api/v1/contacts/{contact.pk}/").status_code == 204
    url = f"/api/v1/customers/{customer.pk}/"
    assert api(users["viewer"]).delete(url).status_code == 403
    assert api(users["sales"]).delete(url).status_code == 204
    assert api(users["sales"]).get("/api/v1/customers/").json()["count"] == 0
    admin = api(users["admin"])
    kinds = {kind: admin.get(BIN, {"kind": kind}).json()["count"] for kind in ("customer", "contact")}
    assert kinds == {"customer": 1, "contact": 1}
    conflict = admin.post(_restore("contact", contact.pk))
    assert conflict.status_code == 400 and "请先恢复客户" in conflict.json()["non_field_errors"][0]
    assert admin.post(_restore("customer", customer.pk)).status_code == 200
    assert admin.post(_restore("contact", contact.pk)).status_code == 200
    assert Contact.objects.filter(customer=customer).count() == 1


def test_bin_list_is_paginated(api: Any, users: dict[str, Any], django_assert_max_num_queries: Any) -> None:
    pm = users["product_manager"]
    from needpool.requirements.services.recycle import requirement_delete

    for i in range(30):
        requirement_delete(
            actor=pm, requirement=requirement_create(actor=pm, title=f"误录 {i}", submitted_at=timezone.now())
        )
    admin = api(users["admin"])
    with django_assert_max_num_queries(8):
        first = admin.get(BIN, {"kind": "requirement"}).json()
    assert first["count"] == 30 and len(first["results"]) == 25 and first["next"]


def test_the_schema_documents_the_bin(db: Any) -> None:
    from tests.conftest import docs_client

    paths = docs_client().get("/api/schema/", {"format": "json"}).json()["paths"]
    assert "get" in paths["/api/v1/recycle-bin/"]
    assert "post" in paths["/api/v1/recycle-bin/{kind}/{id}/restore/"]
