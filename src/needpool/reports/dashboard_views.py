"""The dashboard page: the filter bar and the dashboard document (``metrics.dashboard``) for the reader's scope.

``build_from_query`` is the same parse-and-build for callers without a request (the background exports): it
refuses bad input with a ``ValidationError`` carrying the form's messages, exactly as the page shows them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from needpool.accounts.models import User
from needpool.reports import metrics
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


def dashboard(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    query = _query(request.GET)
    form, filters = parse_filters(user, query)
    report = metrics.dashboard(user=user, filters=filters, now=timezone.now()) if filters is not None else None
    context = {
        "form": form.with_choices(),
        "industries": form.industries(),
        "report": report,
        "has_filters": bool(query),
        "more_open": any(query.get(name) or name in form.errors for name in MORE_FILTERS),
        "export_query": filters.as_query() if filters is not None else {},
    }
    return render(request, "reports/dashboard.html", context)
