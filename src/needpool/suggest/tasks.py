"""Background jobs of the suggestions: train on request, after enough decisions, and every night."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from needpool.core.jobs import beating, job_claim, register_job_kind
from needpool.core.models import BackgroundJob
from needpool.suggest import conf, services
from needpool.suggest.models import ModelKind, SuggestModel


def _summary(results: dict[str, SuggestModel | str]) -> str:
    reasons = {"too_few": _("样本不足，继续使用规则"), "unchanged": _("数据没有变化，未重新训练")}
    parts = []
    for kind, result in results.items():
        title = ModelKind(kind).label
        if isinstance(result, SuggestModel):
            parts.append(
                _("%(kind)s v%(version)s：留出 %(accuracy).3f，规则 %(baseline).3f%(state)s")
                % {
                    "kind": title,
                    "version": result.version,
                    "accuracy": result.accuracy or 0.0,
                    "baseline": result.baseline_accuracy or 0.0,
                    "state": "" if result.is_active else _("（不如规则，未启用）"),
                }
            )
        else:
            parts.append(f"{title}：{reasons.get(result, result)}")
    return _("；").join(parts)[:500]


def run_training_job(job_id: int) -> int:
    """Train every kind for the job; safe to run twice (a finished job is left alone)."""
    job = BackgroundJob.objects.filter(pk=job_id, kind=services.JOB_KIND).first()
    if job is None or not job_claim(job_id, done=0):
        return 0
    try:
        with beating(job_id):
            results = services.models_train(actor=job.created_by, job=job, force=bool(job.params.get("force", False)))
    except Exception as exc:
        BackgroundJob.objects.filter(pk=job_id).update(status=BackgroundJob.Status.FAILED, message=str(exc)[:500])
        raise
    BackgroundJob.objects.filter(pk=job_id).update(
        status=BackgroundJob.Status.DONE, finished_at=timezone.now(), done=job.total, message=_summary(results)
    )
    return sum(isinstance(r, SuggestModel) for r in results.values())


@db_task()
def train_models(job_id: int) -> int:
    return run_training_job(job_id)


register_job_kind(services.JOB_KIND, task=train_models, page="suggest:job")


@db_task()
def retrain_if_due() -> int:
    """After enough accepted / corrected suggestions, train again (one job at a time)."""
    if not services.retrain_due():
        return 0
    job = services.training_job_create(reason="outcomes")
    return run_training_job(job.pk)


@db_periodic_task(crontab(hour=str(conf.nightly_hour()), minute="17"))
def nightly_training() -> int:
    """Every night: train on what was labelled since (kinds whose data did not change are skipped)."""
    job = services.training_job_create(reason="nightly")
    return run_training_job(job.pk)
