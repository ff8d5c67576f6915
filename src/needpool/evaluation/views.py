"""Pages of effect evaluation: my evaluations, all evaluations, the evaluation form, the settings."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from needpool.core.concurrency import StaleVersion
from needpool.core.views import add_service_errors, paginate
from needpool.evaluation import permissions
from needpool.evaluation.forms import EvaluationForm, EvaluationSettingsForm, tri_state_initial
from needpool.evaluation.permissions import acting_user
from needpool.evaluation.plans import plan_criterion
from needpool.evaluation.selectors import STATES, evaluation_get, evaluation_list
from needpool.evaluation.services import evaluation_complete, evaluation_settings, evaluation_settings_update


def _list_page(request: HttpRequest, *, mine: bool) -> HttpResponse:
    state = request.GET.get("state", "")
    state = state if state in STATES else ""
    today = timezone.localdate()
    page = paginate(request, evaluation_list(user=request.user, mine=mine, state=state, today=today))
    context: dict[str, Any] = {
        "page_obj": page,
        "evaluations": list(page.object_list),
        "mine": mine,
        "state": state,
        "today": today,
        "may_list_all": permissions.can_list_all(request.user),
        "may_configure": permissions.can_configure(request.user),
    }
    return render(request, "evaluation/list.html", context)


def my_evaluations(request: HttpRequest) -> HttpResponse:
    return _list_page(request, mine=True)


def all_evaluations(request: HttpRequest) -> HttpResponse:
    if not permissions.can_list_all(request.user):
        raise PermissionDenied(_("只有闭环负责人可以查看全部效果评估。"))
    return _list_page(request, mine=False)


def evaluation_edit(request: HttpRequest, pk: int) -> HttpResponse:
    evaluation = evaluation_get(user=request.user, pk=pk)
    may_complete = permissions.can_complete(request.user, evaluation)
    initial = {
        "metric": evaluation.metric,
        "target": evaluation.target,
        "actual": evaluation.actual,
        "met": evaluation.met,
        "ease_of_use": evaluation.ease_of_use,
        "complaint_drop_pct": evaluation.complaint_drop_pct,
        "repurchased": tri_state_initial(evaluation.repurchased),
        "renewed": tri_state_initial(evaluation.renewed),
        "referred": tri_state_initial(evaluation.referred),
        "notes": evaluation.notes,
        "version": evaluation.version,
    }
    form = EvaluationForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST":
        if not may_complete:
            raise PermissionDenied(_("只有需求负责人或闭环负责人可以填写效果评估。"))
        if form.is_valid():
            data = dict(form.cleaned_data)
            version = data.pop("version", None)
            try:
                evaluation_complete(
                    actor=acting_user(request.user), evaluation=evaluation, expected_version=version, **data
                )
            except StaleVersion as exc:
                form.add_error(None, exc)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("效果评估已保存。"))
                return redirect("evaluation:edit", pk=evaluation.pk)
    context = {
        "evaluation": evaluation,
        "requirement": evaluation.requirement,
        "form": form,
        "may_complete": may_complete,
        "criterion": plan_criterion(evaluation.requirement_id),
    }
    return render(request, "evaluation/form.html", context)


def settings_page(request: HttpRequest) -> HttpResponse:
    if not permissions.can_configure(request.user):
        raise PermissionDenied(_("只有管理员可以修改效果评估设置。"))
    current = evaluation_settings()
    form = EvaluationSettingsForm(request.POST or None, initial={"delay_days": current.delay_days})
    if request.method == "POST" and form.is_valid():
        try:
            evaluation_settings_update(actor=acting_user(request.user), **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("效果评估设置已保存。"))
            return redirect("evaluation:settings")
    return render(request, "evaluation/settings.html", {"form": form})
