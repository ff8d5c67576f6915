"""Feedback (原始需求): record, create, turn an interaction's key ask into feedback, link to a requirement."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from needpool.accounts.models import User
from needpool.core.audit import audit_record
from needpool.core.models import AuditEntry
from needpool.customers.models import Contact, Customer, Interaction
from needpool.customers.permissions import can_view_customer, can_write_customer
from needpool.customers.privacy import mask_text_fields
from needpool.requirements.choices import Channel, Dimension
from needpool.requirements.models import (
    ClassOption,
    Feedback,
    Requirement,
)
from needpool.requirements.permissions import (
    can_edit_requirement,
    can_write_feedback,
)
from needpool.requirements.services.common import (
    INTERACTION_TO_FEEDBACK_CHANNEL,
    _deny,
    _refuse_merged,
    requirements_refresh_customer_value,
)

# ---------------------------------------------------------------- feedback


def _check_customer_contact(actor: User, customer: Customer | None, contact: Contact | None) -> None:
    if customer is not None and not can_view_customer(actor, customer):
        raise ValidationError({"customer": _("客户不存在或您无权访问。")})
    if contact is not None and (customer is None or contact.customer_id != customer.pk):
        raise ValidationError({"contact": _("联系人不属于所选客户。")})


def feedback_record(
    *,
    actor: User | None,
    raw_text: str,
    channel: str,
    customer: Customer | None = None,
    contact: Contact | None = None,
    received_at: dt.datetime | None = None,
    sentiment: str = "",
    requirement: Requirement | None = None,
    interaction: Interaction | None = None,
    type: ClassOption | None = None,
    importance: int | None = None,
) -> Feedback:
    """Validate and insert one feedback item, without a permission check.

    ``feedback_create`` calls it after its checks; trusted intake paths (portal form, channel API) call it
    directly: their caller has no staff account, the channel itself was authenticated.
    """
    if type is not None and type.dimension != Dimension.TYPE:
        raise ValidationError({"type": _("所选选项不属于“%(dimension)s”。") % {"dimension": Dimension.TYPE.label}})
    feedback = Feedback(
        customer=customer,
        contact=contact,
        channel=channel,
        raw_text=(raw_text or "").strip(),
        received_at=received_at or timezone.now(),
        sentiment=sentiment or "",
        requirement=requirement,
        interaction=interaction,
        type=type,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    if importance is not None:
        feedback.importance = importance
    mask_text_fields(feedback, ("raw_text",))  # a mobile in the words is masked on save (customers.privacy)
    feedback.full_clean(exclude=["requirement", "interaction", "customer", "contact", "created_by", "type"])
    feedback.save()
    return feedback


@transaction.atomic
def feedback_create(
    *,
    actor: User,
    raw_text: str,
    channel: str,
    customer: Customer | None = None,
    contact: Contact | None = None,
    received_at: dt.datetime | None = None,
    sentiment: str = "",
    requirement: Requirement | None = None,
    interaction: Interaction | None = None,
    importance: int | None = None,
) -> Feedback:
    if not can_write_feedback(actor):
        raise _deny()
    _check_customer_contact(actor, customer, contact)
    feedback = feedback_record(
        actor=actor,
        raw_text=raw_text,
        channel=channel,
        customer=customer,
        contact=contact,
        received_at=received_at,
        sentiment=sentiment,
        requirement=requirement,
        interaction=interaction,
        importance=importance,
    )
    if requirement is not None:
        requirements_refresh_customer_value(requirement_ids=[requirement.pk])
        audit_record(
            actor=actor,
            obj=requirement,
            action=AuditEntry.Action.LINK,
            changes={"feedback": feedback.raw_text[:80]},
        )
    return feedback


@transaction.atomic
def feedback_from_interaction_ask(
    *, actor: User, interaction: Interaction, index: int, importance: int | None = None
) -> Feedback:
    """Turn one key ask (one line of 关键诉求) of an interaction into a feedback item (importance 0–3)."""
    if not can_write_customer(actor, interaction.customer):
        raise _deny()
    asks = interaction.key_ask_lines()
    if not 0 <= index < len(asks):
        raise ValidationError({"index": _("该互动记录没有这一条诉求。")})
    existing = Feedback.objects.filter(interaction=interaction, raw_text=asks[index]).first()
    if existing is not None:
        return existing
    return feedback_create(
        actor=actor,
        raw_text=asks[index],
        channel=INTERACTION_TO_FEEDBACK_CHANNEL.get(interaction.channel, Channel.SALES),
        customer=interaction.customer,
        contact=interaction.contact,
        received_at=interaction.occurred_at,
        sentiment={"satisfied": "positive", "neutral": "neutral", "dissatisfied": "negative"}.get(interaction.mood, ""),
        interaction=interaction,
        importance=importance,
    )


@transaction.atomic
def feedback_link(*, actor: User, feedback: Feedback, requirement: Requirement) -> Feedback:
    if not can_edit_requirement(actor, requirement):
        raise _deny()
    _refuse_merged(requirement)
    previous = feedback.requirement
    feedback.requirement = requirement
    feedback.save(update_fields=["requirement", "updated_at"])
    ids = [requirement.pk] + ([previous.pk] if previous is not None else [])
    requirements_refresh_customer_value(requirement_ids=ids)
    audit_record(
        actor=actor,
        obj=requirement,
        action=AuditEntry.Action.LINK,
        changes={"feedback": feedback.raw_text[:80]},
    )
    return feedback
