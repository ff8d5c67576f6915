"""Iterations: list, create, edit, detail (requirements, plans, tasks, Gantt), adding requirements, the
roadmap for staff and the public roadmap on the portal."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from needpool.core.validation import parse_id
from needpool.core.views import add_service_errors, error_text, paginate
from needpool.delivery import permissions, selectors
from needpool.delivery.forms import AddRequirementsForm, IterationForm, split_codes
from needpool.delivery.models import Iteration, IterationItem
from needpool.delivery.services import (
    iteration_create,
    iteration_plan_requirements,
    iteration_unplan_requirement,
    iteration_update,
)
from needpool.delivery.views.common import gantt_rows


def _require_see(request: HttpRequest) -> None:
    if not permissions.can_see_delivery(request.user):
        raise permissions.deny(_("您没有查看计划与迭代的权限。"))


def iteration_list_page(request: HttpRequest) -> HttpResponse:
    _require_see(request)
    status = request.GET.get("status", "")
    q = request.GET.get("q", "").strip()
    page = paginate(request, selectors.iteration_list(user=request.user, status=status, q=q))
    context = {
        "page_obj": page,
        "iterations": page.object_list,
        "statuses": Iteration.Status.choices,
        "status": status,
        "q": q,
        "allowed": {"plan": permissions.can_plan(request.user)},
    }
    return render(request, "delivery/iterations.html", context)


def _iteration_form_page(request: HttpRequest, iteration: Iteration | None) -> HttpResponse:
    if not permissions.can_plan(request.user):
        raise permissions.deny(_("您没有管理迭代的权限。"))
    if iteration is None:
        today = timezone.localdate()
        initial: dict[str, Any] = {"start_date": today, "end_date": today + dt.timedelta(days=13), "status": "planned"}
    else:
        initial = {f: getattr(iteration, f) for f in IterationForm.base_fields}
    form = IterationForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if iteration is None:
                iteration = iteration_create(actor=request.user, **form.cleaned_data)  # type: ignore[arg-type]
            else:
                version = parse_id(request.POST.get("version"))
                iteration_update(actor=request.user, iteration=iteration, expected_version=version, **form.cleaned_data)  # type: ignore[arg-type]
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("迭代“%(name)s”已保存。") % {"name": form.cleaned_data["name"]})
            return redirect("delivery:iteration", pk=iteration.pk)
    return render(request, "delivery/iteration_form.html", {"form": form, "iteration": iteration})


def iteration_create_page(request: HttpRequest) -> HttpResponse:
    return _iteration_form_page(request, None)


def iteration_edit_page(request: HttpRequest, pk: int) -> HttpResponse:
    return _iteration_form_page(request, selectors.iteration_get(user=request.user, pk=pk))


def iteration_detail(request: HttpRequest, pk: int) -> HttpResponse:
    iteration = selectors.iteration_get(user=request.user, pk=pk)
    page = paginate(request, selectors.iteration_requirements(iteration, user=request.user))
    today = timezone.localdate()
    rows = []
    for requirement in page.object_list:
        plans = []
        for plan in requirement.delivery_plans.all():
            tasks = [{"task": t, "overdue": t.is_overdue(today)} for t in plan.tasks.all()]
            plans.append({"plan": plan, "tasks": tasks})
        rows.append({"requirement": requirement, "plans": plans})
    context = {
        "iteration": iteration,
        "page_obj": page,
        "rows": rows,
        "gantt": gantt_rows(selectors.iteration_tasks(iteration, user=request.user)[:300], group=True),
        "add_form": AddRequirementsForm(),
        "allowed": {"plan": permissions.can_plan(request.user)},
    }
    return render(request, "delivery/iteration.html", context)


@require_POST
def iteration_add_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Plan requirements into the iteration: by code (the form here) or by id (``ids``, from other pages)."""
    iteration = selectors.iteration_get(user=request.user, pk=pk)
    if not permissions.can_plan(request.user):
        raise permissions.deny(_("您没有管理迭代的权限。"))
    ids = [i for i in (parse_id(v) for v in request.POST.getlist("ids")) if i is not None]
    codes = split_codes(request.POST.get("codes", ""))
    found = selectors.requirements_by_ids(user=request.user, ids=ids) if ids else []
    missing: list[str] = []
    if codes:
        by_code, missing = selectors.requirements_by_code(user=request.user, codes=codes)
        found += by_code
    if missing:
        messages.error(request, _("找不到这些需求编号：%(codes)s") % {"codes": "、".join(missing)})
    if found:
        try:
            iteration_plan_requirements(actor=request.user, iteration=iteration, requirements=found)  # type: ignore[arg-type]
        except ValidationError as exc:
            messages.error(request, error_text(exc))
        else:
            messages.success(request, _("已将 %(n)s 个需求加入迭代。") % {"n": len(found)})
    elif not missing:
        messages.error(request, _("请填写要加入的需求编号。"))
    return redirect("delivery:iteration", pk=iteration.pk)


@require_POST
def iteration_remove_page(request: HttpRequest, pk: int, requirement_pk: int) -> HttpResponse:
    iteration = selectors.iteration_get(user=request.user, pk=pk)
    found = selectors.requirements_by_ids(user=request.user, ids=[requirement_pk])
    if found and IterationItem.objects.filter(iteration=iteration, requirement=found[0]).exists():
        iteration_unplan_requirement(actor=request.user, requirement=found[0])  # type: ignore[arg-type]
        messages.success(request, _("已将需求 %(code)s 移出迭代。") % {"code": found[0].code})
    return redirect("delivery:iteration", pk=iteration.pk)


@require_POST
def requirement_iteration_page(request: HttpRequest, pk: int) -> HttpResponse:
    """From the requirement page: plan this requirement into the chosen iteration."""
    found = selectors.requirements_by_ids(user=request.user, ids=[pk])
    if not found:
        raise Http404
    iteration = selectors.iteration_get(user=request.user, pk=parse_id(request.POST.get("iteration")))
    try:
        iteration_plan_requirements(actor=request.user, iteration=iteration, requirements=found)  # type: ignore[arg-type]
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("已排入迭代“%(name)s”。") % {"name": iteration.name})
    return redirect("requirements:detail", pk=pk)


def roadmap_page(request: HttpRequest) -> HttpResponse:
    _require_see(request)
    data = selectors.roadmap(user=request.user)
    timeline = [
        {
            "id": f"i{i.pk}",
            "name": i.name,
            "start": i.start_date.isoformat(),
            "end": i.end_date.isoformat(),
            "progress": 100
            if i.status == Iteration.Status.DONE
            else (50 if i.status == Iteration.Status.ACTIVE else 0),
            "dependencies": "",
            "custom_class": f"gantt-iteration-{i.status}",
            "owner": "",
            "status": i.get_status_display(),
        }
        for i in data.timeline
    ]
    context = {"roadmap": data, "gantt": timeline, "allowed": {"plan": permissions.can_plan(request.user)}}
    return render(request, "delivery/roadmap.html", context)


def public_roadmap_page(request: HttpRequest) -> HttpResponse:
    rows = selectors.public_roadmap()
    context = {"now": [r for r in rows if r["column"] == "now"], "next": [r for r in rows if r["column"] == "next"]}
    return render(request, "delivery/public_roadmap.html", context)
