"""The monthly review exported from its page: the buttons post the month, the workbook holds the review's
figures and sheets, the PDF its Chinese text; a reader without the whole team's view gets no file."""

from __future__ import annotations

import io
from typing import Any

from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from needpool.core.models import BackgroundJob
from needpool.reports.export_jobs import REPORT_EXPORT
from tests.archive.pdftext import pdf_text
from tests.reports.monthly_helpers import mocked_summary

START = reverse("reports:export_start")


def export(client: Client, capture: Any, fmt: str, month: str) -> BackgroundJob:
    with mocked_summary(), capture(execute=True):
        client.post(START, {"kind": "monthly", "format": fmt, "month": month})
    return BackgroundJob.objects.filter(kind=REPORT_EXPORT).latest("pk")


def download(client: Client, job: BackgroundJob) -> bytes:
    return b"".join(client.get(reverse("reports:export_download", args=[job.pk])).streaming_content)


def test_the_review_page_offers_the_exports_of_its_month(client: Client, users: dict[str, Any]) -> None:
    client.force_login(users["manager"])
    with mocked_summary():
        html = client.get("/reports/monthly/2026-11/").content.decode()
    assert 'id="report-export-monthly"' in html
    assert '<input type="hidden" name="kind" value="monthly">' in html
    assert '<input type="hidden" name="month" value="2026-11">' in html


def test_the_workbook_holds_the_reviews_figures_and_tables(
    client: Client, users: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(users["manager"])
    job = export(client, django_capture_on_commit_callbacks, "xlsx", "2026-11")
    assert job.status == BackgroundJob.Status.DONE, job.message
    book = load_workbook(io.BytesIO(download(client, job)))
    cells = [str(c) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for c in row if c]
    assert "需求满足率" in cells and "本月 30% 的需求为功能优化（6/20）" in " ".join(cells)
    assert "DEM20261110001" in cells and "批量操作" in cells


def test_the_pdf_carries_the_review_in_chinese(
    client: Client, users: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(users["manager"])
    job = export(client, django_capture_on_commit_callbacks, "pdf", "2026-11")
    assert job.status == BackgroundJob.Status.DONE, job.message
    body = download(client, job)
    assert body.startswith(b"%PDF")
    text = "".join(pdf_text(body).split())
    for words in ("2026年11月需求复盘", "需求满足率", "本月30%的需求为功能优化（6/20）", "团队结论", "DEM20261110001"):
        assert words in text, words


def test_a_bad_month_or_a_reader_without_the_whole_view_gets_no_file(
    client: Client, users: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(users["manager"])
    job = export(client, django_capture_on_commit_callbacks, "xlsx", "2026-13")
    assert job.status == BackgroundJob.Status.FAILED and "格式应为 YYYY-MM" in job.message
    job = export(client, django_capture_on_commit_callbacks, "xlsx", "2999-01")
    assert job.status == BackgroundJob.Status.FAILED and "尚未开始" in job.message
    client.force_login(users["sales"])
    job = export(client, django_capture_on_commit_callbacks, "xlsx", "2026-11")
    assert job.status == BackgroundJob.Status.FAILED and job.created_by_id == users["sales"].pk
