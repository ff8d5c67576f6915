"""Reads shared by every app."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from needpool.core.models import BackgroundJob, Notification
from needpool.core.permissions import visible_jobs


def notification_list(*, user: Any, kind: str = "", unread: bool = False) -> QuerySet[Notification]:
    """The user's own notifications, newest first (only one ``kind``, only the unread ones when asked)."""
    qs = Notification.objects.filter(recipient=user.pk)
    if kind:
        qs = qs.filter(kind=kind)
    if unread:
        qs = qs.filter(read_at__isnull=True)
    return qs.select_related("actor").order_by("-created_at", "-id")


def job_get(*, user: Any, pk: Any) -> BackgroundJob:
    """One background job the user may see (their own; an admin any); Http404 otherwise."""
    try:
        return visible_jobs(user).select_related("created_by", "retry_of").get(pk=pk)
    except (BackgroundJob.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def job_retry_of(*, user: Any, job: BackgroundJob) -> BackgroundJob | None:
    """The retry already started for ``job``, when the user may see it."""
    return visible_jobs(user).filter(retry_of=job).order_by("pk").first()
