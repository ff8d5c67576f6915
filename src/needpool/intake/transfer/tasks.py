"""Background jobs of the import: they take the job id, call the service, and are safe to run twice."""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.utils.translation import gettext as _
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from needpool.core.dbstats import planner_statistics_refresh
from needpool.core.jobs import register_job_kind
from needpool.core.models import BackgroundJob
from needpool.intake.transfer.services import (
    IMPORT_PREVIEW,
    IMPORT_RUN,
    import_files_cleanup,
    import_preview,
    import_run,
)
from needpool.requirements.tasks import dedup_embeddings_job


@db_task()
def import_preview_job(job_id: int) -> None:
    import_preview(job_id=job_id)


#: An import of at least this many rows refreshes the planner's statistics when it ends (core.dbstats).
STATISTICS_AFTER_ROWS = 1000


@db_task()
def import_run_job(job_id: int) -> None:
    job = import_run(job_id=job_id)
    if job is None or job.status != BackgroundJob.Status.DONE:
        return
    if job.total >= STATISTICS_AFTER_ROWS:
        planner_statistics_refresh()
    if (job.params.get("result") or {}).get("counts", {}).get("create"):
        dedup_embeddings_job()  # the new rows' embeddings, computed once here rather than by every web process


@db_periodic_task(crontab(hour="3", minute="17"))
def import_files_cleanup_job() -> int:
    """Uploaded sheets previewed but never imported are deleted after a week."""
    return import_files_cleanup()


def _sheet_kept(job: BackgroundJob) -> str | None:
    """A retry reads the sheet uploaded for the job: it must still be there."""
    stored = job.params.get("file")
    if not stored or job.params.get("file_removed") or not default_storage.exists(stored):
        return _("上传的文件已不存在，请重新上传。")
    return None


register_job_kind(IMPORT_PREVIEW, task=import_preview_job, page="intake:import_job", check=_sheet_kept)
register_job_kind(IMPORT_RUN, task=import_run_job, page="intake:import_job", check=_sheet_kept)
