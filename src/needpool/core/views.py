"""Shared page helpers and the notifications page."""

from __future__ import annotations

from typing import TypeVar

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from needpool.core import jobs
from needpool.core.jobs import RETRYABLE
from needpool.core.models import BackgroundJob, Notification
from needpool.core.pagination import CappedPaginator
from needpool.core.permissions import can_retry_job
from needpool.core.selectors import job_get, job_retry_of, notification_list
from needpool.core.services import notifications_mark_read
from needpool.core.validation import parse_id

PAGE_SIZE = 25
M = TypeVar("M", bound=Model)


# ---------------------------------------------------------------- helpers used by every app's views


def paginate(
    request: HttpRequest, queryset: QuerySet[M], per_page: int | None = None, *, cap: int | None = None
) -> Page[M]:
    """The requested page (``?page=``, kept in the URL) of a bounded list; bad numbers give the nearest page.

    ``cap`` counts at most that many rows, shown as "1000+" (``core.pagination.count_cap`` picks it from the
    request: ``?count=exact`` asks for none).
    """
    per_page = per_page or PAGE_SIZE
    paginator = Paginator(queryset, per_page) if cap is None else CappedPaginator(queryset, per_page, cap=cap)
    return paginator.get_page(request.GET.get("page"))


def add_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Put a service's ValidationError back on the form: per-field where the form has that field."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            target = field if field in form.fields else None
            for error in errors:
                form.add_error(target, error)
    else:
        form.add_error(None, exc)


def error_text(exc: ValidationError) -> str:
    """All messages of a ValidationError as one line (for flash messages and JSON answers)."""
    return " ".join(str(message) for message in exc.messages)


def wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


# ---------------------------------------------------------------- pages


def healthz(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"ok": True})


def notifications(request: HttpRequest) -> HttpResponse:
    # A user's own notifications are the permission scope: nobody reads anyone else's.
    kind = request.GET.get("kind", "")
    kind = kind if kind in Notification.Kind.values else ""
    unread = request.GET.get("unread") == "1"
    page = paginate(request, notification_list(user=request.user, kind=kind, unread=unread))
    context = {
        "page_obj": page,
        "items": page.object_list,
        "kinds": Notification.Kind.choices,
        "kind": kind,
        "unread": unread,
    }
    return render(request, "core/notifications.html", context)


@require_POST
def notifications_read(request: HttpRequest) -> HttpResponse:
    raw = request.POST.get("id", "").strip()
    pk = parse_id(raw)
    ids = [pk] if pk is not None else None
    count = notifications_mark_read(actor=request.user, ids=ids)
    if ids is None:
        messages.success(request, _("已将 %(count)s 条通知标为已读。") % {"count": count})
    return redirect("core:notifications")


# ---------------------------------------------------------------- background jobs (any kind)


def job_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Any background job: its state, why it stopped, and "重试" when it was interrupted or failed."""
    job = job_get(user=request.user, pk=pk)
    context = {
        "job": job,
        "may_retry": job.status in RETRYABLE and can_retry_job(request.user, job),
        "retry": job_retry_of(user=request.user, job=job),
        "page": job_page_url(job) if jobs.job_page(job) != "core:job" else "",
    }
    return render(request, "core/job.html", context)


def job_page_url(job: BackgroundJob) -> str:
    name = jobs.job_page(job)
    try:
        return reverse(name, args=[job.pk])
    except NoReverseMatch:
        return reverse("core:job", args=[job.pk])


@require_POST
def job_retry(request: HttpRequest, pk: int) -> HttpResponse:
    job = job_get(user=request.user, pk=pk)
    try:
        retry = jobs.job_retry(actor=request.user, job=job)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return redirect(job_page_url(job))
    messages.success(request, _("已重新开始任务。"))
    return redirect(job_page_url(retry))
