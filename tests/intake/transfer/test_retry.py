"""An import whose worker died shows 已中断 with "重试"; the retry reads the stored sheet and imports it once."""

from __future__ import annotations

import pytest

from needpool.core.jobs import INTERRUPTED_MESSAGE
from needpool.core.models import BackgroundJob
from needpool.intake.transfer.services import IMPORT_RUN
from needpool.requirements.models import Requirement
from tests.conftest import PASSWORD
from tests.intake.transfer.conftest import INTAKE_HEADERS

pytestmark = pytest.mark.django_db


def _interrupted_run(user, settings, sheet, *, keep_file=True):
    path = sheet(
        [INTAKE_HEADERS, *[[f"RTY{i:03d}", "", "", "销售沟通", "功能", f"重试导入 {i}", "", "", ""] for i in range(3)]]
    )
    stored = settings.MEDIA_ROOT / "imports" / "r.xlsx"
    stored.parent.mkdir(parents=True, exist_ok=True)
    if keep_file:
        stored.write_bytes(path.read_bytes())
    return BackgroundJob.objects.create(
        kind=IMPORT_RUN,
        created_by=user,
        status=BackgroundJob.Status.INTERRUPTED,
        total=3,
        message=INTERRUPTED_MESSAGE,
        params={"file": "imports/r.xlsx", "filename": "r.xlsx", "layout": "intake", "options": {}},
    )


def test_the_import_page_offers_retry_and_the_retry_imports_the_stored_sheet(
    users, client, settings, sheet, django_capture_on_commit_callbacks
):
    job = _interrupted_run(users["sales"], settings, sheet)
    client.login(username="sales", password=PASSWORD)
    page = client.get(f"/intake/import/jobs/{job.pk}/").content.decode()
    assert "已中断" in page and "可点击重试" in page and 'id="job-retry"' in page
    assert "hx-trigger" not in page  # an interrupted job no longer polls
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/jobs/{job.pk}/retry/")
    retry = BackgroundJob.objects.get(retry_of=job)
    assert response["Location"] == f"/intake/import/jobs/{retry.pk}/"
    retry.refresh_from_db()
    assert retry.status == BackgroundJob.Status.DONE, retry.message
    assert Requirement.objects.filter(code__startswith="RTY").count() == 3
    # a second retry click changes nothing
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/jobs/{job.pk}/retry/")
    assert BackgroundJob.objects.filter(retry_of=job).count() == 1
    assert Requirement.objects.filter(code__startswith="RTY").count() == 3


def test_retry_is_refused_when_the_sheet_is_gone(users, client, settings, sheet):
    job = _interrupted_run(users["sales"], settings, sheet, keep_file=False)
    client.login(username="sales", password=PASSWORD)
    response = client.post(f"/jobs/{job.pk}/retry/", follow=True)
    assert "上传的文件已不存在，请重新上传。" in response.content.decode()
    assert not BackgroundJob.objects.filter(retry_of=job).exists()


def test_a_stale_task_of_an_interrupted_job_does_not_run_it(users, settings, sheet):
    from needpool.intake.transfer.services import import_run

    job = _interrupted_run(users["sales"], settings, sheet)
    import_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == BackgroundJob.Status.INTERRUPTED
    assert not Requirement.objects.filter(code__startswith="RTY").exists()
