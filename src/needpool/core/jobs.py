"""Background jobs that survive a crash: claim, heartbeat, recovery of what a dead worker left, retry.

A job's task claims its row (``job_claim``: queued or running → running, with a heartbeat) and beats while it
runs (``beating``: a small thread, every ``NEEDPOOL_JOB_HEARTBEAT_SECONDS``). The beat goes to a side channel
— the shared cache when it is Redis / Memcached, else a file in ``DATA_DIR/jobs/`` — because on SQLite a job
that writes in one long transaction holds the write lock, so nobody (itself included, from another
connection) could write the row's ``heartbeat_at`` meanwhile. Progress writes to the row also set
``heartbeat_at`` (``heartbeat``: one UPDATE).

When the worker starts and every minute (``core.tasks``), ``jobs_recover_stale`` marks INTERRUPTED each job
that runs (or was claimed) without a beat for ``NEEDPOOL_JOB_STALE_SECONDS``: the process that ran it is gone
(kill -9, out of memory, power cut). ``job_retry`` starts the same work again as a new job (``retry_of`` the
old one), with the stored parameters (the uploaded sheet, the version to recompute to, …).

Each app registers its job kinds (``register_job_kind``) in its ``tasks`` module: the task that runs a job id,
the page that shows one, and what must still hold for a retry (e.g. the uploaded file still exists).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext as _

from needpool.core.audit import audit_record
from needpool.core.models import AuditEntry, BackgroundJob
from needpool.core.permissions import can_retry_job

logger = logging.getLogger(__name__)

Status = BackgroundJob.Status
RETRYABLE = (Status.INTERRUPTED, Status.FAILED)
INTERRUPTED_MESSAGE = "任务在执行中被中断（进程退出），可点击重试"
_DROPPED_ON_RETRY = ("result", "run_job", "message_before", "file_removed")


def stale_after() -> dt.timedelta:
    return dt.timedelta(seconds=float(getattr(settings, "NEEDPOOL_JOB_STALE_SECONDS", 120)))


def beat_every() -> float:
    return float(getattr(settings, "NEEDPOOL_JOB_HEARTBEAT_SECONDS", 5))


# ---------------------------------------------------------------- the kinds


@dataclass(frozen=True)
class JobKind:
    kind: str
    task: Callable[[int], Any]
    page: str = ""  # URL name of the page that shows one job (takes ``pk``)
    check: Callable[[BackgroundJob], str | None] | None = None  # why a retry cannot run, or None


_KINDS: dict[str, JobKind] = {}


def register_job_kind(
    kind: str,
    *,
    task: Callable[[int], Any],
    page: str = "",
    check: Callable[[BackgroundJob], str | None] | None = None,
) -> None:
    _KINDS[kind] = JobKind(kind=kind, task=task, page=page, check=check)


def job_kind(kind: str) -> JobKind | None:
    if kind not in _KINDS:
        # The apps register in their ``tasks`` modules, which only the worker loads at start.
        autodiscover_modules("tasks")
    return _KINDS.get(kind)


# ---------------------------------------------------------------- claim and heartbeat


def job_claim(job_id: int, **fields: Any) -> bool:
    """Mark a queued (or re-delivered running) job as running, with a heartbeat; False when it must not run.

    A job already finished, failed or interrupted is left alone: an interrupted job is run again only by its
    retry (a new job), never by a stale copy of its task.
    """
    claimed = BackgroundJob.objects.filter(pk=job_id, status__in=(Status.QUEUED, Status.RUNNING)).update(
        status=Status.RUNNING, heartbeat_at=Now(), **fields
    )
    if claimed:
        side_beat(job_id)
    return bool(claimed)


def heartbeat(job_id: int, **fields: Any) -> None:
    """Progress and a heartbeat in one UPDATE of the job row."""
    BackgroundJob.objects.filter(pk=job_id).update(heartbeat_at=Now(), **fields)


def _uses_cache() -> bool:
    backend = str(settings.CACHES.get("default", {}).get("BACKEND", "")).lower()
    return "redis" in backend or "memcache" in backend


def _beat_path(job_id: int) -> Path:
    return Path(settings.DATA_DIR) / "jobs" / f"beat-{job_id}"


def side_beat(job_id: int) -> None:
    """The heartbeat outside the database (see the module's docstring)."""
    now = timezone.now().timestamp()
    if _uses_cache():
        cache.set(f"needpool:job-beat:{job_id}", now, 24 * 3600)
        return
    path = _beat_path(job_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()
    os.utime(path, (now, now))


def side_beat_at(job_id: int) -> dt.datetime | None:
    if _uses_cache():
        found = cache.get(f"needpool:job-beat:{job_id}")
        return dt.datetime.fromtimestamp(found, dt.UTC) if isinstance(found, int | float) else None
    try:
        return dt.datetime.fromtimestamp(_beat_path(job_id).stat().st_mtime, dt.UTC)
    except OSError:
        return None


def side_beat_clear(job_id: int) -> None:
    if _uses_cache():
        cache.delete(f"needpool:job-beat:{job_id}")
        return
    _beat_path(job_id).unlink(missing_ok=True)


def last_beat(job: BackgroundJob) -> dt.datetime | None:
    beats = [b for b in (job.heartbeat_at, side_beat_at(job.pk)) if b is not None]
    return max(beats) if beats else None


@contextmanager
def beating(job_id: int) -> Iterator[None]:
    """Beat for ``job_id`` from a small thread while the block runs (not in immediate mode: nothing to lose)."""
    side_beat(job_id)
    if getattr(settings, "HUEY", {}).get("immediate"):
        yield
        return
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(beat_every()):
            try:
                side_beat(job_id)
            except Exception:  # a missed beat must never break the job
                logger.warning("job %s: heartbeat not written", job_id, exc_info=True)

    thread = threading.Thread(target=beat, name=f"job-beat-{job_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=beat_every() + 1)
        side_beat_clear(job_id)


# ---------------------------------------------------------------- recovery


def jobs_recover_stale(*, now: dt.datetime | None = None) -> int:
    """Mark INTERRUPTED every running (or claimed) job whose heartbeat is older than the setting; how many."""
    now = now or timezone.now()
    cutoff = now - stale_after()
    candidates = BackgroundJob.objects.filter(
        Q(status=Status.RUNNING) | Q(status=Status.QUEUED, heartbeat_at__isnull=False)
    ).filter(Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=cutoff))
    recovered = 0
    for job in candidates.order_by("pk"):
        beat = last_beat(job) or job.created_at
        if beat >= cutoff:
            continue
        with transaction.atomic():
            changed = BackgroundJob.objects.filter(pk=job.pk, status=job.status).update(
                status=Status.INTERRUPTED,
                message=_(INTERRUPTED_MESSAGE),
                finished_at=now,
                params={**job.params, "message_before": job.message},
            )
            if changed:
                audit_record(
                    actor=None,
                    obj=job,
                    action=AuditEntry.Action.UPDATE,
                    changes={"status": (job.get_status_display(), str(Status.INTERRUPTED.label))},
                )
        if changed:
            side_beat_clear(job.pk)
            recovered += 1
    return recovered


# ---------------------------------------------------------------- retry


@transaction.atomic
def job_retry(*, actor: Any, job: BackgroundJob) -> BackgroundJob:
    """Run an interrupted or failed job again as a new job (``retry_of`` the old one), with its parameters.

    Its creator or an admin may; a second click returns the retry already started.
    """
    job = BackgroundJob.objects.select_for_update().get(pk=job.pk)
    if not can_retry_job(actor, job):
        raise PermissionDenied(_("只有任务的发起人或管理员可以重试。"))
    started = BackgroundJob.objects.filter(retry_of=job).order_by("pk").first()
    if started is not None:
        return started
    if job.status not in RETRYABLE:
        raise ValidationError(_("只有已中断或失败的任务可以重试。"))
    kind = job_kind(job.kind)
    if kind is None:
        raise ValidationError(_("这类任务不能重试。"))
    refusal = kind.check(job) if kind.check else None
    if refusal:
        raise ValidationError(refusal)
    params = {key: value for key, value in job.params.items() if key not in _DROPPED_ON_RETRY}
    retry = BackgroundJob.objects.create(
        kind=job.kind,
        total=job.total,
        params=params,
        created_by=job.created_by,
        message=str(job.params.get("message_before") or job.params.get("filename") or "")[:500],
        retry_of=job,
    )
    audit_record(
        actor=actor, obj=retry, action=AuditEntry.Action.CREATE, changes={"kind": job.kind, "retry_of": job.pk}
    )
    transaction.on_commit(lambda: kind.task(retry.pk))
    return retry


def job_page(job: BackgroundJob) -> str:
    """The URL name of the page that shows ``job`` (its app's page, else the shared one)."""
    kind = job_kind(job.kind)
    return kind.page if kind and kind.page else "core:job"


def job_state(job: BackgroundJob, user: Any) -> dict[str, Any]:
    """What every job page shows: whether the job stopped (done, failed or interrupted) and may be retried."""
    return {
        "job": job,
        "finished": job.status in (Status.DONE, *RETRYABLE),
        "failed": job.status in RETRYABLE,
        "may_retry": job.status in RETRYABLE and can_retry_job(user, job),
    }
