"""Exports of a report as a background job: start one, run it as the user who asked, find it again.

``report_export_start`` checks the kind and the format and queues a ``BackgroundJob`` (kind ``report_export``,
params ``{kind, format, query, language}``). The job (``report_export_run``, from ``reports.tasks``) builds the
report as the user who started it — the builder applies that user's permissions at the time it runs, so a
user who lost access gets a failed job, not the numbers — renders it, and keeps the file in the private
media storage (``reports/exports/``, never served under a public URL). Progress counts three steps: build,
render, save. Only the user who started an export sees its page and downloads its file; files older than
``NEEDPOOL_REPORT_EXPORT_KEEP_DAYS`` (7) are deleted by a nightly job.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.http import Http404
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from needpool.core.audit import audit_record
from needpool.core.jobs import beating, heartbeat, job_claim
from needpool.core.models import AuditEntry, BackgroundJob
from needpool.reports import registry
from needpool.reports.exports import CONTENT_TYPES, RENDERERS, export_filename

logger = logging.getLogger(__name__)

REPORT_EXPORT = "report_export"
FORMATS = {"pdf": "PDF", "xlsx": "Excel"}
STEPS = 3  # build, render, save
EXPORT_DIR = "reports/exports"
MAX_QUERY_KEYS = 30
MAX_QUERY_VALUE = 500
Status = BackgroundJob.Status


def keep_days() -> int:
    return int(getattr(settings, "NEEDPOOL_REPORT_EXPORT_KEEP_DAYS", 7))


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise ValidationError(_("导出格式只能是 PDF 或 Excel。"), code="format")
    return fmt


def clean_query(query: dict[str, Any]) -> dict[str, str]:
    """The report's parameters as short strings (a page's filters, nothing bigger)."""
    if len(query) > MAX_QUERY_KEYS:
        raise ValidationError(_("报表参数过多（最多 %(n)s 个）。") % {"n": MAX_QUERY_KEYS}, code="query")
    cleaned: dict[str, str] = {}
    for key, value in query.items():
        text = "" if value is None else str(value)
        if len(str(key)) > 60 or len(text) > MAX_QUERY_VALUE:
            raise ValidationError(_("报表参数“%(name)s”过长。") % {"name": str(key)[:60]}, code="query")
        cleaned[str(key)] = text
    return cleaned


def report_export_start(*, actor: Any, kind: str, fmt: str, query: dict[str, Any], back: str = "") -> BackgroundJob:
    """Queue the export of the report ``kind`` for ``query`` as ``fmt`` (pdf | xlsx), by ``actor``; ``back`` is
    the site path of the report page, for the job page's way back.

    Bad input (an unknown kind or format, oversized parameters) is refused with a message and nothing is
    written. Whether ``actor`` may see the report is decided when the job builds it, as ``actor``.
    """
    if not (actor and getattr(actor, "is_authenticated", False)):
        raise PermissionDenied(_("请先登录。"))
    registry.check_kind(kind)
    check_format(fmt)
    params = {
        "kind": kind,
        "format": fmt,
        "query": clean_query(query),
        "language": translation.get_language() or settings.LANGUAGE_CODE,
        "back": back if back.startswith("/") and not back.startswith("//") and len(back) <= 1000 else "",
    }
    with transaction.atomic():
        job = BackgroundJob.objects.create(
            kind=REPORT_EXPORT,
            total=STEPS,
            created_by=actor,
            params=params,
            message=_("%(report)s · %(format)s") % {"report": registry.label(kind), "format": FORMATS[fmt]},
        )
        audit_record(actor=actor, obj=job, action=AuditEntry.Action.CREATE, changes={"export": kind, "format": fmt})
        from needpool.reports.tasks import report_export_job

        transaction.on_commit(lambda: report_export_job(job.pk))
    return job


def _finish(job_id: int, *, status: str, message: str, **fields: Any) -> None:
    BackgroundJob.objects.filter(pk=job_id).update(
        status=status, message=message[:500], finished_at=timezone.now(), heartbeat_at=timezone.now(), **fields
    )


def report_export_run(*, job_id: int) -> None:
    """Build, render and keep the file of one export job; safe to run twice (a finished job is left alone)."""
    if not job_claim(job_id):
        return
    job = BackgroundJob.objects.select_related("created_by").get(pk=job_id)
    params = dict(job.params)
    user = job.created_by
    with translation.override(str(params.get("language") or settings.LANGUAGE_CODE)), beating(job_id):
        if user is None or not user.is_active:
            _finish(job_id, status=Status.FAILED, message=_("发起导出的用户已不存在或已停用。"))
            return
        fmt = str(params.get("format", ""))
        try:
            check_format(fmt)
            report = registry.build(str(params.get("kind", "")), user, dict(params.get("query") or {}))
            heartbeat(job_id, done=1, message=_("正在生成文件…"))
            data = RENDERERS[fmt](report)
            heartbeat(job_id, done=2, message=_("正在保存文件…"))
            filename = export_filename(report, fmt)
            stored = default_storage.save(f"{EXPORT_DIR}/{uuid.uuid4().hex}.{fmt}", ContentFile(data))
        except ValidationError as exc:
            reason = " ".join(str(m) for m in exc.messages)
            _finish(job_id, status=Status.FAILED, message=_("无法生成报表：%(reason)s") % {"reason": reason})
            return
        except (Http404, PermissionDenied):
            _finish(job_id, status=Status.FAILED, message=_("报表不存在或您无权查看。"))
            return
        except Exception:
            logger.exception("report export %s failed", job_id)
            _finish(job_id, status=Status.FAILED, message=_("生成文件时出错，请重试；问题持续请联系管理员。"))
            return
        params["result"] = {"file": stored, "filename": filename, "size": len(data), "title": str(report.title)}
        _finish(
            job_id,
            status=Status.DONE,
            done=STEPS,
            params=params,
            message=_("已生成“%(name)s”。") % {"name": filename},
        )


# ---------------------------------------------------------------- reads


def export_job_get(*, user: Any, pk: Any) -> BackgroundJob:
    """One export job of ``user`` (only its creator sees it; anyone else gets the same 404 as for none)."""
    if not (user and getattr(user, "is_authenticated", False)):
        raise Http404
    try:
        return BackgroundJob.objects.get(pk=pk, kind=REPORT_EXPORT, created_by=user)
    except (BackgroundJob.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def export_result(job: BackgroundJob) -> dict[str, Any] | None:
    """The kept file of a finished export, or None (not finished, failed, or already deleted)."""
    result = job.params.get("result") if job.status == Status.DONE else None
    if not isinstance(result, dict) or result.get("removed") or not result.get("file"):
        return None
    return result


def export_content_type(job: BackgroundJob) -> str:
    return CONTENT_TYPES.get(str(job.params.get("format")), "application/octet-stream")


# ---------------------------------------------------------------- clean-up


def report_exports_cleanup(*, now: dt.datetime | None = None) -> int:
    """Delete the files of exports finished more than ``keep_days()`` ago; how many were deleted."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=keep_days())
    removed = 0
    old = BackgroundJob.objects.filter(kind=REPORT_EXPORT, status=Status.DONE, finished_at__lt=cutoff)
    for job in old.order_by("pk").iterator():
        result = job.params.get("result")
        if not isinstance(result, dict) or result.get("removed") or not result.get("file"):
            continue
        default_storage.delete(result["file"])
        job.params = {**job.params, "result": {**result, "removed": True}}
        BackgroundJob.objects.filter(pk=job.pk).update(params=job.params)
        removed += 1
    return removed
