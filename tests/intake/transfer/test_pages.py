"""The import pages: upload → preview job → import job with a progress bar; permissions; the nav entry."""

from __future__ import annotations

import re

import pytest

from needpool.core.models import BackgroundJob
from needpool.intake.transfer.imports import progress
from needpool.requirements.models import Requirement
from tests.conftest import PASSWORD
from tests.intake.transfer.conftest import INTAKE_HEADERS

pytestmark = pytest.mark.django_db


def _signed_in(client, user):
    client.login(username=user.username, password=PASSWORD)
    return client


def _upload(client, path, capture, **data):
    with capture(execute=True), open(path, "rb") as stream:
        return client.post("/intake/import/", {"file": stream, "layout": "", "apply_status": "on", **data})


def test_viewer_and_engineer_cannot_import_and_do_not_see_the_entry(users, client):
    for role in ("viewer", "engineer"):
        _signed_in(client, users[role])
        assert client.get("/intake/import/").status_code == 403
        assert 'id="nav-import"' not in client.get("/").content.decode()
    _signed_in(client, users["sales"])
    assert 'id="nav-import"' in client.get("/").content.decode()
    assert client.get("/intake/import/").status_code == 200


def test_viewer_cannot_post_a_file(users, client, sheet, django_capture_on_commit_callbacks):
    _signed_in(client, users["viewer"])
    path = sheet([INTAKE_HEADERS, ["DEM1", "", "", "", "", "x", "", "", ""]])
    assert _upload(client, path, django_capture_on_commit_callbacks).status_code == 403
    assert not BackgroundJob.objects.exists()


def test_upload_preview_then_import(users, customer, client, sheet, django_capture_on_commit_callbacks):
    _signed_in(client, users["sales"])
    path = sheet(
        [
            [*INTAKE_HEADERS, "内部备注"],
            [
                "DEM20240301001",
                "A科技公司",
                "王总",
                "销售沟通",
                "功能优化",
                "批量折扣",
                "2024-06-30",
                "批量操作",
                "2024-03-01",
                "x",
            ],
        ]
    )
    response = _upload(client, path, django_capture_on_commit_callbacks)
    assert response.status_code == 302
    preview = BackgroundJob.objects.get(kind="import_preview")
    assert response["Location"] == f"/intake/import/jobs/{preview.pk}/"
    assert preview.status == "done"
    assert not Requirement.objects.exists()
    page = client.get(response["Location"]).content.decode()
    assert "客户需求信息表" in page
    assert 'id="count-create">1<' in page
    assert "内部备注" in page  # listed as ignored
    assert 'data-action="create"' in page
    assert 'id="run-import-button"' in page

    with django_capture_on_commit_callbacks(execute=True):
        run = client.post(f"/intake/import/jobs/{preview.pk}/run/")
    job = BackgroundJob.objects.get(kind="import_run")
    assert run["Location"] == f"/intake/import/jobs/{job.pk}/"
    assert job.status == "done" and job.done == job.total == 1
    assert Requirement.objects.filter(code="DEM20240301001").exists()
    done_page = client.get(run["Location"]).content.decode()
    assert "导入完成" in done_page and "100%" in done_page
    # A second click does not import twice.
    again = client.post(f"/intake/import/jobs/{preview.pk}/run/")
    assert again["Location"] == run["Location"]
    assert BackgroundJob.objects.filter(kind="import_run").count() == 1


def test_preview_with_errors_lists_them_and_cannot_be_imported(
    users, customer, client, sheet, django_capture_on_commit_callbacks
):
    _signed_in(client, users["sales"])
    path = sheet([INTAKE_HEADERS, ["DEM1", "A科技公司", "王" * 61, "", "", "x", "2024-02-30", "", ""]])
    response = _upload(client, path, django_capture_on_commit_callbacks)
    preview = BackgroundJob.objects.get()
    page = client.get(response["Location"]).content.decode()
    rows = re.findall(r'<tr class="error-row" data-row="(\d+)">', page)
    assert rows == ["2", "2"]
    assert "王" * 61 in page and "2024-02-30" in page and "日期不存在" in page
    assert 'id="run-import-button"' not in page
    refused = client.post(f"/intake/import/jobs/{preview.pk}/run/", follow=True)
    assert "预览中有错误" in refused.content.decode()
    assert not BackgroundJob.objects.filter(kind="import_run").exists()


def test_unreadable_file_fails_the_preview_with_the_reason(users, client, sheet, django_capture_on_commit_callbacks):
    _signed_in(client, users["sales"])
    path = sheet([["姓名", "年龄"], ["张三", 30]])
    response = _upload(client, path, django_capture_on_commit_callbacks)
    job = BackgroundJob.objects.get()
    assert job.status == "failed"
    assert "没有找到可识别的表头" in client.get(response["Location"]).content.decode()


def test_bad_file_type_and_empty_file_are_refused_on_the_form(
    users, client, tmp_path, django_capture_on_commit_callbacks
):
    _signed_in(client, users["sales"])
    bad = tmp_path / "notes.pdf"
    bad.write_bytes(b"%PDF")
    response = _upload(client, bad, django_capture_on_commit_callbacks)
    assert response.status_code == 400
    assert "不支持的文件类型" in response.content.decode()
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert _upload(client, empty, django_capture_on_commit_callbacks).status_code == 400
    assert not BackgroundJob.objects.exists()


def test_someone_elses_job_is_not_found(users, client, sheet, django_capture_on_commit_callbacks):
    _signed_in(client, users["sales"])
    _upload(client, sheet([INTAKE_HEADERS]), django_capture_on_commit_callbacks)
    job = BackgroundJob.objects.get()
    _signed_in(client, users["service"])
    assert client.get(f"/intake/import/jobs/{job.pk}/").status_code == 404
    assert client.post(f"/intake/import/jobs/{job.pk}/run/").status_code == 404


def test_progress_of_a_running_job_comes_from_the_side_channel(users, client, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    _signed_in(client, users["sales"])
    job = BackgroundJob.objects.create(
        kind="import_run", status="running", created_by=users["sales"], params={"filename": "a.xlsx"}
    )
    progress.report(job.pk, done=40, total=160)
    if "redis" not in settings.CACHES["default"]["BACKEND"].lower():
        assert (tmp_path / "jobs" / f"import-{job.pk}.json").exists()
    partial = client.get(f"/intake/import/jobs/{job.pk}/progress/").content.decode()
    assert "40 / 160" in partial and "25%" in partial
    assert 'hx-trigger="every 1s"' in partial
    BackgroundJob.objects.filter(pk=job.pk).update(status="done", done=160, total=160)
    progress.clear(job.pk)
    finished = client.get(f"/intake/import/jobs/{job.pk}/progress/", HTTP_HX_REQUEST="true")
    assert finished.status_code == 204 and finished["HX-Refresh"] == "true"


def test_export_buttons_carry_the_list_filters(users, client):
    _signed_in(client, users["sales"])
    page = client.get("/requirements/?urgency=1&sort=code").content.decode()
    assert "/intake/export/requirements/intake.xlsx?urgency=1&amp;sort=code" in page
    customers = client.get("/customers/?segment=potential").content.decode()
    assert "/intake/export/customers.csv?segment=potential" in customers
    assert "/intake/export/interactions.xlsx?segment=potential" in customers


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_all_or_nothing_with_real_commits(users, customer, client, sheet):
    """Outside a test transaction: the good rows of a failing sheet are really rolled back."""
    _signed_in(client, users["sales"])
    good = [["DEM-A", "A科技公司", "", "", "", "好的一行", "", "", ""]]
    path = sheet([INTAKE_HEADERS, *good, ["DEM-B", "A科技公司", "", "", "", "", "", "", ""]])
    with open(path, "rb") as stream:
        response = client.post("/intake/import/", {"file": stream})
    preview = BackgroundJob.objects.get()
    assert preview.status == "done" and preview.params["result"]["error_total"] == 1
    assert not Requirement.objects.exists()
    # Run the import job directly (the page refuses a preview with errors): nothing is written.
    from needpool.intake.transfer.services import IMPORT_RUN, import_run

    run = BackgroundJob.objects.create(
        kind=IMPORT_RUN, created_by=users["sales"], params={**preview.params, "layout": "intake"}
    )
    import_run(job_id=run.pk)
    run.refresh_from_db()
    assert run.status == "failed" and "未写入任何数据" in run.message
    assert not Requirement.objects.exists()
    ok = sheet([INTAKE_HEADERS, *good])
    with open(ok, "rb") as stream:
        response = client.post("/intake/import/", {"file": stream})
    preview = BackgroundJob.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))
    client.post(f"/intake/import/jobs/{preview.pk}/run/")
    assert Requirement.objects.filter(code="DEM-A").count() == 1


def test_sheets_never_imported_are_deleted_after_a_week(users, client, sheet, django_capture_on_commit_callbacks):
    import datetime as dt

    from django.core.files.storage import default_storage
    from django.utils import timezone

    from needpool.intake.transfer.services import import_files_cleanup

    _signed_in(client, users["sales"])
    _upload(client, sheet([INTAKE_HEADERS]), django_capture_on_commit_callbacks)
    job = BackgroundJob.objects.get()
    assert default_storage.exists(job.params["file"])
    assert import_files_cleanup() == 0
    BackgroundJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - dt.timedelta(days=8))
    assert import_files_cleanup() == 1
    assert not default_storage.exists(job.params["file"])
    refused = client.post(f"/intake/import/jobs/{job.pk}/run/", follow=True)
    assert "重新上传" in refused.content.decode()


def test_the_import_page_in_english_lists_the_english_headers(users, client):
    _signed_in(client, users["sales"])
    client.cookies["django_language"] = "en"
    page = client.get("/intake/import/").content.decode()
    assert "Requirement ID" in page and "Last contact" in page
