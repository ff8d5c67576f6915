"""Analysis projects: the list, create and edit forms, and a project's page."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.contrib import messages
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from needpool.analysis import permissions
from needpool.analysis.filters import ProjectFilter
from needpool.analysis.forms import ProjectForm
from needpool.analysis.models import AnalysisProject
from needpool.analysis.permissions import acting_user
from needpool.analysis.selectors import (
    demand_ranking,
    matrix_points,
    project_counts,
    project_get,
    project_list,
    project_requirements,
    ranked,
)
from needpool.analysis.services import analysis_settings, project_create, project_update
from needpool.analysis.views.presentation import PRIORITY_NAMES, chart_labels, explain, has_filters, point_urls
from needpool.core.audit import audit_for
from needpool.core.views import add_service_errors, paginate
from needpool.customers.choices import Segment
from needpool.requirements.choices import StatusCategory
from needpool.requirements.selectors import LIST_RELATED

_PROJECT_FIELD_LABELS = {
    "scope": gettext_lazy("分析范围"),
    "members": gettext_lazy("团队成员"),
}


def _project_field_label(name: str) -> str:
    if name in _PROJECT_FIELD_LABELS:
        return str(_PROJECT_FIELD_LABELS[name])
    try:
        return str(getattr(AnalysisProject._meta.get_field(name), "verbose_name", name))
    except FieldDoesNotExist:
        return name


def scope_rows(scope: dict[str, Any]) -> list[tuple[str, str]]:
    segments = dict(Segment.choices)
    rows: list[tuple[str, str]] = []
    if scope.get("industries"):
        rows.append((_("行业"), "、".join(scope["industries"])))
    if scope.get("regions"):
        rows.append((_("地区"), "、".join(scope["regions"])))
    if scope.get("segments"):
        rows.append((_("客户分层"), "、".join(str(segments.get(s, s)) for s in scope["segments"])))
    if scope.get("top_n_by_order"):
        rows.append((_("客户范围"), _("订单金额前 %(n)s 名") % {"n": scope["top_n_by_order"]}))
    if scope.get("period_start") or scope.get("period_end"):
        rows.append((_("需求提交时间"), f"{scope.get('period_start') or '…'} — {scope.get('period_end') or '…'}"))
    return rows


def project_list_page(request: HttpRequest) -> HttpResponse:
    page = paginate(request, project_list(user=acting_user(request.user), filters=request.GET))
    rows = [{"project": p, "scope": scope_rows(p.scope or {})} for p in page.object_list]
    context = {
        "filter_form": ProjectFilter(request.GET or None, queryset=AnalysisProject.objects.none()).form,
        "has_filters": has_filters(request),
        "page_obj": page,
        "rows": rows,
        "allowed": {"create": permissions.can_create_project(request.user)},
    }
    return render(request, "analysis/projects.html", context)


def project_create_page(request: HttpRequest) -> HttpResponse:
    if not permissions.can_create_project(request.user):
        raise permissions.deny(_("只有经理和产品经理可以创建分析项目。"))
    today = timezone.localdate()
    initial = {"leader": request.user.pk, "start_date": today, "end_date": today + dt.timedelta(days=30)}
    form = ProjectForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            project = project_create(actor=acting_user(request.user), **form.service_data())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("分析项目“%(name)s”已创建。") % {"name": project.name})
            return redirect("analysis:project", pk=project.pk)
    return render(request, "analysis/project_form.html", {"form": form, "is_create": True})


def project_edit_page(request: HttpRequest, pk: int) -> HttpResponse:
    project = project_get(user=acting_user(request.user), pk=pk)
    if not permissions.can_edit_project(request.user, project):
        raise permissions.deny(_("只有项目负责人、经理和产品经理可以修改分析项目。"))
    form = ProjectForm(request.POST or None, project=project)
    if request.method == "POST" and form.is_valid():
        try:
            project_update(actor=acting_user(request.user), project=project, **form.service_data())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("分析项目“%(name)s”已保存。") % {"name": form.cleaned_data["name"]})
            return redirect("analysis:project", pk=project.pk)
    return render(request, "analysis/project_form.html", {"form": form, "is_create": False, "project": project})


def _history_value(value: Any) -> Any:
    if isinstance(value, dict):  # a scope
        return "；".join(f"{label}：{text}" for label, text in scope_rows(value)) or _("不限")
    return value


def _history_rows(entries: Iterable[Any]) -> list[dict[str, Any]]:
    return [
        {
            "entry": entry,
            "rows": [
                {
                    **row,
                    "label": _project_field_label(row["field"]),
                    "old": _history_value(row["old"]),
                    "new": _history_value(row["new"]),
                }
                for row in entry.change_rows()
            ],
        }
        for entry in entries
    ]


def project_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request.user)
    project = project_get(user=user, pk=pk)
    config = analysis_settings()
    base = project_requirements(project, user=user)
    page = paginate(request, ranked(user=user, base=base.select_related(*LIST_RELATED)))
    rows = []
    for requirement in page.object_list:
        analysis = getattr(requirement, "analysis", None)
        rows.append({"requirement": requirement, "analysis": analysis, "why": explain(analysis, config)})
    counts = project_counts(project, user=user)
    statuses = dict(StatusCategory.choices)
    context = {
        "project": project,
        "scope": scope_rows(project.scope or {}),
        "members": list(project.members.all()),
        "page_obj": page,
        "rows": rows,
        "counts": counts,
        "priority_counts": [(p, counts["by_priority"].get(p, 0)) for p in PRIORITY_NAMES]
        + [(_("未定"), counts["by_priority"].get("", 0))],
        "status_counts": [(label, counts["by_status"].get(key, 0)) for key, label in statuses.items()],
        "points": point_urls(matrix_points(user=user, base=base, overrides=True)),
        "chart_config": {"cutoff": config.matrix_cutoff, "labels": chart_labels()},
        "demand": demand_ranking(user=user, base=base, limit=10),
        "history": _history_rows(audit_for(project, limit=50)),
        "allowed": {"edit": permissions.can_edit_project(user, project)},
    }
    return render(request, "analysis/project.html", context)
