"""The analysis-project report page (分析项目报告): the project's page links here."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from needpool.accounts.models import acting_user
from needpool.analysis.selectors import project_get
from needpool.reports import project_report


def project_report_page(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request.user)
    project = project_get(user=user, pk=pk)
    report = project_report.build(user, project, timezone.now())
    context = {"report": report, "project": project, "export_query": {"project": str(project.pk)}}
    return render(request, "reports/project_report.html", context)
