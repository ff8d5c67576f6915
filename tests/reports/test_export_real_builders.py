"""Exports through the registered builders: the workbook holds the very figures the report shows, and a reader
outside a report's scope gets a failed job instead of its numbers."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from needpool.accounts.models import User
from needpool.core.models import BackgroundJob
from needpool.reports import registry
from needpool.reports.export_jobs import REPORT_EXPORT

START = reverse("reports:export_start")


def export(client: Client, capture: Any, kind: str, fmt: str, **query: str) -> BackgroundJob:
    with capture(execute=True):
        client.post(START, {"kind": kind, "format": fmt, **query})
    return BackgroundJob.objects.filter(kind=REPORT_EXPORT).latest("pk")


def overview_figures(client: Client, job: BackgroundJob) -> dict[str, Any]:
    body = b"".join(client.get(reverse("reports:export_download", args=[job.pk])).streaming_content)
    found = [list(row) for row in load_workbook(io.BytesIO(body))["概览"].iter_rows(values_only=True)]
    header = found.index(["指标", "数值", "单位", "说明", "所属部分"])
    return {row[0]: row[1] for row in found[header + 1 :] if row[0] and row[4]}


def as_cell(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bool):
        return "是" if value else "否"
    return value


@pytest.mark.parametrize("who", ["manager", "sales"])
def test_the_dashboard_workbook_holds_the_dashboards_figures(
    client: Client, users: dict[str, User], pool: dict[str, Any], django_capture_on_commit_callbacks: Any, who: str
) -> None:
    query = {"start": "2023-01-01", "end": "2026-12-31"}
    client.force_login(users[who])
    job = export(client, django_capture_on_commit_callbacks, "dashboard", "xlsx", **query)
    assert job.status == BackgroundJob.Status.DONE, job.message
    expected = registry.build("dashboard", users[who], query)
    figures = [f for s in expected.sections for f in s.figures()]
    assert figures
    exported = overview_figures(client, job)
    for figure in figures:
        assert exported[str(figure.label)] == pytest.approx(as_cell(figure.value)), figure.key


def test_a_customer_report_outside_the_readers_scope_fails_the_job(
    client: Client, users: dict[str, User], customer: Any, other_sales: User, django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(other_sales)
    job = export(client, django_capture_on_commit_callbacks, "customer", "pdf", customer=customer.code)
    assert job.status == BackgroundJob.Status.FAILED
    assert job.message == "报表不存在或您无权查看。"
    assert "result" not in job.params
    client.force_login(users["sales"])
    job = export(client, django_capture_on_commit_callbacks, "customer", "pdf", customer=customer.code)
    assert job.status == BackgroundJob.Status.DONE, job.message


def test_a_customer_report_without_a_customer_says_what_is_missing(
    client: Client, users: dict[str, User], django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(users["manager"])
    job = export(client, django_capture_on_commit_callbacks, "customer", "xlsx")
    assert job.status == BackgroundJob.Status.FAILED
    assert job.message == "无法生成报表：请指定客户（编号或 ID）。"
