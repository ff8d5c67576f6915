"""Plans: list, create, edit, detail with milestones, tasks, warnings and the Gantt chart; tasks' forms,
status moves and "my tasks"."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from needpool.core.validation import parse_id
from needpool.core.views import add_service_errors, error_text, paginate
from needpool.delivery import permissions, selectors
from needpool.delivery.choices import Strategy, TaskStatus
from needpool.delivery.forms import PlanForm, TaskForm, TaskMoveForm, split_codes
from needpool.delivery.models import Plan, Task
from needpool.delivery.services import plan_create, plan_update, task_create, task_move, task_update, task_warnings
from needpool.delivery.views.common import gantt_rows, safe_next
from needpool.requirements.models import Requirement


def plan_list_page(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()
    strategy = request.GET.get("strategy", "")
    page = paginate(request, selectors.plan_list(user=request.user, q=q, strategy=strategy))
    context = {
        "page_obj": page,
        "plans": page.object_list,
        "strategies": Strategy.choices,
        "strategy": strategy,
        "q": q,
        "allowed": {"plan": permissions.can_plan(request.user)},
    }
    return render(request, "delivery/plans.html", context)


def _requirements_from(request: HttpRequest, form: PlanForm) -> list[Requirement] | None:
    codes = split_codes(form.cleaned_data.get("requirement_codes") or "")
    found, missing = selectors.requirements_by_code(user=request.user, codes=codes)
    if missing:
        form.add_error("requirement_codes", _("找不到这些需求编号：%(codes)s") % {"codes": "、".join(missing)})
        return None
    return found


def _plan_form_page(request: HttpRequest, plan: Plan | None) -> HttpResponse:
    if not permissions.can_plan(request.user):
        raise permissions.deny(_("您没有制定计划的权限。"))
    if plan is None:
        today = timezone.localdate()
        initial: dict[str, Any] = {
            "start_date": today,
            "end_date": today + dt.timedelta(days=30),
            "owner": request.user.pk,
            "comparator": "ge",
        }
        ids = [i for i in (parse_id(v) for v in request.GET.getlist("requirement")) if i is not None]
        if ids:
            initial["requirement_codes"] = " ".join(
                r.code for r in selectors.requirements_by_ids(user=request.user, ids=ids)
            )
    else:
        codes = list(selectors.plan_requirements(plan, user=request.user).values_list("code", flat=True))
        initial = PlanForm.initial_for(plan, codes)
    form = PlanForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        chosen = _requirements_from(request, form)
        if chosen is not None:
            try:
                if plan is None:
                    plan = plan_create(actor=request.user, requirements=chosen, **form.service_data())  # type: ignore[arg-type]
                else:
                    plan_update(
                        actor=request.user,  # type: ignore[arg-type]
                        plan=plan,
                        expected_version=parse_id(request.POST.get("version")),
                        requirements=chosen,
                        **form.service_data(),
                    )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("计划“%(title)s”已保存。") % {"title": form.cleaned_data["title"]})
                return redirect("delivery:plan", pk=plan.pk)
    return render(request, "delivery/plan_form.html", {"form": form, "plan": plan})


def plan_create_page(request: HttpRequest) -> HttpResponse:
    return _plan_form_page(request, None)


def plan_edit_page(request: HttpRequest, pk: int) -> HttpResponse:
    return _plan_form_page(request, selectors.plan_get(user=request.user, pk=pk))


def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    plan = selectors.plan_get(user=request.user, pk=pk)
    today = timezone.localdate()
    tasks = list(selectors.plan_tasks(plan)[:300])
    rows = [
        {
            "task": t,
            "overdue": t.is_overdue(today),
            "warnings": task_warnings(t, plan=plan),
            "may_move": permissions.can_move_task(request.user, t),
            "move_form": TaskMoveForm(initial={"status": t.status, "version": t.version}),
        }
        for t in tasks
    ]
    for t in tasks:
        t.plan = plan  # the Gantt rows name it; it is this one
    context = {
        "plan": plan,
        "requirements": list(selectors.plan_requirements(plan, user=request.user)[:100]),
        "milestones": list(selectors.plan_milestones(plan)),
        "rows": rows,
        "gantt": gantt_rows(tasks),
        "acceptances": list(selectors.acceptance_list(user=request.user).filter(plan=plan)[:20]),
        "allowed": {"plan": permissions.can_plan(request.user)},
    }
    return render(request, "delivery/plan.html", context)


def _task_form_page(request: HttpRequest, plan: Plan, task: Task | None) -> HttpResponse:
    if not permissions.can_plan(request.user):
        raise permissions.deny(_("您没有管理任务的权限。"))
    if task is None:
        initial: dict[str, Any] = {
            "start_date": plan.start_date,
            "due_date": plan.start_date,
            "status": TaskStatus.TODO,
        }
    else:
        initial = {f: getattr(task, f) for f in ("title", "owner", "start_date", "due_date", "deliverable", "status")}
        initial["depends_on"] = list(task.depends_on.values_list("pk", flat=True))
    form = TaskForm(request.POST or None, initial=initial, plan=plan, task=task)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        depends_on = list(data.pop("depends_on"))
        try:
            if task is None:
                task = task_create(actor=request.user, plan=plan, depends_on=depends_on, **data)  # type: ignore[arg-type]
            else:
                task = task_update(
                    actor=request.user,  # type: ignore[arg-type]
                    task=task,
                    expected_version=parse_id(request.POST.get("version")),
                    depends_on=depends_on,
                    **data,
                )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("任务“%(title)s”已保存。") % {"title": task.title})
            for warning in task_warnings(task, plan=plan):
                messages.warning(request, warning)
            return redirect("delivery:plan", pk=plan.pk)
    return render(request, "delivery/task_form.html", {"form": form, "plan": plan, "task": task})


def task_create_page(request: HttpRequest, pk: int) -> HttpResponse:
    return _task_form_page(request, selectors.plan_get(user=request.user, pk=pk), None)


def task_edit_page(request: HttpRequest, pk: int) -> HttpResponse:
    task = selectors.task_get(user=request.user, pk=pk)
    return _task_form_page(request, task.plan, task)


@require_POST
def task_move_page(request: HttpRequest, pk: int) -> HttpResponse:
    task = selectors.task_get(user=request.user, pk=pk)
    form = TaskMoveForm(request.POST)
    back = safe_next(request, request.POST.get("next", ""), reverse("delivery:plan", args=[task.plan_id]))
    if not form.is_valid():
        messages.error(request, _("无效的任务状态。"))
        return redirect(back)
    try:
        task_move(
            actor=request.user,  # type: ignore[arg-type]
            task=task,
            status=form.cleaned_data["status"],
            expected_version=form.cleaned_data["version"],
        )
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("任务“%(title)s”已更新。") % {"title": task.title})
    return redirect(back)


def my_tasks_page(request: HttpRequest) -> HttpResponse:
    include_done = request.GET.get("done") == "1"
    page = paginate(request, selectors.my_tasks(user=request.user, include_done=include_done))
    today = timezone.localdate()
    rows = [
        {
            "task": t,
            "overdue": t.is_overdue(today),
            "move_form": TaskMoveForm(
                initial={"status": t.status, "version": t.version, "next": request.get_full_path()}
            ),
        }
        for t in page.object_list
    ]
    return render(request, "delivery/my_tasks.html", {"page_obj": page, "rows": rows, "include_done": include_done})
