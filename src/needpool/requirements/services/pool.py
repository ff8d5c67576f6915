"""Requirements in the pool: create (always with its evidence) and edit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from needpool.accounts.models import User
from needpool.core.audit import audit_record, audit_record_many, diff, snapshot
from needpool.core.bulk import create_many
from needpool.core.concurrency import check_version, retry_on_conflict
from needpool.core.models import AuditEntry
from needpool.customers.choices import ValueTier
from needpool.customers.models import Contact, Customer
from needpool.customers.permissions import visible_customers
from needpool.requirements import lifecycle
from needpool.requirements import sla as sla_rules
from needpool.requirements.choices import Channel
from needpool.requirements.dedup import index_changed_on_commit as dedup_index_changed_on_commit
from needpool.requirements.events import owner_of, tell_owner_changed, tell_priority_changed, watchers_of
from needpool.requirements.models import (
    ClassOption,
    Feedback,
    Requirement,
    StatusChange,
)
from needpool.requirements.permissions import (
    can_create_requirement,
    can_edit_requirement,
)
from needpool.requirements.services.classification import CLASSIFYING_FIELDS, stamp_rule_version
from needpool.requirements.services.common import (
    _TIER_RANK,
    AUDITED_FIELDS,
    EDITABLE_FIELDS,
    _check_options,
    _check_tags,
    _deny,
    _index_text,
    _lock_requirement,
    _refuse_merged,
    entry_status,
    new_requirement_code,
    new_requirement_codes,
)
from needpool.requirements.services.feedback import _check_customer_contact
from needpool.requirements.services.sla_priority import _record_breaches

# ---------------------------------------------------------------- requirements


@dataclass
class NewRequirement:
    """One requirement to create with ``requirements_create_many``: ``requirement_create``'s arguments (the customer's
    words become its first feedback item)."""

    title: str
    description: str = ""
    background: str = ""
    concrete_ask: str = ""
    expected_date: dt.date | None = None
    type: ClassOption | None = None
    urgency: ClassOption | None = None
    nature: ClassOption | None = None
    source: ClassOption | None = None
    category: ClassOption | None = None
    tags: Sequence[ClassOption] = ()
    owner: User | None = None
    priority: str = ""
    customer: Customer | None = None
    contact: Contact | None = None
    channel: str = Channel.SALES
    feedback_text: str = ""
    submitted_at: dt.datetime | None = None
    code: str = ""
    unassigned: bool = False

    def fields(self) -> dict[str, Any]:
        return {
            "title": (self.title or "").strip(),
            "description": self.description or "",
            "background": self.background or "",
            "concrete_ask": self.concrete_ask or "",
            "expected_date": self.expected_date,
            "type": self.type,
            "urgency": self.urgency,
            "nature": self.nature,
            "source": self.source,
            "category": self.category,
            "owner": self.owner,
            "priority": self.priority or "",
        }


@dataclass
class _Built:
    requirement: Requirement
    tags: list[ClassOption]
    breached: bool


def _build(
    actor: User, draft: NewRequirement, *, now: dt.datetime, evidence_customers: Sequence[Customer | None]
) -> _Built:
    """The unsaved requirement ``draft`` describes, checked as a single create checks it (not its code)."""
    fields = draft.fields()
    _check_options(fields)
    tag_list = _check_tags(draft.tags)
    requirement = Requirement(
        **fields,
        code=draft.code.strip() or "pending",
        status=entry_status(),
        created_by=actor if getattr(actor, "pk", None) else None,
        submitted_at=draft.submitted_at or now,
    )
    if requirement.owner is None and getattr(actor, "pk", None) and not draft.unassigned:
        requirement.owner = actor
    breached = sla_rules.apply_due(requirement, now=now)
    stamp_rule_version(requirement)
    requirement.full_clean(
        exclude=["status", "created_by", "owner", "type", "urgency", "nature", "source", "category"],
        validate_unique=False,
        validate_constraints=False,
    )
    # The new requirement's customers are known here: its value is the best tier among them (no refresh query).
    tiers = [c.value_tier for c in evidence_customers if c is not None and c.value_tier]
    ranks = [_TIER_RANK.get(ValueTier(tier), 0) for tier in tiers]
    requirement.customer_value = {r: t for t, r in _TIER_RANK.items()}.get(max(ranks, default=0), "")
    return _Built(requirement, tag_list, breached)


def _first_words(draft: NewRequirement, requirement: Requirement) -> str:
    return (draft.feedback_text or draft.description or draft.concrete_ask or requirement.title).strip()


def _created_changes(requirement: Requirement, tags: Sequence[ClassOption]) -> dict[str, Any]:
    return {**snapshot(requirement, ("code", *EDITABLE_FIELDS)), "tags": [t.label for t in tags]}


def _code_taken(code: str) -> ValidationError:
    return ValidationError({"code": _("需求编号 %(code)s 已存在。") % {"code": code}})


@transaction.atomic
def requirement_create(
    *,
    actor: User,
    title: str,
    description: str = "",
    background: str = "",
    concrete_ask: str = "",
    expected_date: dt.date | None = None,
    type: ClassOption | None = None,
    urgency: ClassOption | None = None,
    nature: ClassOption | None = None,
    source: ClassOption | None = None,
    category: ClassOption | None = None,
    tags: Iterable[ClassOption] = (),
    owner: User | None = None,
    priority: str = "",
    customer: Customer | None = None,
    contact: Contact | None = None,
    channel: str = Channel.SALES,
    feedback_text: str = "",
    feedback: Iterable[Feedback] = (),
    submitted_at: dt.datetime | None = None,
    code: str = "",
    unassigned: bool = False,
) -> Requirement:
    """Create a requirement with its evidence: the given feedback items, or the customer's words as new.

    Without an ``owner`` the creating user owns it, unless ``unassigned`` (an import told to leave it to nobody).
    ``requirements_create_many`` creates many at once, with the same result."""
    if not can_create_requirement(actor):
        raise _deny()
    draft = NewRequirement(
        title=title,
        description=description,
        background=background,
        concrete_ask=concrete_ask,
        expected_date=expected_date,
        type=type,
        urgency=urgency,
        nature=nature,
        source=source,
        category=category,
        tags=list(tags),
        owner=owner,
        priority=priority,
        customer=customer,
        contact=contact,
        channel=channel,
        feedback_text=feedback_text,
        submitted_at=submitted_at,
        code=code,
        unassigned=unassigned,
    )
    feedback_items = list(feedback)
    _check_customer_contact(actor, customer, contact)
    now = timezone.now()
    evidence_customers = [f.customer for f in feedback_items if f.customer_id] if feedback_items else [customer]
    built = _build(actor, draft, now=now, evidence_customers=evidence_customers)
    requirement = built.requirement
    if code.strip():
        if Requirement.all_objects.filter(code=requirement.code).exists():
            raise _code_taken(requirement.code)
    else:
        requirement.code = new_requirement_code(timezone.localdate(requirement.submitted_at))
    requirement.search_text = _index_text(requirement)
    requirement.save()
    if built.tags:
        requirement.tags.add(*built.tags)  # a new row has no tags: nothing for set() to read or remove
    for item in feedback_items:
        if item.requirement_id not in (None, requirement.pk):
            raise ValidationError({"feedback": _("反馈“%(text)s”已属于其他需求。") % {"text": item.raw_text[:30]}})
    if feedback_items:
        Feedback.objects.filter(pk__in=[f.pk for f in feedback_items]).update(requirement=requirement)
    else:
        Feedback.objects.create(
            customer=customer,
            contact=contact,
            channel=channel,
            raw_text=_first_words(draft, requirement),
            received_at=requirement.submitted_at,
            requirement=requirement,
            created_by=requirement.created_by,
        )
    StatusChange.objects.create(
        requirement=requirement, source=None, target=requirement.status, actor=requirement.created_by
    )
    dedup_index_changed_on_commit()
    audit_record(
        actor=actor, obj=requirement, action=AuditEntry.Action.CREATE, changes=_created_changes(requirement, built.tags)
    )
    if built.breached:
        _record_breaches([requirement])
    return requirement


@transaction.atomic
def requirements_create_many(
    *, actor: User, drafts: Sequence[NewRequirement], check_only: bool = False
) -> list[Requirement | ValidationError]:
    """Create many requirements at once, each with its first feedback item, status history and audit row, as
    ``requirement_create`` would one by one (an import's new rows): a few queries per call, not per requirement.

    Returns, in the order of ``drafts``, the created requirement or why that one was refused (the others are
    still created; a code given twice is refused the second time). Codes not given are taken in one block per
    day from the same counters. ``check_only``: check them as this would, write nothing (the requirements given
    back have no code unless the draft gave one, no id and no index text).
    """
    if not can_create_requirement(actor):
        raise _deny()
    now = timezone.now()
    customer_ids = {d.customer.pk for d in drafts if d.customer is not None}
    visible = set(visible_customers(actor).filter(pk__in=customer_ids).values_list("pk", flat=True))
    given = {d.code.strip() for d in drafts if d.code.strip()}
    taken = set(Requirement.all_objects.filter(code__in=given).values_list("code", flat=True)) if given else set()
    out: list[Requirement | ValidationError] = []
    built: list[tuple[NewRequirement, _Built]] = []
    for draft in drafts:
        try:
            if draft.customer is not None and draft.customer.pk not in visible:
                raise ValidationError({"customer": _("客户不存在或您无权访问。")})
            if draft.contact is not None and (draft.customer is None or draft.contact.customer_id != draft.customer.pk):
                raise ValidationError({"contact": _("联系人不属于所选客户。")})
            one = _build(actor, draft, now=now, evidence_customers=[draft.customer])
            if draft.code.strip():
                if one.requirement.code in taken:
                    raise _code_taken(one.requirement.code)
                taken.add(one.requirement.code)
        except ValidationError as exc:
            out.append(exc)
            continue
        out.append(one.requirement)
        built.append((draft, one))
    if check_only:
        return out
    _number([b.requirement for d, b in built if not d.code.strip()])
    requirements = [b.requirement for _d, b in built]
    for requirement in requirements:
        requirement.search_text = _index_text(requirement)
    create_many(Requirement, requirements, batch_size=500)
    through = Requirement.tags.through
    create_many(
        through, [through(requirement_id=b.requirement.pk, classoption_id=t.pk) for _d, b in built for t in b.tags]
    )
    create_many(
        Feedback,
        [
            Feedback(
                customer=d.customer,
                contact=d.contact,
                channel=d.channel,
                raw_text=_first_words(d, b.requirement),
                received_at=b.requirement.submitted_at,
                requirement=b.requirement,
                created_by=b.requirement.created_by,
            )
            for d, b in built
        ],
        batch_size=500,
    )
    create_many(
        StatusChange,
        [StatusChange(requirement=r, source=None, target=r.status, actor=r.created_by) for r in requirements],
        batch_size=1000,
    )
    if requirements:
        dedup_index_changed_on_commit()
    tags_of = {id(b.requirement): b.tags for _d, b in built}
    audit_record_many(
        actor=actor,
        objs=requirements,
        action=AuditEntry.Action.CREATE,
        changes_for=lambda r: _created_changes(r, tags_of[id(r)]),
    )
    breached = [b.requirement for _d, b in built if b.breached]
    if breached:
        _record_breaches(breached)
    return out


def _number(requirements: Sequence[Requirement]) -> None:
    """Give requirements without a code one each: a block per day of submission, as ``new_requirement_code``."""
    by_day: dict[dt.date, list[Requirement]] = {}
    for requirement in requirements:
        by_day.setdefault(timezone.localdate(requirement.submitted_at), []).append(requirement)
    for day, group in by_day.items():
        for requirement, code in zip(group, new_requirement_codes(day, len(group)), strict=True):
            requirement.code = code


@retry_on_conflict()
@transaction.atomic
def requirement_update(
    *, actor: User, requirement: Requirement, expected_version: int | None = None, **data: Any
) -> Requirement:
    """Edit the fields given (only those); ``expected_version`` refuses the edit (``StaleVersion``) when the
    requirement changed since the caller read that version. Every edit bumps ``version``."""
    if not can_edit_requirement(actor, requirement):
        raise _deny()
    unknown = set(data) - set(AUDITED_FIELDS)
    if unknown:
        raise ValidationError({name: _("未知字段。") for name in sorted(unknown)})
    read = requirement
    requirement = _lock_requirement(requirement.pk)
    _refuse_merged(requirement)
    check_version(requirement.version, expected_version)
    old_owner = owner_of(requirement, prefetched=read) if "owner" in data else None
    priority_before = requirement.priority
    before = {
        **snapshot(requirement, EDITABLE_FIELDS),
        "tags": sorted(t.label for t in requirement.tags.all()),
    }
    tags = data.pop("tags", None)
    _check_options(data)
    if (
        "priority" in data
        and data["priority"] != requirement.priority
        and lifecycle.fact("priority_from_analysis", requirement, default=False)
    ):
        raise ValidationError({"priority": _("该需求已有分析得分：请在分析页调整优先级（需填写理由）。")})
    if "title" in data:
        data["title"] = (data["title"] or "").strip()
    urgency_before = requirement.urgency_id
    for name, value in data.items():
        setattr(requirement, name, value)
    requirement.full_clean(
        exclude=["status", "created_by", "owner", "type", "urgency", "nature", "source", "category"],
        validate_unique=False,
        validate_constraints=False,
    )
    # Only a new urgency sets a new deadline: re-sending the same one keeps the deadline given under the SLA
    # hours of its time (an admin's later change of those hours applies to what is classified from then on).
    newly_breached = requirement.urgency_id != urgency_before and sla_rules.apply_due(requirement, now=timezone.now())
    requirement.search_text = _index_text(requirement)
    requirement.version += 1  # the row is locked: no other write read this version
    requirement.save()
    after = snapshot(requirement, EDITABLE_FIELDS)
    if tags is not None:
        tag_list = _check_tags(tags)
        requirement.tags.set(tag_list)
        after["tags"] = sorted(t.label for t in tag_list)
    else:
        after["tags"] = before["tags"]
    changes = diff(before, after)
    refusals = lifecycle.edit_refusals(requirement, set(changes))
    if refusals:
        raise ValidationError(refusals)  # the transaction rolls the edit back
    if changes.keys() & CLASSIFYING_FIELDS:
        Requirement.objects.filter(pk=requirement.pk).update(rule_version=stamp_rule_version(requirement))
    if changes.keys() & {"title", "description", "background", "concrete_ask"}:
        dedup_index_changed_on_commit()
    if changes:
        audit_record(actor=actor, obj=requirement, action=AuditEntry.Action.UPDATE, changes=changes)
    if newly_breached:
        _record_breaches([requirement])
    if changes.keys() & {"owner", "priority"}:
        _tell_changes(actor, requirement, read, changes, old_owner, priority_before)
    return requirement


def _tell_changes(
    actor: User,
    requirement: Requirement,
    read: Requirement,
    changes: dict[str, Any],
    old_owner: User | None,
    priority_before: str,
) -> None:
    """A new owner and a new priority are told to who they concern (the watchers read once for both)."""
    watchers = watchers_of(requirement, prefetched=read)
    occurrence = str(requirement.version)
    owner = owner_of(requirement, prefetched=read)
    if "owner" in changes:
        tell_owner_changed(
            actor=actor,
            requirement=requirement,
            old_owner=old_owner,
            new_owner=owner,
            watchers=watchers,
            occurrence=occurrence,
        )
    if "priority" in changes:
        tell_priority_changed(
            actor=actor,
            requirement=requirement,
            before=priority_before,
            after=requirement.priority,
            occurrence=occurrence,
            owner=owner,
            watchers=watchers,
        )


gate_missing = lifecycle.standardisation_missing
