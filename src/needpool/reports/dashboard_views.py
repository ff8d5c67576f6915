"""The dashboard page: the filter bar and the dashboard document (``metrics.dashboard``) for the reader's scope.

A large pool's page is served from a kept snapshot (``services.dashboard_snapshot_get_or_build``): with its time
and a 刷新 button, or — before the first build has finished — the filter bar and a panel that asks
``dashboard_snapshot`` every two seconds until the document is there.

``build_from_query`` is the same parse-and-build for callers without a request (the background exports, which
always compute live): it refuses bad input with a ``ValidationError`` carrying the form's messages, exactly as
the page shows them. ``result_from_query`` is the same for the API, through the snapshot policy.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from needpool.accounts.models import User
from needpool.reports import metrics, services, snapshots
from needpool.reports.dashboard_forms import DashboardFilterForm
from needpool.reports.document import Report
from needpool.reports.filters import ReportFilterForm, ReportFilters

FILTER_NAMES = tuple(ReportFilterForm.base_fields)
MORE_FILTERS = ("team", "owner", "segment", "industry", "project")  # folded away on the page until used


def _query(data: Mapping[str, Any]) -> dict[str, str]:
    """Only the filter bar's own parameters (a page number or a stray parameter is no filter)."""
    return {name: str(data[name]) for name in FILTER_NAMES if name in data}


def parse_filters(
    user: User, query: Mapping[str, Any], *, today: dt.date | None = None
) -> tuple[DashboardFilterForm, ReportFilters | None]:
    """The bound filter form and, when its input is valid, the filters it stands for."""
    form = DashboardFilterForm(_query(query), user=user)
    return form, (form.filters(today=today) if form.is_valid() else None)


def build_from_query(user: User, query: Mapping[str, str], *, now: dt.datetime | None = None) -> Report:
    """The dashboard for ``query`` (the page's GET parameters) as ``user`` sees it; ``ValidationError`` with the
    messages per field on bad input."""
    now = now or timezone.now()
    form, filters = parse_filters(user, query, today=timezone.localdate(now))
    if filters is None:
        raise ValidationError(form.errors.as_data())
    return metrics.dashboard(user=user, filters=filters, now=now)


def result_from_query(
    user: User, query: Mapping[str, str], *, now: dt.datetime | None = None
) -> services.DashboardResult:
    """The dashboard for ``query`` as ``user`` sees it, live or from a snapshot; ``ValidationError`` on bad input."""
    now = now or timezone.now()
    form, filters = parse_filters(user, query, today=timezone.localdate(now))
    if filters is None:
        raise ValidationError(form.errors.as_data())
    return services.dashboard_snapshot_get_or_build(
        user=user, filters=filters, now=now, relative=snapshots.is_relative(query)
    )


def _result_context(result: services.DashboardResult | None, query: dict[str, str]) -> dict[str, Any]:
    from_snapshot = result is not None and result.state in ("fresh", "stale")
    snapshot = result.snapshot if result is not None else None
    cache_key = ""
    if from_snapshot and snapshot is not None and snapshot.computed_at is not None:
        # A kept document's sections render the same for every reader of it: rendered once, then cached.
        cache_key = f"{snapshot.pk}:{snapshot.computed_at.timestamp():.6f}:{translation.get_language()}"
    return {
        "report": result.report if result is not None else None,
        "building": result is not None and result.state == "building",
        "from_snapshot": from_snapshot,
        "snapshot_query": urlencode(query),
        "sections_cache_key": cache_key,
    }


def dashboard(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    query = _query(request.GET)
    form, filters = parse_filters(user, query)
    result = (
        services.dashboard_snapshot_get_or_build(
            user=user, filters=filters, now=timezone.now(), relative=snapshots.is_relative(query)
        )
        if filters is not None
        else None
    )
    context = {
        "form": form.with_choices(),
        "industries": form.industries(),
        "has_filters": bool(query),
        "more_open": any(query.get(name) or name in form.errors for name in MORE_FILTERS),
        "export_query": filters.as_query() if filters is not None else {},
        **_result_context(result, query),
    }
    return render(request, "reports/dashboard.html", context)


@require_GET
def dashboard_snapshot(request: HttpRequest) -> HttpResponse:
    """The page's 正在计算 panel asks here: 204 while the build runs, then the document (htmx swaps it in)."""
    user: User = request.user  # type: ignore[assignment]
    query = _query(request.GET)
    _form, filters = parse_filters(user, query)
    if filters is None:
        return HttpResponseBadRequest()
    result = services.dashboard_snapshot_get_or_build(
        user=user, filters=filters, now=timezone.now(), relative=snapshots.is_relative(query)
    )
    if result.state == "building":
        return HttpResponse(status=204)
    return render(request, "reports/_dashboard_result.html", {**_result_context(result, query), "swapped": True})


@require_POST
def dashboard_refresh(request: HttpRequest) -> HttpResponse:
    """刷新: rebuild the reader's snapshot of these filters in the background, then back to the page."""
    user: User = request.user  # type: ignore[assignment]
    query = _query(request.GET)
    _form, filters = parse_filters(user, query)
    back = reverse("reports:dashboard") + (f"?{urlencode(query)}" if query else "")
    if filters is None:
        return redirect(back)
    if services.dashboard_snapshot_refresh(
        user=user, filters=filters, now=timezone.now(), relative=snapshots.is_relative(query)
    ):
        messages.success(request, _("已开始重新计算，完成后刷新页面即可看到最新数据。"))
    else:
        messages.info(request, _("正在计算最新数据，请稍后刷新页面。"))
    return redirect(back)
