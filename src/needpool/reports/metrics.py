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

WHAT EACH FIGURE COUNTS (the reader's scope and the slice come from ``reports.selectors``: a sales rep counts only
the requirements they may open; deleted and merged requirements never count; a requirement's team is its owner's
current team). "The cohort" is the requirements submitted in the period (提交时间 within [start 00:00, end + 1
day 00:00) local time); "the slice" is the same requirements whatever their submission date.

- total: the cohort. resolved: those of the cohort now in a status of category 已完成 (done).
  fulfilment_rate 需求满足率 = resolved / total × 100 (None when total is 0).
- sla_due: requirements of the cohort with a first-response deadline that has passed or that were already
  answered; sla_met: answered at or before the deadline; sla_compliance = sla_met / sla_due × 100.
  sla_breach_count / sla_breaches: the cohort in breach as the list's ``sla_breached=true`` counts it (flagged,
  or past the deadline unanswered). first_response_avg_hours: submitted_at → first_responded_at over the
  answered requirements of the cohort.
- lead_launch_avg_days / lead_close_avg_days: submitted_at → the first move into a status keyed ``launched``
  (a flow without such a status: its first move into any 已完成 status) / keyed ``closed``, averaged over the
  requirements of the cohort that got there.
- overdue_requirements: a state of today: requirements of the slice (any submission date) still 未处理 / 处理中
  whose expected date is before today. overdue_tasks: delivery tasks not done, due before today, of a plan that
  delivers a requirement of the slice.
- by_type / by_priority / by_status (current status, by key) / by_value_tier (Requirement.customer_value):
  the cohort per value. by_channel / by_segment / by_industry: distinct requirements of the cohort per value of
  their live feedback (channel; the feedback customer's segment / industry): a requirement with customers in
  two segments counts once in each, one without a customer in none. by_tag: the ``TOP_TAGS`` most used tags.
- launched: requirements of the slice moved into a launch status in the period (``launched_count`` how many,
  the list holds the first ``LIST_LIMIT`` by time); sla_breaches: the first ``LIST_LIMIT`` by submission.
- csat_avg / csat_count: CSAT answers (1–5) given in the period about requirements of the slice.
  nps = % promoters (9–10) − % detractors (0–6) of the NPS answers (0–10) given in the period by customers the
  reader sees (not deleted), in the segment / industry slice (team, owner and project do not narrow NPS: it is a
  customer's view of the product, not of a requirement).
- Business effect: effect evaluations completed in the period for requirements of the slice; repurchase_rate /
  renewal_rate / referral_rate over the evaluations that answered that question, complaint_drop_avg_pct over
  those that recorded it, met_rate = "met: yes" over those that answered "met" (partly counts as not met;
  met_partly says how many).
- Dashboard only: per owner / team / segment / industry the cohort's total, resolved, fulfilment %, SLA
  compliance, average first response and the slice's overdue count; trends per week (Monday first) or month of
  submission: submitted and (now) resolved, so the buckets add up to the headline; the status funnel: the
  cohort's current status in flow order, how many ever entered each status and the average days a stay there
  lasted (from the move in to the next move, or to now) — terminal statuses (已完成 / 已拒绝) show no stay.

Percentages and averages are rounded to one decimal (CSAT to two); durations are averaged in the database.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from needpool.accounts.models import User
from needpool.customers.choices import Segment, ValueTier
from needpool.reports import figures_dashboard
from needpool.reports import figures_queries as q
from needpool.reports.document import Report
from needpool.reports.filters import ReportFilters
from needpool.reports.selectors import period_bounds, report_requirements, sliced_requirements
from needpool.requirements.choices import Channel
from needpool.requirements.models import Requirement

TOP_TAGS = 10
LIST_LIMIT = 100


def _figures(
    user: User, filters: ReportFilters, now: dt.datetime
) -> tuple[dict[str, Any], QuerySet[Requirement], QuerySet[Requirement], q.Statuses]:
    today = timezone.localdate(now)
    start, end = period_bounds(filters)
    sliced = sliced_requirements(user, filters)
    cohort = report_requirements(user, filters)
    status_info = q.statuses()
    out: dict[str, Any] = q.headline(cohort, now=now, status_info=status_info)
    out.update(q.lead_times(cohort, status_info=status_info))
    out["overdue_requirements"] = q.overdue_requirements(sliced, today=today)
    out["overdue_tasks"] = q.overdue_tasks(sliced, today=today)
    out.update(q.csat(sliced, start=start, end=end))
    out.update(q.nps(user, filters, start=start, end=end))
    out["by_type"] = q.by_option(cohort, "type", none_label=_("未分类"))
    out["by_channel"] = q.by_feedback(cohort, "channel", dict(Channel.choices), none_label=_("未知渠道"))
    out["by_priority"] = q.by_field(cohort, "priority", {}, none_label=_("未定优先级"))
    out["by_status"] = q.by_status(cohort, status_info)
    out["by_segment"] = q.by_feedback(cohort, "customer__segment", dict(Segment.choices), none_label=_("未分层"))
    out["by_industry"] = q.by_feedback(cohort, "customer__industry", None, none_label=_("未填写行业"))
    out["by_value_tier"] = q.by_field(cohort, "customer_value", dict(ValueTier.choices), none_label=_("未评估"))
    out["by_tag"] = q.top_tags(cohort, TOP_TAGS)
    out["launched"], out["launched_count"] = q.launched(
        sliced, start=start, end=end, status_info=status_info, limit=LIST_LIMIT
    )
    out["sla_breaches"] = q.sla_breaches(cohort, now=now, limit=LIST_LIMIT)
    out.update(q.effect(sliced, start=start, end=end))
    return out, cohort, sliced, status_info


def summary(*, user: User, filters: ReportFilters, now: dt.datetime | None = None) -> dict[str, Any]:
    """The headline numbers of one period for ``user`` (see the module docstring for each key)."""
    return _figures(user, filters, now or timezone.now())[0]


def dashboard(*, user: User, filters: ReportFilters, now: dt.datetime | None = None) -> Report:
    """The dashboard document for ``user``: the summary plus breakdowns, trends, the status funnel, satisfaction
    and business effect, every element linked to the list it counts."""
    now = now or timezone.now()
    figures, cohort, sliced, status_info = _figures(user, filters, now)
    return figures_dashboard.build(
        filters=filters, s=figures, cohort=cohort, sliced=sliced, status_info=status_info, now=now
    )
