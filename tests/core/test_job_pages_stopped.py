"""Analysis and training job pages: an interrupted or failed job stops polling and offers "重试"."""

from __future__ import annotations

from typing import Any

import pytest

from needpool.core.models import BackgroundJob

pytestmark = pytest.mark.django_db

PAGES = [("priority_recompute", "/analysis/jobs/{pk}/progress/"), ("suggest_train", "/suggest/jobs/{pk}/progress/")]


@pytest.mark.parametrize(("kind", "path"), PAGES)
@pytest.mark.parametrize("status", [BackgroundJob.Status.INTERRUPTED, BackgroundJob.Status.FAILED])
def test_stopped_job_stops_polling_and_offers_retry(client: Any, users: dict[str, Any], kind, path, status) -> None:
    admin = users["admin"]
    job = BackgroundJob.objects.create(kind=kind, status=status, created_by=admin, total=10, done=4)
    client.force_login(admin)
    html = client.get(path.format(pk=job.pk)).content.decode()
    assert "hx-trigger" not in html
    assert 'id="job-retry"' in html
    assert f"/jobs/{job.pk}/retry/" in html


@pytest.mark.parametrize(("kind", "path"), PAGES)
def test_running_job_polls_without_retry(client: Any, users: dict[str, Any], kind, path) -> None:
    admin = users["admin"]
    job = BackgroundJob.objects.create(kind=kind, status=BackgroundJob.Status.RUNNING, created_by=admin, total=10)
    client.force_login(admin)
    html = client.get(path.format(pk=job.pk)).content.decode()
    assert "hx-trigger" in html
    assert 'id="job-retry"' not in html
