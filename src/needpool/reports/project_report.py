"""The analysis-project report 分析项目报告: the project's goal, scope, leader and period, and the figures of the
requirements in its scope only (analysis.selectors.project_requirements, as the reader may open them).

The period the figures count is the scope's own submission period when it has one; otherwise every requirement
in scope counts (from the earliest submission to today), so the report's total is the project page's total.
A project the reader may not see is "not found" (Http404). Conclusions are the team's to write elsewhere: the
report states figures only.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, Min, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from needpool.accounts.models import User
from needpool.analysis.models import AnalysisProject, ProjectMember
from needpool.analysis.permissions import visible_projects
from needpool.analysis.selectors import project_counts, project_get, project_requirements
from needpool.analysis.views.projects import scope_rows
from needpool.core.validation import parse_id
from needpool.customers.choices import Segment
from needpool.customers.permissions import visible_customers
from needpool.reports import metrics
from needpool.reports.document import Chart, Figure, Report, Section, Series, Table, Text
from needpool.reports.filters import ReportFilters, requirement_list_url
from needpool.requirements.choices import Priority, StatusCategory
from needpool.requirements.models import Feedback, Requirement

#: the customers listed under 范围内主要客户
TOP_CUSTOMERS = 10


def project_period(project: AnalysisProject, base: QuerySet[Requirement], today: dt.date) -> tuple[dt.date, dt.date]:
    """The submission period the figures count: the scope's period, else the earliest submission in scope (or
    the project's start) to today."""
    scope = project.scope or {}
    end = dt.date.fromisoformat(scope["period_end"]) if scope.get("period_end") else today
    if scope.get("period_start"):
        start = dt.date.fromisoformat(scope["period_start"])
    else:
        earliest = base.aggregate(at=Min("submitted_at"))["at"]
        start = timezone.localdate(earliest) if earliest is not None else project.start_date
    return min(start, end), end


def _about_section(project: AnalysisProject) -> Section:
    members = list(ProjectMember.objects.filter(project=project).select_related("user").order_by("id"))
    scope = scope_rows(project.scope or {})
    return Section(
        key="about",
        title=_("项目概况"),
        blocks=[
            Figure(key="leader", label=_("负责人"), value=str(project.leader)),
            Figure(
                key="period",
                label=_("项目周期"),
                value=f"{project.start_date.isoformat()} — {project.end_date.isoformat()}",
            ),
            Figure(key="members", label=_("成员"), value=len(members), unit="count"),
            Text(key="goal", title=_("分析目标"), body=project.goal),
            Text(
                key="scope",
                title=_("分析范围"),
                body="" if scope else _("不限（全部可见需求）"),
                items=[f"{label}：{value}" for label, value in scope],
            ),
            Table(
                key="team",
                title=_("项目团队"),
                columns=[_("成员"), _("职责")],
                rows=[[str(m.user), m.duty or "—"] for m in members],
                note="" if members else _("还没有成员"),
            ),
        ],
    )


def _fulfilment_section(numbers: dict[str, Any], filters: ReportFilters) -> Section:
    total, resolved = numbers.get("total", 0), numbers.get("resolved", 0)
    return Section(
        key="fulfilment",
        title=_("需求满足情况"),
        blocks=[
            Figure(key="total", label=_("需求总数"), value=total, unit="count", href=requirement_list_url(filters)),
            Figure(key="resolved", label=_("已解决"), value=resolved, unit="count"),
            Figure(
                key="fulfilment_rate",
                label=_("需求满足率"),
                value=numbers.get("fulfilment_rate"),
                unit="%",
                note=f"{resolved} / {total}" if total else "",
            ),
            Figure(key="sla_compliance", label=_("首次响应达标率"), value=numbers.get("sla_compliance"), unit="%"),
            Figure(
                key="first_response_avg_hours",
                label=_("平均首次响应"),
                value=numbers.get("first_response_avg_hours"),
                unit="h",
            ),
            Figure(
                key="lead_launch_avg_days", label=_("平均上线周期"), value=numbers.get("lead_launch_avg_days"), unit="d"
            ),
            Figure(
                key="overdue_requirements",
                label=_("逾期需求"),
                value=numbers.get("overdue_requirements"),
                unit="count",
            ),
            Figure(key="csat_avg", label=_("满意度平均分（CSAT）"), value=numbers.get("csat_avg"), unit="score"),
            Figure(key="nps", label=_("净推荐值（NPS）"), value=numbers.get("nps"), unit="score"),
        ],
    )


def _distribution_section(counts: dict[str, Any], numbers: dict[str, Any], filters: ReportFilters) -> Section:
    priorities = [p.value for p in Priority]
    by_priority = counts["by_priority"]
    p_labels = [*priorities, _("未定")]
    p_values = [by_priority.get(p, 0) for p in priorities] + [by_priority.get("", 0)]
    p_hrefs = [requirement_list_url(filters, priority=p) for p in priorities] + [""]
    by_status = counts["by_status"]
    s_keys = [c.value for c in StatusCategory]
    s_labels = [str(c.label) for c in StatusCategory]
    s_values = [by_status.get(k, 0) for k in s_keys]
    types = numbers.get("by_type") or []
    return Section(
        key="distribution",
        title=_("需求分布"),
        blocks=[
            Chart(
                key="by_priority",
                title=_("按优先级"),
                kind="bar",
                categories=p_labels,
                series=[Series(name=_("需求数"), values=p_values)],
                hrefs=p_hrefs,
                unit="count",
            ),
            Chart(
                key="by_status",
                title=_("按状态"),
                kind="pie",
                categories=s_labels,
                series=[Series(name=_("需求数"), values=s_values)],
                unit="count",
            ),
            Table(
                key="by_type",
                title=_("按需求类型"),
                columns=[_("需求类型"), _("需求数")],
                rows=[[label, n] for _key, label, n in types],
                hrefs=[["", requirement_list_url(filters, type=key) if key else ""] for key, _label, _n in types],
            ),
        ],
    )


def _customers_section(user: User, base: QuerySet[Requirement]) -> Section:
    rows = list(
        Feedback.objects.filter(requirement__in=base.values("pk"), customer__in=visible_customers(user))
        .values("customer_id", "customer__code", "customer__name", "customer__segment")
        .annotate(n=Count("requirement_id", distinct=True))
        .order_by("-n", "customer__code")[:TOP_CUSTOMERS]
    )
    segments = dict(Segment.choices)
    return Section(
        key="customers",
        title=_("范围内主要客户"),
        blocks=[
            Table(
                key="top_customers",
                title=_("需求最多的客户"),
                columns=[_("客户编号"), _("客户名称"), _("客户分层"), _("需求数")],
                rows=[
                    [r["customer__code"], r["customer__name"], str(segments.get(r["customer__segment"], "")), r["n"]]
                    for r in rows
                ],
                hrefs=[
                    [
                        reverse("reports:customer", args=[r["customer_id"]]),
                        reverse("reports:customer", args=[r["customer_id"]]),
                        "",
                        requirement_list_url(None, customer=r["customer_id"]),
                    ]
                    for r in rows
                ],
                note="" if rows else _("范围内的需求还没有客户反馈"),
            )
        ],
    )


def build(user: User, project: AnalysisProject, now: dt.datetime | None = None) -> Report:
    """The report of ``project`` as ``user`` may see it (Http404 for a project they may not see)."""
    now = now or timezone.now()
    if not visible_projects(user).filter(pk=project.pk).exists():
        raise Http404
    base = project_requirements(project, user=user)
    start, end = project_period(project, base, timezone.localdate(now))
    filters = ReportFilters(start=start, end=end, project=project.pk)
    counts = project_counts(project, user=user)
    numbers = metrics.summary(user=user, filters=filters, now=now)
    return Report(
        kind="project",
        title=_("分析项目报告 · %(name)s") % {"name": project.name},
        subtitle=project.goal.splitlines()[0][:120] if project.goal else "",
        scope=[
            _("分析项目 %(name)s") % {"name": project.name},
            _("需求提交 %(start)s 至 %(end)s") % {"start": start.isoformat(), "end": end.isoformat()},
        ],
        computed_at=now,
        sections=[
            _about_section(project),
            _fulfilment_section(numbers, filters),
            _distribution_section(counts, numbers, filters),
            _customers_section(user, base),
        ],
    )


def build_from_query(user: User, query: dict[str, Any]) -> Report:
    """The report for ``{"project": "<id>"}`` (the exporter's entry)."""
    raw = str(query.get("project") or "").strip()
    if not raw:
        raise ValidationError({"project": _("请指定分析项目。")}, code="required")
    pk = parse_id(raw)
    if pk is None:
        raise ValidationError({"project": _("分析项目 ID 无效。")}, code="invalid")
    return build(user, project_get(user=user, pk=pk), timezone.now())
