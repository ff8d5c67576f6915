"""Write use-cases for feedback and requirements: create, edit, classify, transition, comment, attach.

Each function is atomic, checks permission and input, writes its audit row in the same
transaction, and queues side effects after commit.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Case, IntegerField, Max, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from needpool.accounts.models import User
from needpool.core.audit import audit_record, audit_record_many, diff, snapshot
from needpool.core.bulk import bulk_set
from needpool.core.codes import next_code, validate_pattern
from needpool.core.config import site_config
from needpool.core.models import AuditEntry, Notification
from needpool.core.text import human_join, segment_for_index
from needpool.customers.choices import InteractionChannel, ValueTier
from needpool.customers.models import Contact, Customer, Interaction
from needpool.customers.permissions import can_view_customer, can_write_customer
from needpool.requirements import lifecycle
from needpool.requirements import sla as sla_rules
from needpool.requirements import workflow as flow_rules
from needpool.requirements.choices import Channel, Dimension, Priority
from needpool.requirements.dedup import index_changed_on_commit as dedup_index_changed_on_commit
from needpool.requirements.models import (
    NOTE_MAX_LENGTH,
    Attachment,
    ClassOption,
    Comment,
    Feedback,
    Requirement,
    StatusChange,
    Workflow,
    WorkflowStatus,
    WorkflowTransition,
)
from needpool.requirements.permissions import (
    can_comment,
    can_create_requirement,
    can_edit_requirement,
    can_prioritise,
    can_transition_requirement,
    can_write_feedback,
)

EDITABLE_FIELDS = (
    "title",
    "description",
    "background",
    "concrete_ask",
    "expected_date",
    "type",
    "urgency",
    "nature",
    "source",
    "category",
    "owner",
    "priority",
)
AUDITED_FIELDS = (*EDITABLE_FIELDS, "tags")
_OPTION_FIELDS = {
    "type": Dimension.TYPE,
    "urgency": Dimension.URGENCY,
    "nature": Dimension.NATURE,
    "source": Dimension.SOURCE,
    "category": Dimension.CATEGORY,
}
GATE_LABELS = lifecycle.GATE_LABELS
_MENTION = re.compile(r"@([\w.@+-]+)")
INTERACTION_TO_FEEDBACK_CHANNEL: dict[str, str] = {
    InteractionChannel.EVENT: Channel.INDUSTRY_EVENT,
}


# ---------------------------------------------------------------- helpers


def _deny(message: str | None = None) -> PermissionDenied:
    return PermissionDenied(message or _("您没有执行此操作的权限。"))


def _refuse_merged(requirement: Requirement) -> None:
    """A merged requirement is a record of what was merged: changes go to the requirement it was merged into."""
    if requirement.merged_into_id:
        message = _("需求 %(code)s 已合并到其他需求，请在合并后的需求上操作。")
        raise ValidationError(message % {"code": requirement.code})


def active_workflow() -> Workflow:
    workflow = (
        Workflow.objects.filter(is_active=True).first()
        or Workflow.objects.filter(key=flow_rules.DEFAULT_ACTIVE_FLOW).first()
        or Workflow.objects.first()
    )
    if workflow is None:
        raise ValidationError(_("尚未配置状态流程，请联系管理员。"))
    return workflow


def initial_status(workflow: Workflow) -> WorkflowStatus:
    status = workflow.statuses.filter(is_initial=True).first()
    if status is None:
        raise ValidationError(_("状态流程“%(name)s”没有初始状态。") % {"name": workflow.name})
    return status


def _check_options(data: dict[str, Any]) -> None:
    errors: dict[str, str] = {}
    for field, dimension in _OPTION_FIELDS.items():
        option = data.get(field)
        if option is not None and (not isinstance(option, ClassOption) or option.dimension != dimension):
            errors[field] = _("所选选项不属于“%(dimension)s”。") % {"dimension": Dimension(dimension).label}
    if errors:
        raise ValidationError(errors)


def _check_tags(tags: Iterable[ClassOption]) -> list[ClassOption]:
    tags = list(tags)
    if any(tag.dimension != Dimension.TAG for tag in tags):
        raise ValidationError({"tags": _("标签必须来自标签列表。")})
    return tags


sla_due = sla_rules.due


def _index_text(requirement: Requirement) -> str:
    # A survivor of a merge is also found by the codes and titles of the requirements merged into it.
    merged = requirement.merged_from.values_list("code", "title") if requirement.pk else []
    return segment_for_index(
        requirement.code,
        requirement.title,
        requirement.description,
        requirement.background,
        requirement.concrete_ask,
        *(f"{code} {title}" for code, title in merged),
    )


def new_requirement_code(day: dt.date) -> str:
    pattern = site_config().requirement_code_pattern
    return next_code(pattern, day, namespace="requirement", taken=lambda c: Requirement.objects.filter(code=c).exists())


_TIER_RANK = {ValueTier.HIGH: 3, ValueTier.MEDIUM: 2, ValueTier.LOW: 1}


def requirements_refresh_customer_value(
    *, requirement_ids: Sequence[int] | None = None, customer_ids: Sequence[int] | None = None
) -> int:
    """Set each requirement's customer value to the highest tier among its feedback's customers."""
    qs = Requirement.objects.all()
    if requirement_ids is not None:
        qs = qs.filter(pk__in=requirement_ids)
    if customer_ids is not None:
        qs = qs.filter(feedback_items__customer_id__in=customer_ids).distinct()
    best = qs.annotate(
        rank=Max(
            Case(
                *[When(feedback_items__customer__value_tier=t, then=Value(r)) for t, r in _TIER_RANK.items()],
                default=Value(0),
                output_field=IntegerField(),
            )
        )
    ).values_list("pk", "rank")
    by_rank = {rank: tier for tier, rank in _TIER_RANK.items()}
    groups: dict[str, list[int]] = {}
    for pk, rank in best:
        groups.setdefault(by_rank.get(rank or 0, ""), []).append(pk)
    return sum(Requirement.objects.filter(pk__in=pks).update(customer_value=tier) for tier, pks in groups.items())


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


# ---------------------------------------------------------------- requirements


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
) -> Requirement:
    """Create a requirement with its evidence: the given feedback items, or the customer's words as new."""
    if not can_create_requirement(actor):
        raise _deny()
    fields = {
        "title": (title or "").strip(),
        "description": description or "",
        "background": background or "",
        "concrete_ask": concrete_ask or "",
        "expected_date": expected_date,
        "type": type,
        "urgency": urgency,
        "nature": nature,
        "source": source,
        "category": category,
        "owner": owner,
        "priority": priority or "",
    }
    _check_options(fields)
    tag_list = _check_tags(tags)
    feedback_items = list(feedback)
    _check_customer_contact(actor, customer, contact)
    now = timezone.now()
    submitted = submitted_at or now
    requirement = Requirement(
        **fields,
        code=code.strip() or "pending",
        status=initial_status(active_workflow()),
        created_by=actor if getattr(actor, "pk", None) else None,
        submitted_at=submitted,
    )
    if requirement.owner is None and getattr(actor, "pk", None):
        requirement.owner = actor
    breached_on_entry = sla_rules.apply_due(requirement, now=now)
    requirement.full_clean(
        exclude=["status", "created_by", "owner", "type", "urgency", "nature", "source", "category"],
        validate_unique=False,
        validate_constraints=False,
    )
    if code.strip():
        if Requirement.objects.filter(code=requirement.code).exists():
            raise ValidationError({"code": _("需求编号 %(code)s 已存在。") % {"code": requirement.code}})
    else:
        requirement.code = new_requirement_code(timezone.localdate(submitted))
    requirement.search_text = _index_text(requirement)
    # The new requirement's customers are known here: its value is the best tier among them (no refresh query).
    evidence_customers = [f.customer for f in feedback_items if f.customer_id] if feedback_items else [customer]
    tiers = [c.value_tier for c in evidence_customers if c is not None and c.value_tier]
    ranks = [_TIER_RANK.get(ValueTier(tier), 0) for tier in tiers]
    requirement.customer_value = {r: t for t, r in _TIER_RANK.items()}.get(max(ranks, default=0), "")
    requirement.save()
    if tag_list:
        requirement.tags.set(tag_list)
    for item in feedback_items:
        if item.requirement_id not in (None, requirement.pk):
            raise ValidationError({"feedback": _("反馈“%(text)s”已属于其他需求。") % {"text": item.raw_text[:30]}})
    if feedback_items:
        Feedback.objects.filter(pk__in=[f.pk for f in feedback_items]).update(requirement=requirement)
    else:
        words = (feedback_text or description or concrete_ask or requirement.title).strip()
        Feedback.objects.create(
            customer=customer,
            contact=contact,
            channel=channel,
            raw_text=words,
            received_at=submitted,
            requirement=requirement,
            created_by=requirement.created_by,
        )
    StatusChange.objects.create(
        requirement=requirement, source=None, target=requirement.status, actor=requirement.created_by
    )
    dedup_index_changed_on_commit()
    audit_record(
        actor=actor,
        obj=requirement,
        action=AuditEntry.Action.CREATE,
        changes={**snapshot(requirement, ("code", *EDITABLE_FIELDS)), "tags": [t.label for t in tag_list]},
    )
    if breached_on_entry:
        _record_breaches([requirement])
    return requirement


@transaction.atomic
def requirement_update(*, actor: User, requirement: Requirement, **data: Any) -> Requirement:
    if not can_edit_requirement(actor, requirement):
        raise _deny()
    unknown = set(data) - set(AUDITED_FIELDS)
    if unknown:
        raise ValidationError({name: _("未知字段。") for name in sorted(unknown)})
    requirement = Requirement.objects.select_for_update().get(pk=requirement.pk)
    _refuse_merged(requirement)
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
    for name, value in data.items():
        setattr(requirement, name, value)
    requirement.full_clean(
        exclude=["status", "created_by", "owner", "type", "urgency", "nature", "source", "category"],
        validate_unique=False,
        validate_constraints=False,
    )
    newly_breached = "urgency" in data and sla_rules.apply_due(requirement, now=timezone.now())
    requirement.search_text = _index_text(requirement)
    requirement.save()
    after = snapshot(requirement, EDITABLE_FIELDS)
    if tags is not None:
        tag_list = _check_tags(tags)
        requirement.tags.set(tag_list)
        after["tags"] = sorted(t.label for t in tag_list)
    else:
        after["tags"] = before["tags"]
    changes = diff(before, after)
    if changes.keys() & {"title", "description", "background", "concrete_ask"}:
        dedup_index_changed_on_commit()
    if changes:
        audit_record(actor=actor, obj=requirement, action=AuditEntry.Action.UPDATE, changes=changes)
    if newly_breached:
        _record_breaches([requirement])
    return requirement


gate_missing = lifecycle.standardisation_missing


def allowed_targets(requirement: Requirement) -> list[WorkflowStatus]:
    return [
        t.target
        for t in WorkflowTransition.objects.filter(source_id=requirement.status_id)
        .select_related("target")
        .order_by("target__order")
    ]


def _mark_responded(requirement: Requirement, at: dt.datetime) -> list[str]:
    fields, newly_breached = sla_rules.mark_responded(requirement, at)
    if newly_breached:
        _record_breaches([requirement])
    return fields


def check_note(note: str) -> str:
    """A transition note (the reason of a rejection, a deferral …): at most NOTE_MAX_LENGTH characters."""
    note = (note or "").strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise ValidationError({"note": _("备注不能超过 %(n)s 个字符。") % {"n": NOTE_MAX_LENGTH}})
    return note


@transaction.atomic
def requirement_transition(*, actor: User, requirement: Requirement, to: str, note: str = "") -> Requirement:
    """Move a requirement to status ``to`` (a key of its flow) if the flow allows it; record the move."""
    if not can_transition_requirement(actor, requirement):
        raise _deny(_("您没有流转该需求状态的权限。"))
    note = check_note(note)
    # Lock the requirement row alone, then read its status: a join in the locking query would drop the row
    # when a concurrent move changed its status (PostgreSQL re-checks the join against the old status).
    requirement = Requirement.objects.select_for_update().get(pk=requirement.pk)
    _refuse_merged(requirement)
    source = WorkflowStatus.objects.get(pk=requirement.status_id)
    requirement.status = source
    target = WorkflowStatus.objects.filter(workflow_id=source.workflow_id, key=to).first()
    if target is None:
        raise ValidationError({"to": _("状态“%(to)s”不在当前流程中。") % {"to": to}})
    if target.pk == source.pk:
        raise ValidationError({"to": _("需求已处于“%(status)s”状态。") % {"status": source}})
    if not WorkflowTransition.objects.filter(source=source, target=target).exists():
        allowed = human_join([str(s) for s in allowed_targets(requirement)]) or _("无")
        raise ValidationError(
            {
                "to": _("不允许从“%(source)s”流转到“%(target)s”。可流转到：%(allowed)s。")
                % {"source": source, "target": target, "allowed": allowed}
            }
        )
    refusals = lifecycle.refusals(requirement, source, target, note)
    if refusals:
        raise ValidationError({"to": refusals})
    now = timezone.now()
    requirement.status = target
    update = ["status", "updated_at", *_mark_responded(requirement, now)]
    requirement.save(update_fields=update)
    StatusChange.objects.create(requirement=requirement, source=source, target=target, actor=actor, note=note)
    audit_record(
        actor=actor,
        obj=requirement,
        action=AuditEntry.Action.TRANSITION,
        changes={"status": (str(source), str(target)), **({"note": note} if note else {})},
    )
    return requirement


def _mentioned_users(body: str) -> list[User]:
    names = {m.rstrip(".,，。") for m in _MENTION.findall(body)}
    if not names:
        return []
    return list(User.objects.filter(username__in=names, is_active=True))


@transaction.atomic
def comment_create(*, actor: User, requirement: Requirement, body: str) -> Comment:
    if not can_comment(actor, requirement):
        raise _deny()
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": _("评论内容不能为空。")})
    if len(body) > 5000:
        raise ValidationError({"body": _("评论不能超过 5000 个字符。")})
    comment = Comment.objects.create(requirement=requirement, author=actor, body=body)
    mentioned = [u for u in _mentioned_users(body) if u.pk != actor.pk]
    if mentioned:
        comment.mentions.set(mentioned)
        Notification.objects.bulk_create(
            Notification(
                recipient=user,
                kind=Notification.Kind.MENTION,
                actor=actor,
                text=_("%(actor)s 在需求 %(code)s 中提到了您") % {"actor": actor, "code": requirement.code},
                url=f"/requirements/{requirement.pk}/#comment-{comment.pk}",
            )
            for user in mentioned
        )
    if actor.pk != requirement.created_by_id:
        fields = _mark_responded(requirement, timezone.now())
        if fields:
            requirement.save(update_fields=fields)
    audit_record(actor=actor, obj=requirement, action=AuditEntry.Action.COMMENT, changes={"comment": body[:200]})
    return comment


@transaction.atomic
def attachment_add(*, actor: User, requirement: Requirement, upload: UploadedFile[Any]) -> Attachment:
    if not can_comment(actor, requirement):
        raise _deny()
    name = PurePath(upload.name or "").name
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    allowed = settings.NEEDPOOL_ATTACHMENT_EXTENSIONS
    if not name or ext not in allowed:
        raise ValidationError(
            {
                "file": _("不支持的文件类型“%(ext)s”。允许：%(allowed)s。")
                % {"ext": ext or "?", "allowed": ", ".join(allowed)}
            }
        )
    limit = settings.NEEDPOOL_ATTACHMENT_MAX_BYTES
    if (upload.size or 0) > limit:
        raise ValidationError({"file": _("文件过大：最大 %(mb)s MB。") % {"mb": round(limit / 1024 / 1024, 1)}})
    if not upload.size:
        raise ValidationError({"file": _("文件为空。")})
    attachment = Attachment(
        requirement=requirement,
        name=name[:200],
        size=upload.size,
        content_type=(upload.content_type or "")[:100],
        uploaded_by=actor,
    )
    attachment.file.save(name, upload, save=False)
    attachment.save()
    audit_record(actor=actor, obj=requirement, action=AuditEntry.Action.ATTACH, changes={"file": name})
    return attachment


# ---------------------------------------------------------------- SLA


def _record_breaches(requirements: Sequence[Requirement]) -> None:
    """Every breach leaves an audit row, and the owner gets an in-app notice (rows of the same transaction)."""
    audit_record_many(
        actor=None,
        objs=requirements,
        action=AuditEntry.Action.SLA_BREACH,
        changes={"sla_breached": (False, True)},
    )
    notices = [
        Notification(
            recipient_id=r.owner_id,
            kind=Notification.Kind.SLA,
            text=_("需求 %(code)s 已超过首次响应时限") % {"code": r.code},
            url=f"/requirements/{r.pk}/",
        )
        for r in requirements
        if r.owner_id
    ]
    Notification.objects.bulk_create(notices)


def sla_mark_breaches(*, now: dt.datetime | None = None) -> int:
    """Flag requirements whose first-response deadline passed unanswered, and tell their owners."""
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            Requirement.objects.filter(sla_rules.due_unflagged_q(now), merged_into__isnull=True)
            .select_for_update(of=("self",), skip_locked=True)
            .only("pk", "code", "title", "owner_id")
            .order_by("pk")[:5000]
        )
        if not due:
            return 0
        Requirement.objects.filter(pk__in=[r.pk for r in due]).update(sla_breached=True)
        _record_breaches(due)
    return len(due)


# ---------------------------------------------------------------- priority


@transaction.atomic
def requirements_priority_set(*, actor: User | None, priorities: Sequence[tuple[int, str]], reason: str = "") -> int:
    """Set requirements' priority (P0–P3 or blank) as an analysis decided it; one audit row per change.

    The analysis desk calls it for a single score edit, a manual override and the bulk recompute; ``actor``
    None is the system (a recompute job). Returns how many requirements changed.
    """
    if actor is not None and not can_prioritise(actor):
        raise _deny(_("只有产品经理及以上角色可以调整优先级。"))
    wanted = dict(priorities)
    bad = sorted({p for p in wanted.values() if p and p not in Priority.values})
    if bad:
        raise ValidationError({"priority": _("优先级必须是 P0、P1、P2 或 P3。")})
    if not wanted:
        return 0
    current = list(
        Requirement.objects.filter(pk__in=list(wanted)).only("pk", "code", "title", "priority").order_by("pk")
    )
    changed = [r for r in current if r.priority != wanted[r.pk]]
    if not changed:
        return 0
    bulk_set(Requirement, ("priority",), [(r.pk, wanted[r.pk]) for r in changed])
    extra = {"reason": reason} if reason else {}
    audit_record_many(
        actor=actor,
        objs=changed,
        action=AuditEntry.Action.UPDATE,
        changes_for=lambda r: {"priority": (r.priority, wanted[r.pk]), **extra},
    )
    return len(changed)


# ---------------------------------------------------------------- configuration


@transaction.atomic
def workflow_activate(*, actor: User, workflow: Workflow) -> Workflow:
    """Make ``workflow`` the one new requirements enter; requirements already in the pool keep their statuses."""
    from needpool.accounts.roles import Cap
    from needpool.core.permissions import require

    require(actor, Cap.CONFIGURE)
    initial_status(workflow)
    flows = list(Workflow.objects.select_for_update().order_by("pk"))
    before = next((str(w) for w in flows if w.is_active), "")
    Workflow.objects.filter(is_active=True).exclude(pk=workflow.pk).update(is_active=False)
    Workflow.objects.filter(pk=workflow.pk).update(is_active=True)
    workflow.is_active = True
    audit_record(
        actor=actor,
        obj=workflow,
        action=AuditEntry.Action.UPDATE,
        changes={"active_workflow": (before, str(workflow))},
    )
    return workflow


@transaction.atomic
def code_pattern_set(*, actor: User, pattern: str) -> str:
    from needpool.accounts.roles import Cap
    from needpool.core.permissions import require

    require(actor, Cap.CONFIGURE)
    try:
        validate_pattern(pattern)
    except ValueError as exc:
        raise ValidationError({"requirement_code_pattern": str(exc)}) from exc
    config = site_config()
    before = config.requirement_code_pattern
    config.requirement_code_pattern = pattern
    config.save(update_fields=["requirement_code_pattern"])
    audit_record(
        actor=actor,
        obj=config,
        action=AuditEntry.Action.UPDATE,
        changes={"requirement_code_pattern": (before, pattern)},
    )
    return pattern
