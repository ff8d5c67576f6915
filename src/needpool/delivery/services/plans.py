"""Plans 落地计划 and their milestones."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from needpool.accounts.models import Team, User
from needpool.core.audit import audit_record, diff, snapshot
from needpool.core.concurrency import check_version
from needpool.core.models import AuditEntry
from needpool.delivery.choices import Comparator, Strategy
from needpool.delivery.models import Milestone, Plan
from needpool.delivery.permissions import can_plan, deny
from needpool.delivery.services.common import (
    check_date,
    check_decimal,
    clean_text,
    one_line,
    plannable,
    refuse_unknown,
)
from needpool.requirements.models import Requirement

PLAN_FIELDS = (
    "title",
    "strategy",
    "solution",
    "team",
    "owner",
    "start_date",
    "end_date",
    "budget",
    "people",
    "tools",
    "metric_name",
    "comparator",
    "target_value",
    "unit",
)
MAX_MILESTONES = 50


def _clean(fields: dict[str, Any], current: Plan | None = None) -> dict[str, Any]:
    errors: dict[str, str] = {}

    def value(name: str) -> Any:
        return fields[name] if name in fields else (getattr(current, name) if current else None)

    if "title" in fields or current is None:
        title = one_line(fields.get("title"))
        if not title:
            errors["title"] = _("请填写计划名称。")
        elif len(title) > 200:
            errors["title"] = _("计划名称最多 200 个字符。")
        fields["title"] = title
    if ("strategy" in fields or current is None) and fields.get("strategy") not in Strategy.values:
        errors["strategy"] = _("请选择满足策略。")
    if "comparator" in fields and fields["comparator"] not in Comparator.values:
        errors["comparator"] = _("无效的比较方式。")
    start = check_date(errors, "start_date", value("start_date"), _("开始日期"))
    end = check_date(errors, "end_date", value("end_date"), _("完成日期"))
    if start and end and end < start:
        errors["end_date"] = _("完成日期不能早于开始日期。")
    for name in ("budget", "target_value"):
        if name in fields:
            fields[name] = check_decimal(errors, name, fields[name], negative=name != "budget")
    for name, limit in (("people", 300), ("tools", 300), ("metric_name", 60), ("unit", 20)):
        if name in fields:
            text = one_line(fields[name])
            if len(text) > limit:
                errors[name] = _("最多 %(n)s 个字符。") % {"n": limit}
            fields[name] = text
    if "solution" in fields:
        fields["solution"] = clean_text(fields["solution"], limit=0)
    owner = fields.get("owner")
    if owner is not None and (not isinstance(owner, User) or not owner.is_active):
        errors["owner"] = _("请选择在职的负责人。")
    if "team" in fields and fields["team"] is not None and not isinstance(fields["team"], Team):
        errors["team"] = _("请选择负责部门。")
    metric, target = value("metric_name"), value("target_value") if "target_value" not in errors else None
    if metric and target is None and "target_value" not in errors:
        errors["target_value"] = _("填写验收指标时请同时填写目标值。")
    if target is not None and not metric:
        errors["metric_name"] = _("填写目标值时请同时填写验收指标名称。")
    if errors:
        raise ValidationError(errors)
    return fields


def _clean_milestones(milestones: Sequence[Any]) -> list[dict[str, Any]]:
    cleaned: list[dict[str, Any]] = []
    errors: dict[str, str] = {}
    if len(milestones) > MAX_MILESTONES:
        raise ValidationError({"milestones": _("里程碑最多 %(n)s 个。") % {"n": MAX_MILESTONES}})
    for raw in milestones:
        item = dict(raw)
        title = one_line(item.get("title"))
        if not title:
            errors["milestones"] = _("每个里程碑都要填写名称。")
            continue
        if len(title) > 200:
            errors["milestones"] = _("里程碑名称最多 200 个字符。")
            continue
        day = check_date(errors, "milestones", item.get("date"), _("里程碑日期"))
        if day is None:
            continue
        cleaned.append({"title": title, "date": day, "done": bool(item.get("done", False))})
    if errors:
        raise ValidationError(errors)
    return cleaned


def _set_milestones(plan: Plan, milestones: list[dict[str, Any]]) -> None:
    plan.milestones.all().delete()
    Milestone.objects.bulk_create(Milestone(plan=plan, **m) for m in milestones)


def _milestone_text(plan: Plan) -> str:
    return "；".join(
        f"{m.title} {m.date.isoformat()}{' ✓' if m.done else ''}" for m in plan.milestones.order_by("date", "id")
    )


@transaction.atomic
def plan_create(
    *,
    actor: User,
    requirements: Sequence[Requirement] = (),
    milestones: Sequence[Any] = (),
    **fields: Any,
) -> Plan:
    """A plan for one or more requirements (each audited on the requirement, so it shows in its history)."""
    if not can_plan(actor):
        raise deny(_("您没有制定计划的权限。"))
    refuse_unknown(fields, PLAN_FIELDS)
    fields = _clean(dict(fields))
    chosen = plannable(requirements)
    cleaned = _clean_milestones(milestones)
    plan = Plan.objects.create(created_by=actor, **fields)
    plan.requirements.set(chosen)
    _set_milestones(plan, cleaned)
    audit_record(actor=actor, obj=plan, action=AuditEntry.Action.CREATE)
    for requirement in chosen:
        audit_record(actor=actor, obj=requirement, action=AuditEntry.Action.LINK, changes={"plan": ("", plan.title)})
    return plan


@transaction.atomic
def plan_update(
    *,
    actor: User,
    plan: Plan,
    expected_version: int | None = None,
    requirements: Sequence[Requirement] | None = None,
    milestones: Sequence[Any] | None = None,
    **fields: Any,
) -> Plan:
    if not can_plan(actor):
        raise deny(_("您没有制定计划的权限。"))
    refuse_unknown(fields, PLAN_FIELDS)
    plan = Plan.objects.select_for_update().get(pk=plan.pk)
    check_version(plan.version, expected_version)
    fields = _clean(dict(fields), plan)
    chosen = plannable(requirements) if requirements is not None else None
    cleaned = _clean_milestones(milestones) if milestones is not None else None
    before = snapshot(plan, fields)
    for name, value in fields.items():
        setattr(plan, name, value)
    changes = diff(before, snapshot(plan, fields))
    if chosen is not None:
        old = set(plan.requirements.values_list("pk", flat=True))
        new = {r.pk for r in chosen}
        if old != new:
            plan.requirements.set(chosen)
            for requirement in Requirement.objects.filter(pk__in=old ^ new):
                linked = requirement.pk in new
                audit_record(
                    actor=actor,
                    obj=requirement,
                    action=AuditEntry.Action.LINK,
                    changes={"plan": ("", plan.title) if linked else (plan.title, "")},
                )
            changes["requirements"] = (len(old), len(new))
    if cleaned is not None:
        before_ms = _milestone_text(plan)
        _set_milestones(plan, cleaned)
        after_ms = _milestone_text(plan)
        if before_ms != after_ms:
            changes["milestones"] = (before_ms, after_ms)
    if not changes:
        return plan
    plan.version += 1
    plan.save()
    audit_record(actor=actor, obj=plan, action=AuditEntry.Action.UPDATE, changes=changes)
    return plan


@transaction.atomic
def milestone_set_done(*, actor: User, milestone: Milestone, done: bool) -> Milestone:
    if not can_plan(actor):
        raise deny(_("您没有制定计划的权限。"))
    milestone = Milestone.objects.select_for_update().select_related("plan").get(pk=milestone.pk)
    if milestone.done == done:
        return milestone
    milestone.done = done
    milestone.save(update_fields=["done"])
    audit_record(
        actor=actor,
        obj=milestone.plan,
        action=AuditEntry.Action.UPDATE,
        changes={"milestone": ("", f"{milestone.title} {'✓' if done else '✗'}")},
    )
    return milestone
