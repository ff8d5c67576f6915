"""Write use-cases for customers, contacts and interactions. Each is atomic and audited."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import F
from django.db.models.deletion import ProtectedError, RestrictedError
from django.utils import timezone
from django.utils.translation import gettext as _

from needpool.accounts.models import User
from needpool.core.audit import audit_record, audit_record_many, diff, snapshot
from needpool.core.bulk import create_many
from needpool.core.codes import next_code
from needpool.core.concurrency import check_version, retry_on_conflict
from needpool.core.config import personal_email_domains, site_config
from needpool.core.models import AuditEntry
from needpool.core.permissions import is_admin
from needpool.core.recycle import check_restorable, mark_deleted, mark_restored, purge_cutoff
from needpool.core.text import human_join
from needpool.customers.cadence import follow_up_after_interaction
from needpool.customers.choices import ValueTier
from needpool.customers.events import value_tier_changed
from needpool.customers.models import Contact, Customer, Interaction
from needpool.customers.permissions import can_manage_personal_data, can_write_customer, visible_customers
from needpool.customers.personal_data import Person, erased_name, personal_data_holders, scrub_audit_rows
from needpool.customers.privacy import check_contact_privacy, mask_text_fields
from needpool.customers.selectors import contact_erasure_entry

log = logging.getLogger(__name__)

CUSTOMER_FIELDS = (
    "name",
    "industry",
    "region",
    "employees",
    "annual_revenue",
    "founded",
    "main_business",
    "first_cooperation",
    "products_bought",
    "total_order_amount",
    "yearly_purchase",
    "segment",
    "follow_status",
    "next_follow_up",
    "owner",
    "tags",
    "praise_complaint",
    "notes",
)
CONTACT_FIELDS = ("name", "title", "phone", "email", "decision_role")
INTERACTION_FIELDS = (
    "contact",
    "occurred_at",
    "channel",
    "participants",
    "key_content",
    "mood",
    "key_asks",
    "next_follow_up_plan",
    "next_follow_up_date",
)
#: The free-text fields of an interaction, where a mobile number is masked on save (customers.privacy).
INTERACTION_TEXT_FIELDS = ("participants", "key_content", "key_asks", "next_follow_up_plan")


def _deny_unless(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied(_("您没有维护该客户的权限。"))


def _gone() -> Any:
    """A row deleted (回收站) while the caller was editing it: refused with a message, not a crash."""
    raise ValidationError(_("该记录已被删除。"))


def value_tier_for(yearly_purchase: Decimal | int | None) -> str:
    config = site_config()
    amount = Decimal(yearly_purchase or 0)
    if amount >= config.value_tier_high:
        return ValueTier.HIGH
    if amount >= config.value_tier_medium:
        return ValueTier.MEDIUM
    return ValueTier.LOW


def _apply(obj: Any, data: dict[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = set(data) - set(allowed)
    if unknown:
        raise ValidationError({name: _("未知字段。") for name in sorted(unknown)})
    for name, value in data.items():
        setattr(obj, name, value)


def _full_clean(obj: Any, exclude: list[str] | None = None) -> None:
    obj.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)


@transaction.atomic
def customer_create(*, actor: User, code: str = "", **data: Any) -> Customer:
    _deny_unless(can_write_customer(actor))
    customer = Customer(created_by=actor if actor and actor.pk else None)
    if "owner" not in data and actor is not None and actor.pk:
        data["owner"] = actor
    _apply(customer, data, CUSTOMER_FIELDS)
    customer.code = code.strip() or "pending"
    customer.value_tier = value_tier_for(customer.yearly_purchase)
    _full_clean(customer)
    if code.strip():
        if Customer.all_objects.filter(code=customer.code).exists():
            raise ValidationError({"code": _("客户编号 %(code)s 已存在。") % {"code": customer.code}})
    else:
        customer.code = next_code(
            site_config().customer_code_pattern,
            timezone.localdate(),
            namespace="customer",
            taken=lambda c: Customer.all_objects.filter(code=c).exists(),
        )
    customer.save()
    audit_record(
        actor=actor,
        obj=customer,
        action=AuditEntry.Action.CREATE,
        changes=snapshot(customer, ("code", *CUSTOMER_FIELDS)),
    )
    return customer


@retry_on_conflict()
@transaction.atomic
def customer_update(*, actor: User, customer: Customer, expected_version: int | None = None, **data: Any) -> Customer:
    """Edit the fields given; ``expected_version`` refuses a stale edit (``StaleVersion``); bumps ``version``."""
    _deny_unless(can_write_customer(actor, customer))
    customer = Customer.objects.select_for_update().filter(pk=customer.pk).first() or _gone()
    check_version(customer.version, expected_version)
    before = snapshot(customer, (*CUSTOMER_FIELDS, "value_tier"))
    _apply(customer, data, CUSTOMER_FIELDS)
    customer.value_tier = value_tier_for(customer.yearly_purchase)
    _full_clean(customer)
    customer.version += 1  # the row is locked: no other write read this version
    customer.save()
    changes = diff(before, snapshot(customer, (*CUSTOMER_FIELDS, "value_tier")))
    if changes:
        audit_record(actor=actor, obj=customer, action=AuditEntry.Action.UPDATE, changes=changes)
    if "value_tier" in changes:
        value_tier_changed([customer.pk])
    return customer


def _check_contact(contact: Contact) -> None:
    contact.phone = (contact.phone or "").strip()
    contact.email = (contact.email or "").strip()
    check_contact_privacy(phone=contact.phone, email=contact.email, personal_domains=personal_email_domains())
    # The customer is the row the caller's permission check just read: no second query to see that it exists.
    _full_clean(contact, exclude=["customer"])


@transaction.atomic
def contact_create(*, actor: User, customer: Customer, **data: Any) -> Contact:
    _deny_unless(can_write_customer(actor, customer))
    contact = contact_prepare(customer=customer, **data)
    contact.save()
    audit_record(actor=actor, obj=customer, action=AuditEntry.Action.CREATE, changes={"contact": contact.name})
    return contact


def contact_prepare(*, customer: Customer, **data: Any) -> Contact:
    """The unsaved contact ``data`` describes, checked as ``contact_create`` checks it (its permission aside):
    for ``contacts_create_many``, which saves many at once."""
    contact = Contact(customer=customer)
    _apply(contact, data, CONTACT_FIELDS)
    _check_contact(contact)
    return contact


@transaction.atomic
def contacts_create_many(*, actor: User, contacts: Sequence[Contact]) -> list[Contact]:
    """Save contacts made by ``contact_prepare`` at once (an import's new contacts), with their audit rows, as
    ``contact_create`` one by one would; all or none: one the user may not maintain refuses them all."""
    if not contacts:
        return []
    customer_ids = {c.customer_id for c in contacts}
    visible = visible_customers(actor).filter(pk__in=customer_ids).count()
    _deny_unless(can_write_customer(actor) and visible == len(customer_ids))
    made = create_many(Contact, contacts)
    audit_record_many(
        actor=actor,
        objs=[c.customer for c in made],
        action=AuditEntry.Action.CREATE,
        changes_each=[{"contact": c.name} for c in made],
    )
    return made


@retry_on_conflict()
@transaction.atomic
def contact_update(*, actor: User, contact: Contact, expected_version: int | None = None, **data: Any) -> Contact:
    """Edit the fields given; ``expected_version`` refuses a stale edit (``StaleVersion``); bumps ``version``."""
    _deny_unless(can_write_customer(actor, contact.customer))
    contact = Contact.objects.select_for_update().select_related("customer").filter(pk=contact.pk).first() or _gone()
    check_version(contact.version, expected_version)
    if contact_erasure_entry(contact) is not None:
        raise ValidationError(_("该联系人的个人信息已应本人要求删除，不能再编辑；如需联系，请新建联系人。"))
    before = snapshot(contact, CONTACT_FIELDS)
    _apply(contact, data, CONTACT_FIELDS)
    _check_contact(contact)
    contact.version += 1  # the row is locked: no other write read this version
    contact.save()
    changes = diff(before, snapshot(contact, CONTACT_FIELDS))
    if changes:
        audit_record(
            actor=actor,
            obj=contact.customer,
            action=AuditEntry.Action.UPDATE,
            changes={f"contact.{k}": v for k, v in changes.items()},
        )
    return contact


def is_late_entry(occurred_at: dt.datetime, recorded_at: dt.datetime) -> bool:
    return recorded_at - occurred_at > dt.timedelta(hours=site_config().interaction_late_hours)


@transaction.atomic
def interaction_create(*, actor: User, customer: Customer, **data: Any) -> Interaction:
    _deny_unless(can_write_customer(actor, customer))
    interaction = Interaction(customer=customer, recorded_by=actor if actor and actor.pk else None)
    _apply(interaction, data, INTERACTION_FIELDS)
    if interaction.contact_id and interaction.contact and interaction.contact.customer_id != customer.pk:
        raise ValidationError({"contact": _("联系人不属于该客户。")})
    now = timezone.now()
    if interaction.occurred_at and interaction.occurred_at > now + dt.timedelta(minutes=5):
        raise ValidationError({"occurred_at": _("接触时间不能晚于当前时间。")})
    mask_text_fields(interaction, INTERACTION_TEXT_FIELDS)  # mobiles in notes are masked, the user is told
    _full_clean(interaction)
    interaction.is_late = is_late_entry(interaction.occurred_at, now)
    interaction.save()
    # The next follow-up: the segment's cadence from this contact, or the planned date when sooner.
    follow_up_after_interaction(customer=customer, interaction=interaction)
    audit_record(
        actor=actor,
        obj=customer,
        action=AuditEntry.Action.CREATE,
        changes={"interaction": f"{interaction.get_channel_display()} {interaction.occurred_at:%Y-%m-%d %H:%M}"},
    )
    return interaction


# ---------------------------------------------------------------- a contact's personal data (PIPL)

ERASE_REASON_MAX_LENGTH = 500
#: The customer's own free text that may name one of its contacts.
CUSTOMER_TEXT_FIELDS = ("notes", "praise_complaint", "tags", "main_business")


@transaction.atomic
def contact_erase(*, actor: User, contact: Contact, reason: str) -> Contact:
    """Erase a contact's personal data on request (PIPL 删除权); irreversible.

    The contact becomes "已删除联系人 #<id>" with title, phone and e-mail cleared; every place that names
    the person — the customer's interactions and notes, the audit rows of the customer and the contact, and
    what other apps registered (feedback words, portal submissions and messages) — has the name, phone and
    e-mail replaced by that label. Rows stay (requirements, feedback, counts, the customer). One audit row
    on the contact says who erased it, when and why; a second erasure is refused.
    """
    if not can_manage_personal_data(actor, contact.customer):
        raise PermissionDenied(_("只有管理员或经理可以导出或删除联系人的个人信息。"))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("请填写删除原因（如：本人于某日书面要求删除）。")})
    if len(reason) > ERASE_REASON_MAX_LENGTH:
        raise ValidationError({"reason": _("删除原因不能超过 %(max)s 个字。") % {"max": ERASE_REASON_MAX_LENGTH}})
    contact = Contact.objects.select_for_update().select_related("customer").get(pk=contact.pk)
    if contact_erasure_entry(contact) is not None:
        raise ValidationError(_("该联系人的个人信息已删除，不能重复操作。"))
    person = Person(
        contact_id=contact.pk, name=contact.name, title=contact.title, phone=contact.phone, email=contact.email
    )
    counts: dict[str, int] = {}
    for holder in personal_data_holders():
        counts[holder.key] = holder.erase(contact, person)
    interactions = list(Interaction.objects.filter(customer_id=contact.customer_id).select_for_update())
    for interaction in interactions:
        fields = person.scrub_fields(interaction, INTERACTION_TEXT_FIELDS)
        if fields:
            interaction.save(update_fields=[*fields, "updated_at"])
            counts["interactions"] = counts.get("interactions", 0) + 1
    customer = Customer.objects.select_for_update().get(pk=contact.customer_id)
    fields = person.scrub_fields(customer, CUSTOMER_TEXT_FIELDS)
    if fields:
        customer.version = F("version") + 1
        customer.save(update_fields=[*fields, "version", "updated_at"])
    Contact.objects.filter(pk=contact.pk).update(
        name=erased_name(contact.pk), title="", phone="", email="", version=F("version") + 1, updated_at=timezone.now()
    )
    counts["audit_rows"] = scrub_audit_rows(person, Contact, [contact.pk]) + scrub_audit_rows(
        person, Customer, [customer.pk]
    )
    contact.refresh_from_db()
    label = erased_name(contact.pk)
    audit_record(
        actor=actor,
        obj=contact,
        action=AuditEntry.Action.DELETE,
        changes={"personal_data_erased": label, "reason": person.scrub(reason), "rows_scrubbed": counts},
    )
    audit_record(
        actor=actor,
        obj=customer,
        action=AuditEntry.Action.UPDATE,
        changes={"contact_erased": label, "reason": person.scrub(reason)},
    )
    return contact


# ---------------------------------------------------------------- the recycle bin (回收站)
#
# Who deletes: whoever may maintain the customer. Who restores: an admin, for RESTORE_DAYS days (core.recycle).
# A customer goes to the bin with its contacts (restored together); it is refused while it still has feedback
# or interactions (delete or move them first: a customer's history is not lost as a side effect). A contact
# can always be deleted; the feedback and interactions that name it keep the name. A contact's delete and
# restore are audited on its customer (like its creation); an audit row of the DELETE kind on the contact
# itself means its personal data was erased (contact_erase).


def customer_delete_refusals(customer: Customer) -> list[str]:
    """Why the customer cannot go to the bin now (empty: it can): live rows of another kind still name it."""
    held: list[str] = []
    for rel in Customer._meta.related_objects:
        related = rel.related_model
        if related is Contact or rel.on_delete is models.SET_NULL:
            continue
        count = related._default_manager.filter(**{rel.field.name: customer}).count()
        if count:
            held.append(f"{related._meta.verbose_name} {count}")
    if not held:
        return []
    return [_("该客户还有%(what)s：请先删除或转移这些记录。") % {"what": human_join(held)}]


def _lock_customer(pk: int) -> Customer:
    customer = Customer.all_objects.select_for_update().filter(pk=pk).first()
    if customer is None:
        raise ValidationError(_("回收站中没有这条记录（可能已被彻底删除）。"))
    return customer


@retry_on_conflict()
@transaction.atomic
def customer_delete(*, actor: User, customer: Customer, expected_version: int | None = None) -> Customer:
    """Put the customer and its contacts in the bin (they leave every list and search)."""
    if not can_write_customer(actor, customer):
        raise PermissionDenied(_("您没有删除该客户的权限。"))
    customer = _lock_customer(customer.pk)
    if customer.deleted_at is not None:
        raise ValidationError(_("该记录已被删除。"))
    check_version(customer.version, expected_version)
    refusals = customer_delete_refusals(customer)
    if refusals:
        raise ValidationError(refusals)
    now = timezone.now()
    contacts = list(Contact.objects.select_for_update().filter(customer=customer).order_by("pk"))
    for contact in contacts:
        mark_deleted(contact, actor=actor, at=now)
    mark_deleted(customer, actor=actor, at=now)
    changes: dict[str, Any] = {"code": customer.code, "name": customer.name}
    if contacts:
        changes["contacts"] = [c.name for c in contacts]
    audit_record(actor=actor, obj=customer, action=AuditEntry.Action.DELETE, changes=changes)
    return customer


@retry_on_conflict()
@transaction.atomic
def customer_restore(*, actor: User, pk: int) -> Customer:
    """Take the customer out of the bin with the contacts that went there with it."""
    if not is_admin(actor):
        raise PermissionDenied(_("只有管理员可以从回收站恢复。"))
    customer = _lock_customer(pk)
    deleted_at = check_restorable(customer)
    contacts = list(Contact.all_objects.select_for_update().filter(customer=customer, deleted_at=deleted_at))
    for contact in contacts:
        mark_restored(contact)
    mark_restored(customer)
    changes: dict[str, Any] = {"deleted_at": (deleted_at, None)}
    if contacts:
        changes["contacts"] = [c.name for c in contacts]
    audit_record(actor=actor, obj=customer, action=AuditEntry.Action.RESTORE, changes=changes)
    return customer


@retry_on_conflict()
@transaction.atomic
def contact_delete(*, actor: User, contact: Contact, expected_version: int | None = None) -> Contact:
    if not can_write_customer(actor, contact.customer):
        raise PermissionDenied(_("您没有删除该联系人的权限。"))
    locked = Contact.all_objects.select_for_update().filter(pk=contact.pk).first()
    if locked is None or locked.deleted_at is not None:
        raise ValidationError(_("该记录已被删除。"))
    contact = locked
    check_version(contact.version, expected_version)
    mark_deleted(contact, actor=actor, at=timezone.now())
    audit_record(
        actor=actor,
        obj=contact.customer,
        action=AuditEntry.Action.DELETE,
        changes={"contact": contact.name, "contact_id": contact.pk},
    )
    return contact


@retry_on_conflict()
@transaction.atomic
def contact_restore(*, actor: User, pk: int) -> Contact:
    if not is_admin(actor):
        raise PermissionDenied(_("只有管理员可以从回收站恢复。"))
    contact = Contact.all_objects.select_for_update().filter(pk=pk).first()
    if contact is None:
        raise ValidationError(_("回收站中没有这条记录（可能已被彻底删除）。"))
    deleted_at = check_restorable(contact)
    customer = contact.customer
    if customer.deleted_at is not None:
        raise ValidationError(
            _("该联系人的客户“%(customer)s”也在回收站中：请先恢复客户。") % {"customer": customer.name}
        )
    mark_restored(contact)
    audit_record(
        actor=actor,
        obj=customer,
        action=AuditEntry.Action.RESTORE,
        changes={"contact": contact.name, "contact_id": contact.pk, "deleted_at": (deleted_at, None)},
    )
    return contact


def _purge(obj: Customer | Contact, before: dt.datetime) -> bool:
    model = type(obj)
    try:
        with transaction.atomic():
            locked = model.all_objects.select_for_update().filter(pk=obj.pk, deleted_at__lt=before).first()
            if locked is None:
                return False  # restored meanwhile
            target = locked if isinstance(locked, Customer) else locked.customer
            changes: dict[str, Any] = {"purged": True, "deleted_at": locked.deleted_at}
            if isinstance(locked, Contact):
                changes.update(contact=locked.name, contact_id=locked.pk)
            audit_record(actor=None, obj=target, action=AuditEntry.Action.DELETE, changes=changes)
            locked.delete()
    except (ProtectedError, RestrictedError) as exc:
        log.warning("recycle bin: %s #%s is still referenced, kept for now: %s", model.__name__, obj.pk, exc)
        return False
    return True


def customers_purge(now: dt.datetime | None = None) -> dict[str, int]:
    """Delete for good contacts and customers that have been in the bin longer than it keeps them."""
    before = purge_cutoff(now)
    counts = {"contacts": 0, "customers": 0}
    for contact in Contact.all_objects.filter(deleted_at__lt=before).order_by("pk").iterator():
        counts["contacts"] += _purge(contact, before)
    for customer in Customer.all_objects.filter(deleted_at__lt=before).order_by("pk").iterator():
        counts["customers"] += _purge(customer, before)
    return counts
