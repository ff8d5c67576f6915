"""The pool-wide analysis pages: the priority matrix and the ranked list."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from needpool.analysis.permissions import acting_user
from needpool.analysis.selectors import matrix_points, ranked, value_effort_points
from needpool.analysis.services import analysis_settings
from needpool.analysis.views.presentation import chart_labels, explain, has_filters, point_urls, workflow_or_none
from needpool.core.views import paginate
from needpool.requirements.forms import requirement_filter_form
from needpool.requirements.selectors import requirement_list

POINTS_PAGE_SIZE = 25


def matrix_page(request: HttpRequest) -> HttpResponse:
    user = acting_user(request.user)
    config = analysis_settings()
    base = requirement_list(user=user, filters=request.GET).prefetch_related(None)
    points = point_urls(matrix_points(user=user, base=base, overrides=True))
    effort_points = point_urls(value_effort_points(user=user, base=base))
    table = Paginator(points, POINTS_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "points": points,
        "effort_points": effort_points,
        "chart_config": {"cutoff": config.matrix_cutoff, "labels": chart_labels()},
        "page_obj": table,
        "table_rows": table.object_list,
        "config": config,
        "filter_form": requirement_filter_form(request.GET or None, user=user, workflow=workflow_or_none()),
        "has_filters": has_filters(request),
    }
    return render(request, "analysis/matrix.html", context)


def ranked_page(request: HttpRequest) -> HttpResponse:
    user = acting_user(request.user)
    config = analysis_settings()
    page = paginate(request, ranked(user=user, filters=request.GET).prefetch_related(None))
    rows = []
    for requirement in page.object_list:
        analysis = getattr(requirement, "analysis", None)
        rows.append({"requirement": requirement, "analysis": analysis, "why": explain(analysis, config)})
    context = {
        "page_obj": page,
        "rows": rows,
        "config": config,
        "filter_form": requirement_filter_form(request.GET or None, user=user, workflow=workflow_or_none()),
        "has_filters": has_filters(request),
    }
    return render(request, "analysis/ranked.html", context)
