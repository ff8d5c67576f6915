"""Reads of import jobs: a user sees their own; the progress of a running one comes from the side channel."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from django.http import Http404

from needpool.accounts.models import User
from needpool.core.models import BackgroundJob
from needpool.core.permissions import is_admin, visible_jobs
from needpool.customers.models import Customer
from needpool.customers.permissions import visible_customers
from needpool.intake.transfer.imports import progress
from needpool.intake.transfer.services import IMPORT_KINDS


def import_jobs(*, user: User | AnonymousUser) -> QuerySet[BackgroundJob]:
    if not (user and user.is_authenticated):
        return BackgroundJob.objects.none()
    return BackgroundJob.objects.filter(kind__in=IMPORT_KINDS, created_by=user.pk).order_by("-created_at", "-id")


def import_job_get(*, user: User | AnonymousUser, pk: Any) -> BackgroundJob:
    """One of the user's import jobs (an admin: anyone's, to review or undo it); Http404 for anyone else's
    (not found and forbidden look the same)."""
    jobs = visible_jobs(user).filter(kind__in=IMPORT_KINDS) if is_admin(user) else import_jobs(user=user)
    try:
        return jobs.select_related("created_by").get(pk=pk)
    except (BackgroundJob.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def import_job_progress(job: BackgroundJob) -> tuple[int, int]:
    """(done, total) of a job: from the side channel while it runs, else from the job row."""
    if job.status == BackgroundJob.Status.RUNNING:
        found = progress.read(job.pk)
        if found:
            return int(found.get("done") or 0), int(found.get("total") or 0)
    return int(job.done), int(job.total)


def customer_by_code(*, user: User | AnonymousUser, code: str) -> Customer | None:
    """A customer the user may see, by its code as typed on the mapping form (None when there is none)."""
    if not (user and user.is_authenticated) or not code:
        return None
    return visible_customers(user).filter(code__iexact=code.strip()[:30]).first()
