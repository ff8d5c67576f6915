"""Background jobs of the import: they take the job id, call the service, and are safe to run twice."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from needpool.intake.transfer.services import import_files_cleanup, import_preview, import_run


@db_task()
def import_preview_job(job_id: int) -> None:
    import_preview(job_id=job_id)


@db_task()
def import_run_job(job_id: int) -> None:
    import_run(job_id=job_id)


@db_periodic_task(crontab(hour="3", minute="17"))
def import_files_cleanup_job() -> int:
    """Uploaded sheets previewed but never imported are deleted after a week."""
    return import_files_cleanup()
