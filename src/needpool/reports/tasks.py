"""Background jobs of the reports: exporting a report (PDF / Excel) and deleting old export files."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from needpool.core.jobs import register_job_kind
from needpool.reports.export_jobs import REPORT_EXPORT, report_export_run, report_exports_cleanup


@db_task()
def report_export_job(job_id: int) -> None:
    report_export_run(job_id=job_id)


@db_periodic_task(crontab(hour="3", minute="41"))
def report_exports_cleanup_job() -> int:
    """Export files are kept for a week (NEEDPOOL_REPORT_EXPORT_KEEP_DAYS), then deleted."""
    return report_exports_cleanup()


register_job_kind(REPORT_EXPORT, task=report_export_job, page="reports:export_job")
