"""Exporting the dashboard in a real browser: 导出 PDF / 导出 Excel start the job, its page shows it finished
with the download, and the downloaded files hold the dashboard's numbers."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from needpool.reports import metrics
from tests.archive.pdftext import pdf_text
from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in
from tests.e2e.helpers import assert_no_horizontal_overflow, screenshot
from tests.reports.sample_report import full_report


@pytest.mark.parametrize(("width", "height"), [(1366, 768), (390, 844)])
def test_export_the_dashboard_as_pdf_and_excel(
    page: Any, users: Any, monkeypatch: Any, width: int, height: int
) -> None:
    seen: list[dict[str, Any]] = []

    def dashboard(**kwargs: Any) -> Any:
        seen.append(kwargs)
        return full_report()

    monkeypatch.setattr(metrics, "dashboard", dashboard)
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, "manager", PASSWORD)
    page.goto(page.base_url + "/reports/?start=2026-11-01&end=2026-11-30")
    page.locator("#report-export-pdf").click()
    page.wait_for_url("**/reports/exports/*/")
    expect(page.locator("#job-status")).to_contain_text("已完成")
    download_link = page.locator("#export-download")
    expect(download_link).to_contain_text(".pdf")
    assert_no_horizontal_overflow(page, width)
    screenshot(page, f"reports-export-job-{width}")
    assert seen[-1]["user"].username == "manager"
    assert seen[-1]["filters"].start.isoformat() == "2026-11-01"
    with page.expect_download() as info:
        download_link.click()
    pdf = Path(info.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF") and "需求仪表盘" in pdf_text(pdf)

    page.go_back()
    page.goto(page.base_url + "/reports/?start=2026-11-01&end=2026-11-30")
    page.locator("#report-export-xlsx").click()
    page.wait_for_url("**/reports/exports/*/")
    with page.expect_download() as info:
        page.locator("#export-download").click()
    book = load_workbook(io.BytesIO(Path(info.value.path()).read_bytes()))
    assert book.sheetnames[0] == "概览"
