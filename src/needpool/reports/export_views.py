"""Export pages: start the export of a report (PDF / Excel), watch its progress, download the file."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from needpool.core.jobs import job_state
from needpool.core.models import BackgroundJob
from needpool.core.views import error_text
from needpool.reports import registry
from needpool.reports.export_jobs import (
    FORMATS,
    export_content_type,
    export_job_get,
    export_result,
    keep_days,
    report_export_start,
)

#: Form fields of the export buttons; every other field is one of the report's own parameters.
RESERVED = ("csrfmiddlewaretoken", "kind", "format", "next")


def _back(request: HttpRequest) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return reverse("reports:dashboard")


@require_POST
def export_start(request: HttpRequest) -> HttpResponse:
    query = {key: value for key, value in request.POST.items() if key not in RESERVED}
    try:
        job = report_export_start(
            actor=request.user,
            kind=request.POST.get("kind", ""),
            fmt=request.POST.get("format", ""),
            query=query,
            back=_back(request),
        )
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return redirect(_back(request))
    return redirect("reports:export_job", pk=job.pk)


def _context(request: HttpRequest, job: BackgroundJob) -> dict[str, object]:
    return {
        **job_state(job, request.user),
        "result": export_result(job),
        "report_label": registry.label(str(job.params.get("kind", ""))),
        "format_label": FORMATS.get(str(job.params.get("format", "")), ""),
        "keep_days": keep_days(),
        "back": str(job.params.get("back") or "") or reverse("reports:dashboard"),
    }


@require_GET
def export_job(request: HttpRequest, pk: int) -> HttpResponse:
    job = export_job_get(user=request.user, pk=pk)
    return render(request, "reports/export_job.html", _context(request, job))


@require_GET
def export_progress(request: HttpRequest, pk: int) -> HttpResponse:
    job = export_job_get(user=request.user, pk=pk)
    return render(request, "reports/_export_progress.html", _context(request, job))


@require_GET
def export_download(request: HttpRequest, pk: int) -> FileResponse:
    job = export_job_get(user=request.user, pk=pk)
    result = export_result(job)
    if result is None:
        raise Http404
    try:
        handle = default_storage.open(result["file"], "rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    return FileResponse(
        handle, as_attachment=True, filename=str(result.get("filename") or ""), content_type=export_content_type(job)
    )
