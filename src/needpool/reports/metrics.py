"""Every dashboard figure, computed with aggregate queries over the reader's scoped requirements.

CONTRACT (other modules rely on these names; the implementation fills them in):

``summary(*, user, filters, now=None) -> dict[str, Any]`` — the headline numbers of one period, keys:
    total, resolved, fulfilment_rate (0–100 float or None), sla_due, sla_met, sla_compliance (% or None),
    first_response_avg_hours, lead_launch_avg_days, lead_close_avg_days, overdue_requirements, overdue_tasks,
    csat_avg, csat_count, nps (−100..100 or None), promoters, passives, detractors, nps_count,
    by_type / by_channel / by_priority / by_status / by_segment / by_industry / by_value_tier / by_tag:
        list of (key, label, count) sorted by count desc then label,
    launched: list of (requirement id, code, title) launched in the period,
    sla_breaches: list of (id, code, title) breached, submitted in the period.
``dashboard(*, user, filters, now=None) -> document.Report`` — the dashboard document built from the same
    numbers plus breakdowns per owner / team / segment / industry, trends by ``filters.grain``, the status
    funnel with the time spent in each status, satisfaction and business effect; every element carries the
    click-through href (filters.requirement_list_url).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from needpool.accounts.models import User
from needpool.reports.document import Report
from needpool.reports.filters import ReportFilters


def summary(*, user: User, filters: ReportFilters, now: dt.datetime | None = None) -> dict[str, Any]:
    raise NotImplementedError


def dashboard(*, user: User, filters: ReportFilters, now: dt.datetime | None = None) -> Report:
    raise NotImplementedError
