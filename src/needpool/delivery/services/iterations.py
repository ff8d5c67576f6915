"""Iterations / releases and the requirements planned into them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from needpool.accounts.models import User
from needpool.core.audit import audit_record, diff, snapshot
from needpool.core.concurrency import check_version
from needpool.core.models import AuditEntry
from needpool.delivery.models import Iteration, IterationItem
from needpool.delivery.permissions import can_plan, deny
from needpool.requirements.models import Requirement

ITERATION_FIELDS = ("name", "goal", "start_date", "end_date", "status", "is_public", "public_summary")


def _clean(fields: dict[str, Any], current: Iteration | None = None) -> dict[str, Any]:
    errors: dict[str, str] = {}
    name = " ".join(str(fields.get("name", current.name if current else "") or "").split())
    if "name" in fields or current is None:
        if not name:
            errors["name"] = _("请填写迭代名称。")
        elif len(name) > 100:
            errors["name"] = _("迭代名称最多 100 个字符。")
        fields["name"] = name
    start = fields.get("start_date", current.start_date if current else None)
    end = fields.get("end_date", current.end_date if current else None)
    if not isinstance(start, dt.date):
        errors["start_date"] = _("请填写开始日期。")
    if not isinstance(end, dt.date):
        errors["end_date"] = _("请填写结束日期。")
    if isinstance(start, dt.date) and isinstance(end, dt.date) and end < start:
        errors["end_date"] = _("结束日期不能早于开始日期。")
    if "status" in fields and fields["status"] not in Iteration.Status.values:
        errors["status"] = _("无效的迭代状态。")
    if errors:
        raise ValidationError(errors)
    return fields


@transaction.atomic
def iteration_create(*, actor: User, **fields: Any) -> Iteration:
    if not can_plan(actor):
        raise deny(_("您没有管理迭代的权限。"))
    unknown = set(fields) - set(ITERATION_FIELDS)
    if unknown:
        raise ValidationError({name: _("不能设置此字段。") for name in sorted(unknown)})
    iteration = Iteration.objects.create(created_by=actor, **_clean(dict(fields)))
    audit_record(actor=actor, obj=iteration, action=AuditEntry.Action.CREATE)
    return iteration


@transaction.atomic
def iteration_update(
    *, actor: User, iteration: Iteration, expected_version: int | None = None, **fields: Any
) -> Iteration:
    if not can_plan(actor):
        raise deny(_("您没有管理迭代的权限。"))
    unknown = set(fields) - set(ITERATION_FIELDS)
    if unknown:
        raise ValidationError({name: _("不能设置此字段。") for name in sorted(unknown)})
    iteration = Iteration.objects.select_for_update().get(pk=iteration.pk)
    check_version(iteration.version, expected_version)
    fields = _clean(dict(fields), iteration)
    before = snapshot(iteration, fields)
    for name, value in fields.items():
        setattr(iteration, name, value)
    changes = diff(before, snapshot(iteration, fields))
    if not changes:
        return iteration
    iteration.version += 1
    iteration.save()
    audit_record(actor=actor, obj=iteration, action=AuditEntry.Action.UPDATE, changes=changes)
    return iteration


@transaction.atomic
def iteration_plan_requirements(
    *, actor: User, iteration: Iteration, requirements: Sequence[Requirement]
) -> list[IterationItem]:
    """Plan ``requirements`` into ``iteration`` (moving each from the iteration it was in, if any).

    Called by the planning pages and by a review's 通过 decision. Done iterations take nothing new.
    """
    if not can_plan(actor):
        raise deny(_("您没有管理迭代的权限。"))
    iteration = Iteration.objects.select_for_update().get(pk=iteration.pk)
    if iteration.status == Iteration.Status.DONE:
        raise ValidationError({"iteration": _("迭代“%(name)s”已完成，不能再加入需求。") % {"name": iteration.name}})
    position = (iteration.items.aggregate(m=Max("position"))["m"] or 0) + 1
    planned: list[IterationItem] = []
    for requirement in requirements:
        if requirement.merged_into_id:
            raise ValidationError(
                {"requirement": _("需求 %(code)s 已合并，不能加入迭代。") % {"code": requirement.code}}
            )
        item = IterationItem.objects.select_for_update().filter(requirement=requirement).first()
        if item is not None and item.iteration_id == iteration.pk:
            planned.append(item)
            continue
        previous = str(item.iteration) if item else ""
        if item is None:
            item = IterationItem(requirement=requirement)
        item.iteration, item.position, item.added_by = iteration, position, actor
        try:
            with transaction.atomic():
                item.save()
        except IntegrityError as exc:  # another planner put it into an iteration at the same moment
            raise ValidationError(
                {"requirement": _("需求 %(code)s 刚被他人加入了其他迭代，请刷新后再试。") % {"code": requirement.code}}
            ) from exc
        position += 1
        audit_record(
            actor=actor,
            obj=requirement,
            action=AuditEntry.Action.UPDATE,
            changes={"iteration": (previous, str(iteration))},
        )
        planned.append(item)
    return planned


@transaction.atomic
def iteration_unplan_requirement(*, actor: User, requirement: Requirement) -> bool:
    if not can_plan(actor):
        raise deny(_("您没有管理迭代的权限。"))
    item = IterationItem.objects.select_for_update().filter(requirement=requirement).select_related("iteration").first()
    if item is None:
        return False
    name = str(item.iteration)
    item.delete()
    audit_record(actor=actor, obj=requirement, action=AuditEntry.Action.UPDATE, changes={"iteration": (name, "")})
    return True
