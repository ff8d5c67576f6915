"""A 100,000-row sheet through the preview job (slow: run with NEEDPOOL_RUN_SLOW=1 or ``-m slow``).

NEEDPOOL_SLOW_ROWS changes the size. Timings are measured in bench/bench_import.py, never asserted here.
"""

from __future__ import annotations

import os

import pytest
from django.core.files.storage import default_storage
from openpyxl import Workbook

from needpool.core.models import BackgroundJob
from needpool.intake.transfer.imports import progress
from needpool.intake.transfer.services import IMPORT_PREVIEW, import_preview
from needpool.requirements.models import Requirement
from tests.intake.transfer.conftest import INTAKE_HEADERS

ROWS = int(os.environ.get("NEEDPOOL_SLOW_ROWS", "100000"))


@pytest.mark.slow
@pytest.mark.django_db
def test_a_100k_row_sheet_previews_as_a_job_with_progress_and_bounded_results(users, customer, tmp_path, monkeypatch):
    path = tmp_path / "big.xlsx"
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("客户需求信息表")
    sheet.append(INTAKE_HEADERS)
    for i in range(ROWS):
        sheet.append([f"BIG{i:06d}", "A科技公司", "王总", "销售沟通", "功能", f"第 {i} 条需求", "2024年Q2", "", ""])
    sheet.append(["BAD", "A科技公司", "", "", "功能", "", "", "", ""])  # the last row has an error
    workbook.save(path)
    with open(path, "rb") as stream:
        stored = default_storage.save("imports/big.xlsx", stream)
    job = BackgroundJob.objects.create(
        kind=IMPORT_PREVIEW, created_by=users["sales"], params={"file": stored, "filename": "big.xlsx", "layout": ""}
    )
    reports: list[tuple[int, int]] = []
    original = progress.report

    def spy(job_id: int, *, done: int, total: int, phase: str = "") -> None:
        reports.append((done, total))
        original(job_id, done=done, total=total, phase=phase)

    monkeypatch.setattr(progress, "report", spy)
    import_preview(job_id=job.pk)
    job.refresh_from_db()
    result = job.params["result"]
    assert job.status == "done"
    assert result["counts"] == {"create": ROWS, "update": 0, "unchanged": 0, "error": 1}
    assert result["errors"][0]["row"] == ROWS + 2
    assert len(result["rows"]) == 200  # the page shows the first rows; every row is counted
    assert reports[-1] == (ROWS + 1, ROWS + 1) and len(reports) > ROWS // 100
    assert not Requirement.objects.exists()
