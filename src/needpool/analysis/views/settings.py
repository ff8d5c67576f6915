"""The priority model's settings and the background recompute job they start."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from needpool.analysis import permissions
from needpool.analysis.choices import PriorityModelKind
from needpool.analysis.forms import SettingsForm, criteria_formset, criteria_from_formset
from needpool.analysis.permissions import acting_user
from needpool.analysis.selectors import job_get
from needpool.analysis.services import analysis_settings, analysis_settings_update
from needpool.core.jobs import job_state
from needpool.core.models import BackgroundJob
from needpool.core.views import add_service_errors


def settings_page(request: HttpRequest) -> HttpResponse:
    user = acting_user(request.user)
    can_change = permissions.can_change_settings(user)
    if request.method == "POST" and not can_change:
        raise permissions.deny(_("只有产品经理及以上角色可以修改优先级模型。"))
    config = analysis_settings()
    data = request.POST if request.method == "POST" else None
    form = SettingsForm(data, config=config, readonly=not can_change)
    formset = criteria_formset(data, config=config, readonly=not can_change)
    if data is not None:
        if form.is_valid() and formset.is_valid():
            changes = form.changes(config, criteria_from_formset(formset))
            if not changes:
                messages.info(request, _("没有需要保存的修改。"))
                return redirect("analysis:settings")
            try:
                config, job = analysis_settings_update(actor=user, **changes)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                if job is not None:
                    messages.info(request, _("设置已保存，正在后台重新计算 %(n)s 条需求的优先级。") % {"n": job.total})
                    return redirect("analysis:job", pk=job.pk)
                messages.success(request, _("设置已保存，优先级已重新计算。"))
                return redirect("analysis:settings")
        messages.error(request, _("未保存：请检查下面标出的问题。"))
    context = {
        "form": form,
        "formset": formset,
        "config": config,
        "allowed": {"change": can_change},
        "models": PriorityModelKind.choices,
    }
    return render(request, "analysis/settings.html", context)


def _job(request: HttpRequest, pk: int) -> BackgroundJob:
    return job_get(user=acting_user(request.user), pk=pk)


def job_page(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "analysis/job.html", job_state(_job(request, pk), request.user))


def job_progress(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "analysis/_job_progress.html", job_state(_job(request, pk), request.user))
