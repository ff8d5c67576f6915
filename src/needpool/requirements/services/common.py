"""Shared pieces of the requirement services: editable fields, option checks, the active flow, codes, value."""

from __future__ import annotations

import copy
import datetime as dt
import re
from collections.abc import Iterable, Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, F, IntegerField, Max, Value, When
from django.utils.translation import gettext as _

from needpool.core.codes import codes_block, next_code
from needpool.core.config import site_config
from needpool.core.text import segment_for_index
from needpool.core.txcache import forget_on_change, transaction_cached
from needpool.customers.choices import InteractionChannel, ValueTier
from needpool.requirements import lifecycle
from needpool.requirements import sla as sla_rules
from needpool.requirements import workflow as flow_rules
from needpool.requirements.choices import Channel, Dimension
from needpool.requirements.models import (
    ClassOption,
    Requirement,
    Workflow,
    WorkflowStatus,
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


def _lock_requirement(pk: int) -> Requirement:
    """Lock the requirement's row; one deleted meanwhile (回收站) is refused with a message, not a crash."""
    requirement = Requirement.objects.select_for_update().filter(pk=pk).first()
    if requirement is None:
        raise ValidationError(_("该需求已被删除。"))
    return requirement


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


INITIAL_STATUS_KEY = "requirements.initial_status"
forget_on_change(Workflow, INITIAL_STATUS_KEY)
forget_on_change(WorkflowStatus, INITIAL_STATUS_KEY)


def entry_status() -> WorkflowStatus:
    """The initial status of the active flow, where a new requirement enters.

    Read once per transaction (``core.txcache``): an import creating thousands of requirements reads the flow once.
    Each caller gets its own copy of the row.
    """
    return copy.copy(transaction_cached(INITIAL_STATUS_KEY, lambda: initial_status(active_workflow())))


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
    return next_code(
        pattern, day, namespace="requirement", taken=lambda c: Requirement.all_objects.filter(code=c).exists()
    )


def new_requirement_codes(day: dt.date, count: int) -> list[str]:
    """``count`` codes of ``day`` at once (one block of the day's counter), as ``new_requirement_code`` gives one."""
    return codes_block(
        pattern=site_config().requirement_code_pattern,
        day=day,
        namespace="requirement",
        count=count,
        taken=lambda c: set(Requirement.all_objects.filter(code__in=c).values_list("code", flat=True)),
    )


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
    return sum(
        Requirement.objects.filter(pk__in=pks)
        .exclude(customer_value=tier)
        .update(customer_value=tier, version=F("version") + 1)
        for tier, pks in groups.items()
    )
