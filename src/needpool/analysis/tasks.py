"""Background jobs of the analysis desk."""

from __future__ import annotations

from django.utils import timezone
from huey.contrib.djhuey import db_task

from needpool.analysis.services import priorities_recompute
from needpool.core.jobs import beating, job_claim, register_job_kind
from needpool.core.models import BackgroundJob


@db_task()
def recompute_priorities(job_id: int) -> int:
    """Recompute priorities to the version recorded on the job; rerunning continues where it stopped."""
    job = BackgroundJob.objects.filter(pk=job_id).first()
    # Finished, failed or interrupted jobs are left alone (an interrupted one runs again only as its retry).
    if job is None or not job_claim(job_id):
        return 0
    try:
        with beating(job_id):
            done = priorities_recompute(version=int(job.params["version"]), job=job)
    except Exception as exc:
        BackgroundJob.objects.filter(pk=job_id).update(status=BackgroundJob.Status.FAILED, message=str(exc)[:500])
        raise
    BackgroundJob.objects.filter(pk=job_id).update(
        status=BackgroundJob.Status.DONE, finished_at=timezone.now(), done=job.total
    )
    return done


register_job_kind("priority_recompute", task=recompute_priorities, page="analysis:job")
