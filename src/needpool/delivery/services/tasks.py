"""Tasks 任务 of a plan, their dependencies and status, and the daily overdue reminders."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from needpool.accounts.models import User
from needpool.core.audit import audit_record, diff, snapshot
from needpool.core.concurrency import check_version
from needpool.core.models import AuditEntry
from needpool.delivery import rules
from needpool.delivery.choices import TaskStatus
from needpool.delivery.models import OverdueReminder, Plan, Task
from needpool.delivery.permissions import can_move_task, can_plan, deny
from needpool.delivery.services.common import check_date, one_line, refuse_unknown
from needpool.notify.kinds import EventKind
from needpool.notify.services import emit
from needpool.requirements.choices import StatusCategory

log = logging.getLogger("needpool.delivery")

TASK_FIELDS = ("title", "owner", "start_date", "due_date", "deliverable", "status")
MAX_DEPENDENCIES = 50


def _clean(fields: dict[str, Any], current: Task | None = None) -> dict[str, Any]:
    errors: dict[str, str] = {}

    def value(name: str) -> Any:
        return fields[name] if name in fields else (getattr(current, name) if current else None)

    if "title" in fields or current is None:
        title = one_line(fields.get("title"))
        if not title:
            errors["title"] = _("请填写任务名称。")
        elif len(title) > 200:
            errors["title"] = _("任务名称最多 200 个字符。")
        fields["title"] = title
    if "deliverable" in fields:
        text = one_line(fields["deliverable"])
        if len(text) > 300:
            errors["deliverable"] = _("交付物最多 300 个字符。")
        fields["deliverable"] = text
    if "status" in fields and fields["status"] not in TaskStatus.values:
        errors["status"] = _("无效的任务状态。")
    owner = fields.get("owner")
    if owner is not None and (not isinstance(owner, User) or not owner.is_active):
        errors["owner"] = _("请选择在职的负责人。")
    start = check_date(errors, "start_date", value("start_date"), _("开始日期"))
    due = check_date(errors, "due_date", value("due_date"), _("截止日期"))
    if start and due and due < start:
        errors["due_date"] = _("截止日期不能早于开始日期。")
    if errors:
        raise ValidationError(errors)
    return fields


def _check_dependencies(plan: Plan, task: Task | None, depends_on: Sequence[Task]) -> list[Task]:
    """The dependencies, refused when one is of another plan, is the task itself or closes a loop."""
    chosen = list(dict.fromkeys(depends_on))
    if len(chosen) > MAX_DEPENDENCIES:
        raise ValidationError({"depends_on": _("前置任务最多 %(n)s 个。") % {"n": MAX_DEPENDENCIES}})
    for dep in chosen:
        if dep.plan_id != plan.pk:
            raise ValidationError({"depends_on": _("前置任务“%(title)s”不属于本计划。") % {"title": dep.title}})
        if task is not None and dep.pk == task.pk:
            raise ValidationError({"depends_on": _("任务不能依赖自己。")})
    if task is not None and chosen:
        edges: dict[int, set[int]] = {}
        for source, target in Task.depends_on.through.objects.filter(from_task__plan=plan).values_list(
            "from_task_id", "to_task_id"
        ):
            edges.setdefault(source, set()).add(target)
        if rules.creates_cycle(edges, task.pk, [d.pk for d in chosen]):
            raise ValidationError(
                {
                    "depends_on": _("这些前置任务会形成循环依赖（某个前置任务直接或间接依赖“%(title)s”）。")
                    % {"title": task.title}
                }
            )
    return chosen


def _dep_text(task: Task) -> str:
    return "、".join(t.title for t in task.depends_on.order_by("id"))


def _stamp_done(task: Task, status: str) -> None:
    task.done_at = timezone.now() if status == TaskStatus.DONE else None


@transaction.atomic
def task_create(*, actor: User, plan: Plan, depends_on: Sequence[Task] = (), **fields: Any) -> Task:
    """A task of ``plan``; dependencies must be tasks of the same plan."""
    if not can_plan(actor):
        raise deny(_("您没有管理任务的权限。"))
    refuse_unknown(fields, TASK_FIELDS)
    plan = Plan.objects.select_for_update().get(pk=plan.pk)
    fields = _clean(dict(fields))
    chosen = _check_dependencies(plan, None, depends_on)
    task = Task(plan=plan, **fields)
    _stamp_done(task, task.status)
    task.save()
    task.depends_on.set(chosen)
    audit_record(actor=actor, obj=task, action=AuditEntry.Action.CREATE)
    audit_record(actor=actor, obj=plan, action=AuditEntry.Action.UPDATE, changes={"task": ("", task.title)})
    if task.owner_id:
        _tell_assigned(actor, task, plan)
    return task


@transaction.atomic
def task_update(
    *,
    actor: User,
    task: Task,
    expected_version: int | None = None,
    depends_on: Sequence[Task] | None = None,
    **fields: Any,
) -> Task:
    """Planners change any field; a task's owner only its status (see ``task_move``)."""
    if not can_plan(actor):
        if set(fields) <= {"status"} and depends_on is None and can_move_task(actor, task):
            return task_move(
                actor=actor, task=task, status=fields.get("status", task.status), expected_version=expected_version
            )
        raise deny(_("您没有修改该任务的权限。"))
    refuse_unknown(fields, TASK_FIELDS)
    task = Task.objects.select_for_update().select_related("plan").get(pk=task.pk)
    check_version(task.version, expected_version)
    fields = _clean(dict(fields), task)
    chosen = _check_dependencies(task.plan, task, depends_on) if depends_on is not None else None
    before = snapshot(task, fields)
    for name, value in fields.items():
        setattr(task, name, value)
    changes = diff(before, snapshot(task, fields))
    if chosen is not None:
        old = _dep_text(task)
        if {t.pk for t in chosen} != set(task.depends_on.values_list("pk", flat=True)):
            task.depends_on.set(chosen)
            changes["depends_on"] = (old, _dep_text(task))
    if not changes:
        return task
    if "status" in changes:
        _stamp_done(task, task.status)
    task.version += 1
    task.save()
    audit_record(actor=actor, obj=task, action=AuditEntry.Action.UPDATE, changes=changes)
    if "owner" in changes and task.owner_id:
        _tell_assigned(actor, task, task.plan)
    return task


def _task_subject(task: Task, plan: Plan) -> dict[str, Any]:
    return {"type": "task", "id": task.pk, "code": "", "title": task.title, "plan": plan.pk, "plan_title": plan.title}


def _tell_assigned(actor: User, task: Task, plan: Plan) -> None:
    """The task's (new) owner hears it is theirs, once per task, owner and version."""
    owner = task.owner
    emit(
        kind=EventKind.TASK,
        key=f"task-assigned:{task.pk}:{task.owner_id}:{task.version}",
        message=gettext_noop("您被指派了任务“%(title)s”（%(plan)s），截止 %(due)s。"),
        params={"title": task.title, "plan": plan.title, "due": task.due_date.isoformat()},
        url=reverse("delivery:plan", args=[plan.pk]),
        actor=actor,
        recipients=[owner],
        teams=[owner.team_id] if owner is not None and owner.team_id else [],
        subject=_task_subject(task, plan),
        data={"event": "assigned", "owner": task.owner_id, "due_date": task.due_date.isoformat()},
    )


@transaction.atomic
def task_move(*, actor: User, task: Task, status: str, expected_version: int | None = None) -> Task:
    """Move a task's status (its owner, or a planner). Two people moving one task with the same version:
    the second is refused as stale instead of overwriting the first."""
    if not can_move_task(actor, task):
        raise deny(_("只有任务负责人和计划人员可以更新任务状态。"))
    if status not in TaskStatus.values:
        raise ValidationError({"status": _("无效的任务状态。")})
    task = Task.objects.select_for_update().get(pk=task.pk)
    if not can_move_task(actor, task):  # the owner changed since the caller read it
        raise deny(_("只有任务负责人和计划人员可以更新任务状态。"))
    check_version(task.version, expected_version)
    if task.status == status:
        return task
    previous = task.get_status_display()
    task.status = status
    _stamp_done(task, status)
    task.version += 1
    task.save(update_fields=["status", "done_at", "version", "updated_at"])
    audit_record(
        actor=actor,
        obj=task,
        action=AuditEntry.Action.TRANSITION,
        changes={"status": (previous, task.get_status_display())},
    )
    return task


def task_warnings(task: Task, *, plan: Plan | None = None) -> list[str]:
    """What is odd about a task's dates, shown but not refused: it starts before what it depends on is
    due, or it lies outside its plan's dates."""
    plan = plan or task.plan
    warnings: list[str] = []
    me = rules.Dated(task.title, task.start_date, task.due_date, task.status == TaskStatus.DONE)
    deps = [rules.Dated(d.title, d.start_date, d.due_date, d.status == TaskStatus.DONE) for d in task.depends_on.all()]
    for dep, _kind in rules.dependency_warnings(me, deps):
        warnings.append(
            _("开始日期 %(start)s 早于前置任务“%(dep)s”的完成日期 %(due)s：前置任务完成前不能开始。")
            % {"start": task.start_date.isoformat(), "dep": dep.title, "due": dep.due.isoformat()}
        )
    if rules.outside(task.start_date, task.due_date, plan.start_date, plan.end_date):
        warnings.append(
            _("任务日期超出计划周期 %(start)s — %(end)s。")
            % {"start": plan.start_date.isoformat(), "end": plan.end_date.isoformat()}
        )
    return warnings


# ---------------------------------------------------------------- overdue reminders


OPEN_CATEGORIES = (StatusCategory.NEW, StatusCategory.ACTIVE, StatusCategory.DEFERRED)


def overdue_remind(*, now: dt.datetime | None = None) -> int:
    """Remind each overdue task's owner and its plan's manager, in-app and by mail, once per task and day.

    Safe to run twice: the day's ``OverdueReminder`` row is written with the notices in one transaction, and
    a second run (or a second worker) finds it and sends nothing. Returns how many tasks were reminded.
    """
    moment = now or timezone.now()
    today = timezone.localdate(moment)
    # A plan whose every requirement is finished (launched, closed or rejected) has no open work left to chase.
    linked = Plan.requirements.through.objects.filter(plan_id=OuterRef("plan_id"))
    still_open = linked.filter(requirement__status__category__in=OPEN_CATEGORIES)
    due = (
        Task.objects.exclude(status=TaskStatus.DONE)
        .filter(due_date__lt=today)
        .exclude(reminders__day=today)
        .exclude(Exists(linked) & ~Exists(still_open))
        .select_related("plan__owner", "owner")
        .order_by("id")
    )
    sent = 0
    for task in due.iterator(chunk_size=200):
        try:
            with transaction.atomic():
                reminder = OverdueReminder.objects.create(task=task, day=today)
                days = (today - task.due_date).days
                owner = task.owner or task.plan.owner
                event = emit(
                    kind=EventKind.TASK,
                    key=f"task-overdue:{task.pk}:{today.isoformat()}",
                    message=gettext_noop("任务“%(title)s”（%(plan)s）已逾期 %(days)s 天，截止日期 %(due)s。"),
                    params={
                        "title": task.title,
                        "plan": task.plan.title,
                        "days": days,
                        "due": task.due_date.isoformat(),
                    },
                    url=reverse("delivery:plan", args=[task.plan_id]),
                    recipients=[task.owner, task.plan.owner],
                    teams=[owner.team_id] if owner is not None and owner.team_id else [],
                    subject=_task_subject(task, task.plan),
                    data={"event": "overdue", "overdue_days": days, "due_date": task.due_date.isoformat()},
                )
                told = event.recipients if event is not None else []
                reminder.recipients = len(told)
                reminder.save(update_fields=["recipients"])
        except IntegrityError:  # another run reminded it a moment ago
            continue
        sent += 1
    log.info("overdue reminders for %s: %s tasks", today, sent)
    return sent
