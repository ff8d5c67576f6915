"""The recycle bin's services: who deletes and restores, what blocks a delete, the 30 days, the purge."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from needpool.core.concurrency import StaleVersion
from needpool.core.models import AuditEntry
from needpool.core.recycle import RESTORE_DAYS, days_left
from needpool.customers.models import Contact, Customer
from needpool.customers.services import (
    contact_delete,
    contact_restore,
    contact_update,
    customer_create,
    customer_delete,
    customer_restore,
    customer_update,
    customers_purge,
    interaction_create,
)
from needpool.requirements.models import Feedback, Requirement
from needpool.requirements.services import feedback_create, requirement_create, requirement_update
from needpool.requirements.services.recycle import (
    feedback_delete,
    feedback_restore,
    requirement_delete,
    requirement_restore,
    requirements_purge,
)

pytestmark = pytest.mark.django_db


def _actions(obj: Any) -> list[str]:
    return list(
        AuditEntry.objects.filter(content_type__model=obj._meta.model_name, object_id=obj.pk)
        .order_by("at", "id")
        .values_list("action", flat=True)
    )


def _bare_requirement(actor: Any, title: str = "误录的需求") -> Requirement:
    return requirement_create(actor=actor, title=title, submitted_at=timezone.now())


def _age(obj: Any, days: int) -> None:
    type(obj).all_objects.filter(pk=obj.pk).update(deleted_at=timezone.now() - dt.timedelta(days=days))


def test_delete_and_restore_a_requirement(users: dict[str, Any]) -> None:
    pm, admin = users["product_manager"], users["admin"]
    requirement = _bare_requirement(pm)
    version = requirement.version
    requirement_delete(actor=pm, requirement=requirement, expected_version=version)
    assert not Requirement.objects.filter(pk=requirement.pk).exists()
    row = Requirement.all_objects.get(pk=requirement.pk)
    assert row.deleted_by == pm and row.deleted_at is not None and row.version == version + 1
    assert row.is_deleted
    with pytest.raises(PermissionDenied):
        requirement_restore(actor=pm, pk=requirement.pk)
    requirement_restore(actor=admin, pk=requirement.pk)
    row = Requirement.objects.get(pk=requirement.pk)
    assert row.deleted_at is None and row.deleted_by is None
    assert _actions(row)[-2:] == [AuditEntry.Action.DELETE, AuditEntry.Action.RESTORE]
    restore = AuditEntry.objects.filter(object_id=row.pk, content_type__model="requirement").first()
    assert restore is not None and restore.actor == admin and restore.changes["deleted_at"][1] is None


def test_a_deleted_code_is_not_reused(users: dict[str, Any]) -> None:
    pm = users["product_manager"]
    first = _bare_requirement(pm)
    requirement_delete(actor=pm, requirement=first)
    second = _bare_requirement(pm, "另一条")
    assert second.code != first.code


def test_a_requirement_goes_with_its_feedback_and_comes_back_with_it(
    users: dict[str, Any], requirement: Requirement
) -> None:
    pm, admin = users["product_manager"], users["admin"]
    evidence = requirement.feedback_items.get()
    requirement_delete(actor=pm, requirement=requirement)
    assert not Feedback.objects.filter(pk=evidence.pk).exists()
    with pytest.raises(ValidationError, match="请恢复该需求"):
        feedback_restore(actor=admin, pk=evidence.pk)
    requirement_restore(actor=admin, pk=requirement.pk)
    assert Feedback.objects.get(pk=evidence.pk).requirement_id == requirement.pk


def test_requirement_delete_refusals(
    users: dict[str, Any], requirement: Requirement, customer_b: Customer, make_user: Any
) -> None:
    sales, pm = users["sales"], users["product_manager"]
    with pytest.raises(StaleVersion):
        requirement_delete(actor=pm, requirement=requirement, expected_version=requirement.version - 1)
    feedback_create(actor=pm, raw_text="B 也要", channel="sales", customer=customer_b, requirement=requirement)
    with pytest.raises(ValidationError, match="1 条您无权删除的反馈"):
        requirement_delete(actor=sales, requirement=requirement)
    assert Requirement.objects.filter(pk=requirement.pk).exists()
    assert Feedback.objects.filter(requirement=requirement).count() == 2


def test_who_may_delete_a_requirement(users: dict[str, Any], make_user: Any) -> None:
    own = _bare_requirement(users["sales"])
    others = _bare_requirement(users["product_manager"])
    for role in ("viewer", "engineer", "compliance"):
        with pytest.raises(PermissionDenied):
            requirement_delete(actor=users[role], requirement=own)
    with pytest.raises(PermissionDenied):
        requirement_delete(actor=users["sales"], requirement=others)
    requirement_delete(actor=users["sales"], requirement=own)
    requirement_delete(actor=users["manager"], requirement=others)


def test_an_edit_after_the_delete_is_refused_with_a_message(users: dict[str, Any]) -> None:
    pm = users["product_manager"]
    requirement = _bare_requirement(pm)
    requirement_delete(actor=pm, requirement=requirement)
    with pytest.raises(ValidationError, match="已被删除"):
        requirement_update(actor=pm, requirement=requirement, title="改")
    with pytest.raises(ValidationError, match="已被删除"):
        requirement_delete(actor=pm, requirement=requirement)


def test_restore_only_within_the_days_the_bin_keeps(users: dict[str, Any]) -> None:
    pm, admin = users["product_manager"], users["admin"]
    requirement = _bare_requirement(pm)
    requirement_delete(actor=pm, requirement=requirement)
    _age(requirement, RESTORE_DAYS)
    with pytest.raises(ValidationError, match="超过 30 天"):
        requirement_restore(actor=admin, pk=requirement.pk)
    with pytest.raises(ValidationError, match="不在回收站"):
        requirement_restore(actor=admin, pk=_bare_requirement(pm, "在池中").pk)
    with pytest.raises(ValidationError, match="没有这条记录"):
        requirement_restore(actor=admin, pk=987654)


def test_days_left() -> None:
    now = timezone.now()
    assert days_left(now, now) == RESTORE_DAYS
    assert days_left(now - dt.timedelta(days=29, hours=1), now) == 1
    assert days_left(now - dt.timedelta(days=31), now) == 0


def test_feedback_leaves_its_requirement_and_comes_back(users: dict[str, Any], requirement: Requirement) -> None:
    pm, admin = users["product_manager"], users["admin"]
    feedback = requirement.feedback_items.get()
    feedback_delete(actor=pm, feedback=feedback)
    assert not requirement.feedback_items.exists()
    row = Feedback.all_objects.get(pk=feedback.pk)
    assert row.requirement_id is None and row.deleted_by == pm
    feedback_restore(actor=admin, pk=feedback.pk)
    assert Feedback.objects.get(pk=feedback.pk).requirement_id == requirement.pk
    assert requirement.feedback_items.count() == 1
    with pytest.raises(PermissionDenied):
        feedback_restore(actor=pm, pk=feedback.pk)


def test_restored_feedback_goes_to_the_inbox_when_its_requirement_is_gone(
    users: dict[str, Any], requirement: Requirement
) -> None:
    pm, admin = users["product_manager"], users["admin"]
    feedback = requirement.feedback_items.get()
    feedback_delete(actor=pm, feedback=feedback)
    requirement_delete(actor=pm, requirement=requirement)
    feedback_restore(actor=admin, pk=feedback.pk)
    assert Feedback.objects.get(pk=feedback.pk).requirement_id is None


def test_who_may_delete_feedback(
    users: dict[str, Any], customer: Customer, customer_b: Customer, other_sales: Any
) -> None:
    mine = feedback_create(actor=users["sales"], raw_text="希望支持批量导出", channel="sales", customer=customer)
    theirs = feedback_create(actor=users["product_manager"], raw_text="交付太慢", channel="sales", customer=customer_b)
    for actor in (users["viewer"], users["engineer"], other_sales):
        with pytest.raises(PermissionDenied):
            feedback_delete(actor=actor, feedback=mine)
    with pytest.raises(PermissionDenied):
        feedback_delete(actor=users["sales"], feedback=theirs)
    feedback_delete(actor=users["service"], feedback=mine)  # same team: sees and maintains the customer
    feedback_delete(actor=users["product_manager"], feedback=theirs)


def test_feedback_of_someone_elses_requirement_needs_the_right_to_edit_it(
    users: dict[str, Any], customer: Customer
) -> None:
    requirement = _bare_requirement(users["product_manager"])
    feedback = feedback_create(
        actor=users["sales"], raw_text="希望支持批量导出", channel="sales", customer=customer, requirement=requirement
    )
    with pytest.raises(PermissionDenied):
        feedback_delete(actor=users["sales"], feedback=feedback)


def test_customer_goes_with_its_contacts_and_comes_back_with_them(users: dict[str, Any], customer: Customer) -> None:
    sales, admin = users["sales"], users["admin"]
    with pytest.raises(ValidationError, match="反馈"):
        # the fixture customer has no feedback yet; one is added to show the refusal
        feedback_create(actor=sales, raw_text="想要导出", channel="sales", customer=customer)
        customer_delete(actor=sales, customer=customer)
    Feedback.objects.filter(customer=customer).delete()
    earlier = customer.contacts.get()
    contact_delete(actor=sales, contact=earlier)  # deleted before: stays in the bin when the customer returns
    Contact.objects.create(customer=customer, name="李经理")
    customer_delete(actor=sales, customer=customer, expected_version=Customer.objects.get(pk=customer.pk).version)
    assert not Customer.objects.filter(pk=customer.pk).exists()
    assert not Contact.objects.filter(customer_id=customer.pk).exists()
    with pytest.raises(ValidationError, match="请先恢复客户"):
        contact_restore(actor=admin, pk=earlier.pk)
    with pytest.raises((ValidationError, PermissionDenied)):
        customer_update(actor=sales, customer=customer, name="改名")
    customer_restore(actor=admin, pk=customer.pk)
    assert list(Contact.objects.filter(customer=customer).values_list("name", flat=True)) == ["李经理"]
    contact_restore(actor=admin, pk=earlier.pk)
    assert Contact.objects.filter(customer=customer).count() == 2
    assert _actions(customer)[-1] == AuditEntry.Action.RESTORE


def test_customer_with_interactions_is_refused(users: dict[str, Any], customer: Customer) -> None:
    interaction_create(
        actor=users["sales"], customer=customer, occurred_at=timezone.now(), channel="visit", key_content="拜访"
    )
    with pytest.raises(ValidationError, match="互动记录"):
        customer_delete(actor=users["sales"], customer=customer)


def test_who_may_delete_customers_and_contacts(users: dict[str, Any], customer: Customer, other_sales: Any) -> None:
    contact = customer.contacts.get()
    for actor in (users["viewer"], users["engineer"], other_sales):
        with pytest.raises(PermissionDenied):
            customer_delete(actor=actor, customer=customer)
        with pytest.raises(PermissionDenied):
            contact_delete(actor=actor, contact=contact)
    for actor in (users["sales"], users["product_manager"]):
        with pytest.raises(PermissionDenied):
            customer_restore(actor=actor, pk=customer.pk)
        with pytest.raises(PermissionDenied):
            contact_restore(actor=actor, pk=contact.pk)
    contact_delete(actor=users["product_manager"], contact=contact)
    with pytest.raises(ValidationError, match="已被删除"):
        contact_update(actor=users["sales"], contact=contact, title="总经理")
    with pytest.raises(ValidationError, match="已被删除"):
        contact_delete(actor=users["sales"], contact=contact)
    # the contact's delete is audited on its customer: it is not taken for a personal-data erasure
    entry = AuditEntry.objects.filter(content_type__model="customer", object_id=customer.pk).first()
    assert entry is not None and entry.action == AuditEntry.Action.DELETE and entry.changes["contact_id"] == contact.pk
    contact_restore(actor=users["admin"], pk=contact.pk)
    contact_update(actor=users["sales"], contact=Contact.objects.get(pk=contact.pk), title="总经理")


def test_customer_codes_are_not_reused(users: dict[str, Any]) -> None:
    first = customer_create(actor=users["sales"], name="误建客户")
    customer_delete(actor=users["sales"], customer=first)
    assert customer_create(actor=users["sales"], name="新客户").code != first.code
    with pytest.raises(ValidationError, match="已存在"):
        customer_create(actor=users["sales"], name="同编号", code=first.code)


def test_purge_deletes_for_good_and_keeps_the_audit_trail(users: dict[str, Any], requirement: Requirement) -> None:
    pm, sales = users["product_manager"], users["sales"]
    feedback = requirement.feedback_items.get()
    feedback_delete(actor=pm, feedback=feedback)
    requirement_delete(actor=pm, requirement=requirement)
    fresh = _bare_requirement(pm, "刚删除")
    requirement_delete(actor=pm, requirement=fresh)
    customer = customer_create(actor=sales, name="误建客户")
    Contact.objects.create(customer=customer, name="赵工")
    customer_delete(actor=sales, customer=customer)
    for obj in (feedback, requirement, customer, *Contact.all_objects.filter(customer=customer)):
        _age(obj, RESTORE_DAYS + 1)
    assert requirements_purge() == {"feedback": 1, "requirements": 1}
    assert customers_purge() == {"contacts": 1, "customers": 1}
    assert not Requirement.all_objects.filter(pk=requirement.pk).exists()
    assert Requirement.all_objects.filter(pk=fresh.pk).exists()  # still restorable
    assert not Customer.all_objects.filter(pk=customer.pk).exists()
    assert _actions(requirement)[-2:] == [AuditEntry.Action.DELETE, AuditEntry.Action.DELETE]
    purged = AuditEntry.objects.filter(content_type__model="requirement", object_id=requirement.pk).first()
    assert purged is not None and purged.changes["purged"] is True
    assert requirements_purge() == {"feedback": 0, "requirements": 0}
