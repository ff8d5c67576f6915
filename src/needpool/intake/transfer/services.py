"""Import use-cases: upload a sheet, preview it (a dry run), run it (all or nothing), as background jobs.

The preview runs the real import — the same handlers, the same domain services, the same validation,
the same database constraints — inside a transaction that is always rolled back, so what it reports
is exactly what the import will do. The import runs the rows again in one transaction and commits only
when no row has an error; otherwise nothing is written and the job lists every error.

Each row runs inside a savepoint: a failing row is rolled back on its own, so the rows after it are
still checked (every error of the sheet is reported, not just the first).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import DatabaseError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from needpool.accounts.models import User
from needpool.core.audit import audit_record
from needpool.core.jobs import beating, job_claim
from needpool.core.models import AuditEntry, BackgroundJob
from needpool.core.permissions import user_can
from needpool.core.text import human_join
from needpool.intake.transfer.imports import progress
from needpool.intake.transfer.imports.handlers import HANDLERS, CellError, ImportOptions, Lookups, RowFailed, RowOutcome
from needpool.intake.transfer.imports.journal import recorded_run
from needpool.intake.transfer.imports.layouts import LAYOUTS
from needpool.intake.transfer.imports.mapping import (
    Mapping,
    apply_mapping,
    clean_mapping,
    mapping_from_params,
    mapping_to_params,
    needs_confirmation,
    proposals,
    remembered_mapping,
    scan,
    scanned_texts,
)
from needpool.intake.transfer.imports.reading import (
    SPREADSHEET_EXTENSIONS,
    TEXT_EXTENSIONS,
    SheetError,
    check_formulas,
    column_letter,
    data_rows,
    find_header,
    ignored_columns,
    read_file,
    row_ranges,
    skipped_rows,
)
from needpool.intake.transfer.imports.snapshot import private_database
from needpool.intake.transfer.imports.staging import Hooks, hold_after_commit, staged_import
from needpool.intake.transfer.permissions import can_import
from needpool.notify.kinds import EventKind
from needpool.notify.services import emit

IMPORT_PREVIEW = "import_preview"
IMPORT_RUN = "import_run"
IMPORT_KINDS = (IMPORT_PREVIEW, IMPORT_RUN)
PREVIEW_ROWS = 200  # rows shown one by one on the preview page; every row is counted and checked
MAX_ERRORS = 2000  # errors kept for the page (all are counted)
PROGRESS_EVERY = 50
PREPARE_EVERY = 500  # rows whose records are read ahead together, and whose new records are written together
UPLOAD_DIR = "imports"


def max_upload_bytes() -> int:
    return int(getattr(settings, "NEEDPOOL_IMPORT_MAX_BYTES", 50 * 1024 * 1024))


# ---------------------------------------------------------------- one run


@dataclass
class ImportResult:
    layout: str
    header_row: int
    columns: list[dict[str, str]]
    ignored: list[str]
    total: int = 0
    counts: dict[str, int] = field(default_factory=lambda: {"create": 0, "update": 0, "unchanged": 0, "error": 0})
    rows: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    error_total: int = 0
    warning_total: int = 0
    encoding: str = ""
    sheet: str = ""  # the sheet read, in a workbook
    sheets: list[str] = field(default_factory=list)  # the workbook's sheets with a recognisable header
    hidden_rows: list[list[int]] = field(default_factory=list)  # hidden rows skipped: [first, last] ranges
    hidden_row_count: int = 0
    hidden_columns: list[dict[str, str]] = field(default_factory=list)  # hidden columns ignored: letter, header
    # Rows (not in error) flagged for the preview: created but not standardised, values read by interpretation.
    flag_counts: dict[str, int] = field(default_factory=lambda: {"not_standardised": 0, "interpreted": 0})
    rows_selected: bool = False  # some plain rows were left out of ``rows`` for rows with errors or flags
    plain_kept: int = 0  # rows in ``rows`` without errors or flags
    diff_columns: dict[str, dict[str, Any]] = field(default_factory=dict)  # column key → differences in all rows
    mapping: list[dict[str, Any]] = field(default_factory=list)  # the mapping step's unknown values per column
    needs_mapping: bool = False  # the rows were not run: the user confirms the mapping first
    mapping_used: dict[str, Any] = field(default_factory=dict)  # the mapping the rows ran with (params form)

    def add(self, outcome: RowOutcome, keep_rows: int) -> None:
        self.total += 1
        self.counts[outcome.action] = self.counts.get(outcome.action, 0) + 1
        self.error_total += len(outcome.errors)
        self.warning_total += len(outcome.warnings)
        room = MAX_ERRORS - len(self.errors)
        if room > 0:
            self.errors.extend(e.as_dict() for e in outcome.errors[:room])
        for diff in outcome.diffs:
            # Every column that differs anywhere in the sheet, not only in the rows kept for the page.
            column = self.diff_columns.setdefault(
                diff["key"],
                {
                    "key": diff["key"],
                    "column": diff["column"],
                    "policy": diff.get("policy", ""),
                    "count": 0,
                    "applied": 0,
                },
            )
            column["count"] += 1
            column["applied"] += bool(diff.get("applied"))
        if outcome.action != "error":
            for flag in outcome.flags:
                self.flag_counts[flag["kind"]] = self.flag_counts.get(flag["kind"], 0) + 1
        marked = bool(outcome.errors or outcome.flags)
        if len(self.rows) < keep_rows:
            self.rows.append(outcome.as_dict())
            self.plain_kept += not marked
        elif marked and self.plain_kept:
            # The page shows rows with errors or flags before plain ones: the last plain row kept gives way.
            plain = next(
                i for i in range(len(self.rows) - 1, -1, -1) if not (self.rows[i]["errors"] or self.rows[i]["flags"])
            )
            del self.rows[plain]
            self.rows.append(outcome.as_dict())
            self.plain_kept -= 1
            self.rows_selected = True

    def as_dict(self) -> dict[str, Any]:
        return {
            "layout": self.layout,
            "header_row": self.header_row,
            "columns": self.columns,
            "ignored": self.ignored,
            "total": self.total,
            "counts": self.counts,
            "rows": self.rows,
            "errors": self.errors,
            "error_total": self.error_total,
            "warning_total": self.warning_total,
            "encoding": self.encoding,
            "sheet": self.sheet,
            "sheets": self.sheets,
            "hidden_rows": self.hidden_rows,
            "hidden_row_count": self.hidden_row_count,
            "hidden_columns": self.hidden_columns,
            "flag_counts": self.flag_counts,
            "rows_selected": self.rows_selected,
            "diff_columns": self.diff_columns,
            "mapping": self.mapping,
            "needs_mapping": self.needs_mapping,
            "mapping_used": self.mapping_used,
        }


def run_import(
    *,
    actor: User,
    path: Path,
    layout: str = "",
    sheet_name: str = "",
    options: ImportOptions | None = None,
    dry_run: bool,
    keep_rows: int = PREVIEW_ROWS,
    on_progress: Callable[[int, int], None] | None = None,
    hooks: Hooks | None = None,
    mapping: Mapping | None = None,
    mapping_confirmed: bool = False,
    ask_mapping: bool = False,
) -> ImportResult:
    """Read ``path`` and import its rows as ``actor``; with ``dry_run`` (or any error) nothing is kept.

    With ``hooks``, what the services ask to run after commit is put there instead of run when this commits
    (the import commits into a private copy first: ``staging``).

    Unknown values (options, choices, statuses, owners, customers the pool does not know) go through the
    mapping step first (``mapping.scan``): unless ``mapping_confirmed``, a run that finds one without a
    remembered choice stops before the rows with ``needs_mapping`` and the proposals in ``mapping``.
    ``mapping`` is the user's confirmed choice (remembered choices fill in what it does not name).

    Raises SheetError when the file or its header cannot be read, PermissionDenied when the user may
    not write what this layout writes at all.
    """
    options = options or ImportOptions()
    sheet = read_file(path, sheet_name, LAYOUTS.get(layout))
    header = find_header(sheet, LAYOUTS.get(layout))
    if header.missing:
        raise SheetError(
            _("“%(layout)s”缺少必需的列：%(columns)s。")
            % {"layout": header.layout.name, "columns": human_join(header.missing)}
        )
    if not any(user_can(actor, cap) for cap in header.layout.needs):
        raise PermissionDenied(_("您没有导入“%(layout)s”的权限。") % {"layout": header.layout.name})
    check_formulas(sheet, header)
    skipped = skipped_rows(sheet, header)
    rows = list(data_rows(sheet, header))
    result = ImportResult(
        layout=header.layout.key,
        header_row=header.row,
        columns=[
            {"header": header.titles[p], "column": key, "letter": column_letter(p + sheet.first_column)}
            for p, key in sorted(header.columns.items())
        ],
        ignored=header.ignored,
        encoding=sheet.encoding,
        sheet=sheet.name,
        sheets=sheet.sheets,
        hidden_rows=row_ranges(skipped),
        hidden_row_count=len(skipped),
        hidden_columns=ignored_columns(sheet, header),
    )
    lookups = Lookups()
    result.mapping = scan(
        actor=actor, header=header, rows=rows, lookups=lookups, remembered=remembered_mapping(header.layout.key)
    )
    if not mapping_confirmed and result.mapping and (ask_mapping or needs_confirmation(result.mapping)):
        result.needs_mapping = True
        return result
    chosen = {**proposals(result.mapping), **(mapping or {})} if not mapping_confirmed else dict(mapping or {})
    result.mapping_used = mapping_to_params(chosen)
    handler = HANDLERS[header.layout.key](actor=actor, header=header, options=options, lookups=lookups)
    # A preview checks the new rows as the import will create them, without writing them (a few times faster).
    handler.check_only = dry_run
    total = len(rows)
    if on_progress:
        on_progress(0, total)
    with transaction.atomic():
        # Options to create are created here, so a preview or a failed import leaves none behind.
        apply_mapping(
            actor=actor,
            layout=header.layout.key,
            mapping=chosen,
            lookups=lookups,
            texts=scanned_texts(result.mapping),
        )
        waiting: list[RowOutcome] = []  # rows handled whose writes may wait for the handler's next flush

        def settle(done: int) -> None:
            handler.flush()
            for outcome in waiting:
                result.add(outcome, keep_rows)
            waiting.clear()
            if on_progress:
                on_progress(done, total)

        for done, (number, raw) in enumerate(rows, start=1):
            starts_chunk = (done - 1) % PREPARE_EVERY == 0  # rows 1, 1 + PREPARE_EVERY, … (every row when it is 1)
            if starts_chunk and done > 1:
                settle(done - 1)
            handler.write_named(raw)
            if handler.wants_flush(raw):
                handler.flush(write=True)
            if starts_chunk:
                handler.prepare([r for _n, r in rows[done - 1 : done - 1 + PREPARE_EVERY]])
            try:
                with transaction.atomic():
                    outcome = handler.process(number, raw)
            except RowFailed:
                outcome = handler.outcome
                outcome.action = "error"
            except DatabaseError as exc:
                outcome = handler.outcome
                outcome.action = "error"
                outcome.errors.append(
                    CellError(
                        row=number, column="", value="", message=_("数据库拒绝了这一行：%(error)s") % {"error": exc}
                    )
                )
            waiting.append(outcome)
            if on_progress and done % PROGRESS_EVERY == 0:
                on_progress(done, total)  # rows read and checked; their new records are written at the chunk's end
        settle(total)
        if dry_run or result.error_total:
            transaction.set_rollback(True)
        elif hooks is not None:
            hold_after_commit(hooks)
    return result


# ---------------------------------------------------------------- upload, preview, run


def _extension(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


@transaction.atomic
def import_start(
    *,
    actor: User,
    upload: UploadedFile[Any],
    layout: str = "",
    options: ImportOptions | None = None,
    language: str = "",
    sheet: str = "",
) -> BackgroundJob:
    """Keep the uploaded sheet and queue its preview (a dry run) as a background job."""
    if not can_import(actor):
        raise PermissionDenied(_("您没有导入数据的权限。"))
    name = PurePath(upload.name or "").name
    extension = _extension(name)
    allowed = (*SPREADSHEET_EXTENSIONS, *TEXT_EXTENSIONS)
    if extension not in allowed:
        raise ValidationError(
            {
                "file": _("不支持的文件类型“%(ext)s”。允许：%(allowed)s。")
                % {"ext": extension or "?", "allowed": ", ".join(allowed)}
            }
        )
    if not upload.size:
        raise ValidationError({"file": _("文件为空。")})
    if upload.size > max_upload_bytes():
        raise ValidationError(
            {"file": _("文件过大：最大 %(mb)s MB。") % {"mb": round(max_upload_bytes() / 1024 / 1024, 1)}}
        )
    if layout and layout not in LAYOUTS:
        raise ValidationError({"layout": _("未知的表格类型。")})
    stored = default_storage.save(f"{UPLOAD_DIR}/{uuid.uuid4().hex}.{extension}", upload)
    job = BackgroundJob.objects.create(
        kind=IMPORT_PREVIEW,
        created_by=actor,
        message=name[:500],
        params={
            "file": stored,
            "filename": name,
            "layout": layout,
            "sheet": sheet,
            "options": (options or ImportOptions()).as_dict(),
            "language": language or translation.get_language() or settings.LANGUAGE_CODE,
        },
    )
    audit_record(actor=actor, obj=job, action=AuditEntry.Action.CREATE, changes={"import": name, "layout": layout})
    from needpool.intake.transfer.tasks import import_preview_job

    transaction.on_commit(lambda: import_preview_job(job.pk))
    return job


@transaction.atomic
def import_confirm(*, actor: User, preview: BackgroundJob) -> BackgroundJob:
    """Run a previewed sheet for real (a background job); a second click returns the job already started."""
    preview = BackgroundJob.objects.select_for_update().get(pk=preview.pk)
    if preview.kind != IMPORT_PREVIEW or preview.created_by_id != getattr(actor, "pk", None):
        raise PermissionDenied(_("您没有执行此操作的权限。"))
    started = preview.params.get("run_job")
    if started:
        return BackgroundJob.objects.get(pk=started)
    if preview.params.get("revised_by"):
        raise ValidationError(_("这份预览已被更新的预览取代，请在最新的预览中导入。"))
    result = preview.params.get("result") or {}
    if preview.status != BackgroundJob.Status.DONE or not result:
        raise ValidationError(_("预览尚未完成，不能导入。"))
    if result.get("needs_mapping"):
        raise ValidationError(_("请先确认表中未知值的处理方式。"))
    if result.get("error_total"):
        raise ValidationError(_("预览中有错误：请修正表格后重新上传。"))
    if not default_storage.exists(preview.params["file"]):
        raise ValidationError(_("上传的文件已不存在，请重新上传。"))
    run = BackgroundJob.objects.create(
        kind=IMPORT_RUN,
        created_by=actor,
        message=preview.message,
        total=int(result.get("total") or 0),
        params={
            "file": preview.params["file"],
            "filename": preview.params.get("filename", ""),
            "layout": result.get("layout", ""),
            "sheet": result.get("sheet", ""),
            "options": preview.params.get("options", {}),
            "language": preview.params.get("language", ""),
            "preview": preview.pk,
            # The mapping the preview ran with, remembered choices included: the import does exactly that.
            "mapping": result.get("mapping_used") or {},
            "mapping_confirmed": True,
        },
    )
    preview.params = {**preview.params, "run_job": run.pk}
    preview.save(update_fields=["params"])
    audit_record(
        actor=actor,
        obj=run,
        action=AuditEntry.Action.CREATE,
        changes={"import": run.params["filename"], "layout": run.params["layout"], "rows": run.total},
    )
    from needpool.intake.transfer.tasks import import_run_job

    transaction.on_commit(lambda: import_run_job(run.pk))
    return run


@transaction.atomic
def import_revise(*, actor: User, preview: BackgroundJob, changes: dict[str, Any]) -> BackgroundJob:
    """Preview the same uploaded sheet again with some of its parameters changed (the value mapping, the
    update policy per column, the options); returns the new preview job (the old one can no longer run).

    ``changes`` are merged into the preview's params (``options`` is merged key by key)."""
    preview = BackgroundJob.objects.select_for_update().get(pk=preview.pk)
    if preview.kind != IMPORT_PREVIEW or preview.created_by_id != getattr(actor, "pk", None):
        raise PermissionDenied(_("您没有执行此操作的权限。"))
    if preview.params.get("run_job"):
        raise ValidationError(_("这份表格已经开始导入，不能再修改。"))
    if preview.params.get("revised_by"):
        return BackgroundJob.objects.get(pk=preview.params["revised_by"])
    if not default_storage.exists(preview.params.get("file", "")):
        raise ValidationError(_("上传的文件已不存在，请重新上传。"))
    params = {k: v for k, v in preview.params.items() if k not in ("result", "revised_by", "run_job")}
    for key, value in changes.items():
        if key == "options" and isinstance(value, dict):
            params["options"] = {**params.get("options", {}), **value}
        else:
            params[key] = value
    params["revises"] = preview.pk
    job = BackgroundJob.objects.create(kind=IMPORT_PREVIEW, created_by=actor, message=preview.message, params=params)
    preview.params = {**preview.params, "revised_by": job.pk}
    preview.save(update_fields=["params"])
    from needpool.intake.transfer.tasks import import_preview_job

    transaction.on_commit(lambda: import_preview_job(job.pk))
    return job


def import_mapping_confirm(*, actor: User, preview: BackgroundJob, data: Mapping) -> BackgroundJob:
    """Confirm the mapping step of a preview: check every choice, remember it for the layout's next
    imports, and preview the sheet again with it (returns the new preview job)."""
    result = preview.params.get("result") or {}
    layout = str(result.get("layout") or "")
    if preview.kind != IMPORT_PREVIEW or preview.created_by_id != getattr(actor, "pk", None):
        raise PermissionDenied(_("您没有执行此操作的权限。"))
    if not result.get("mapping"):
        raise ValidationError(_("这份预览没有需要确认的值。"))
    known = {c["column"]: {v["key"]: v["text"] for v in c["values"]} for c in result["mapping"]}
    stray = [key for column, values in data.items() for key in values if key not in known.get(column, {})]
    if stray:
        raise ValidationError(_("提交的值不在这份表格中：%(values)s。") % {"values": human_join(stray[:5])})
    missing = sum(1 for column, values in known.items() for key in values if key not in data.get(column, {}))
    if missing:
        raise ValidationError(_("还有 %(n)s 个值没有选择处理方式。") % {"n": missing})
    cleaned = clean_mapping(actor=actor, layout=layout, data=data)
    with transaction.atomic():
        mappings_remember(actor=actor, layout=layout, mapping=cleaned, texts=known)
        return import_revise(
            actor=actor,
            preview=preview,
            changes={
                "mapping": mapping_to_params(cleaned),
                "mapping_confirmed": True,
                "ask_mapping": False,
                "layout": layout,
            },
        )


def mappings_remember(*, actor: User, layout: str, mapping: Mapping, texts: dict[str, dict[str, str]]) -> int:
    """Keep each choice for the layout's next imports (the latest choice for a value wins); returns how many."""
    from needpool.intake.transfer.models import ImportValueMapping

    count = 0
    for column, values in mapping.items():
        for key, choice in values.items():
            ImportValueMapping.objects.update_or_create(
                layout=layout,
                column=column,
                value_key=key[:200],
                defaults={
                    "value": texts.get(column, {}).get(key, "")[:200],
                    "action": choice.action,
                    "target": choice.target[:64],
                    "updated_by": actor if getattr(actor, "pk", None) else None,
                },
            )
            count += 1
    return count


def _summary(result: ImportResult, *, dry_run: bool) -> str:
    if result.needs_mapping:
        return _("表中有 %(n)s 个系统中没有的值：请确认每个值的处理方式，然后预览。") % {
            "n": sum(int(c.get("total") or 0) for c in result.mapping)
        }
    counts = {key: result.counts.get(key, 0) for key in ("create", "update", "unchanged", "error")}
    if dry_run:
        return _("预览：新建 %(create)s，更新 %(update)s，无变化 %(unchanged)s，有错误 %(error)s 行。") % counts
    if result.error_total:
        return _("导入失败：%(rows)s 行共 %(errors)s 个错误，未写入任何数据。") % {
            "rows": counts["error"],
            "errors": result.error_total,
        }
    return _("导入完成：新建 %(create)s，更新 %(update)s，无变化 %(unchanged)s。") % counts


def import_execute(*, job_id: int) -> BackgroundJob | None:
    """Run a queued preview or import job (safe to run twice: a finished job is left alone)."""
    job = BackgroundJob.objects.filter(pk=job_id, kind__in=IMPORT_KINDS).select_related("created_by").first()
    # An interrupted job is run again only by its retry (a new job), never by a stale copy of its task.
    if job is None or not job_claim(job.pk):
        return job
    with beating(job.pk):
        return _execute(job)


def _execute(job: BackgroundJob) -> BackgroundJob:
    dry_run = job.kind == IMPORT_PREVIEW
    progress.report(job.pk, done=0, total=job.total, phase="read")
    params = dict(job.params)

    def report(done: int, total: int) -> None:
        progress.report(job.pk, done=done, total=total, phase="rows")

    with translation.override(params.get("language") or settings.LANGUAGE_CODE):
        finished = {"finished_at": timezone.now()}
        try:
            if job.created_by is None:
                raise PermissionDenied(_("发起导入的用户已不存在。"))
            actor = job.created_by

            # What an import changes is noted, so that an admin can undo it (``undo``).
            @recorded_run(job_id=job.pk, params=params, failed=lambda r: bool(r.error_total), active=not dry_run)
            def work(hooks: Hooks | None) -> ImportResult:
                return run_import(
                    actor=actor,
                    path=Path(default_storage.path(params["file"])),
                    layout=params.get("layout", ""),
                    sheet_name=params.get("sheet", ""),
                    options=ImportOptions.from_dict(params.get("options") or {}),
                    dry_run=dry_run,
                    on_progress=report,
                    hooks=hooks,
                    mapping=mapping_from_params(params.get("mapping")),
                    mapping_confirmed=bool(params.get("mapping_confirmed")),
                    ask_mapping=bool(params.get("ask_mapping")),
                )

            # On SQLite neither holds the database's write lock for long: a preview runs on a private copy, an
            # import too, then switches its rows in with one short transaction.
            if dry_run:
                with private_database():
                    result = work(None)
            else:
                result = staged_import(work, rows=job.total, failed=lambda r: bool(r.error_total))
        except (SheetError, PermissionDenied, OSError) as exc:
            message = str(exc) if not isinstance(exc, OSError) else _("上传的文件已不存在，请重新上传。")
            with transaction.atomic():
                BackgroundJob.objects.filter(pk=job.pk).update(
                    status=BackgroundJob.Status.FAILED, message=message[:500], **finished
                )
                if not dry_run:
                    _tell_importer(job, ok=False, message=message)
            progress.clear(job.pk)
            return BackgroundJob.objects.get(pk=job.pk)
        except Exception as exc:
            message = _("导入出错：%(e)s") % {"e": exc}
            with transaction.atomic():
                BackgroundJob.objects.filter(pk=job.pk).update(
                    status=BackgroundJob.Status.FAILED, message=message[:500], **finished
                )
                if not dry_run:
                    _tell_importer(job, ok=False, message=message)
            progress.clear(job.pk)
            raise
        params["result"] = result.as_dict()
        ok = dry_run or not result.error_total
        summary = _summary(result, dry_run=dry_run)
        with transaction.atomic():
            BackgroundJob.objects.filter(pk=job.pk).update(
                status=BackgroundJob.Status.DONE if ok else BackgroundJob.Status.FAILED,
                total=result.total,
                done=result.total,
                message=summary[:500],
                params=params,
                **finished,
            )
            if not dry_run:
                _tell_importer(job, ok=ok, message=summary, result=result)
    progress.clear(job.pk)
    if not dry_run:
        default_storage.delete(params["file"])
        audit_record(
            actor=job.created_by,
            obj=job,
            action=AuditEntry.Action.UPDATE,
            changes={"import": params.get("filename", ""), **result.counts, "errors": result.error_total},
        )
    return BackgroundJob.objects.get(pk=job.pk)


def _tell_importer(job: BackgroundJob, *, ok: bool, message: str, result: ImportResult | None = None) -> None:
    """The person who started an import hears that it finished (IMPORT) or failed (IMPORT_FAILED), once per job.

    ``message`` is the job's own summary, already in the importer's language (the job runs in it)."""
    importer = job.created_by
    filename = str(job.params.get("filename", ""))
    emit(
        kind=EventKind.IMPORT if ok else EventKind.IMPORT_FAILED,
        key=f"import:{job.pk}",
        message=(
            gettext_noop("导入“%(file)s”已完成。%(summary)s") if ok else gettext_noop("导入“%(file)s”失败：%(summary)s")
        ),
        params={"file": filename, "summary": message},
        url=reverse("intake:import_job", args=[job.pk]),
        recipients=[importer],
        teams=[importer.team_id] if importer is not None and importer.team_id else [],
        subject={"type": "import", "id": job.pk, "code": "", "title": filename},
        data={
            "status": "done" if ok else "failed",
            "layout": str(job.params.get("layout", "")),
            "counts": dict(result.counts) if result is not None else {},
            "errors": result.error_total if result is not None else None,
        },
    )


def import_preview(*, job_id: int) -> BackgroundJob | None:
    """The dry run of an uploaded sheet (the preview job)."""
    if not BackgroundJob.objects.filter(pk=job_id, kind=IMPORT_PREVIEW).exists():
        return None
    return import_execute(job_id=job_id)


def import_run(*, job_id: int) -> BackgroundJob | None:
    """The all-or-nothing import of a previewed sheet (the import job)."""
    if not BackgroundJob.objects.filter(pk=job_id, kind=IMPORT_RUN).exists():
        return None
    return import_execute(job_id=job_id)


def import_files_cleanup(*, older_than: dt.timedelta = dt.timedelta(days=7)) -> int:
    """Delete uploaded sheets whose preview was never imported within ``older_than``; returns how many.

    Also deletes the private database copies a killed preview or import left behind (untouched for a day).
    """
    cutoff = timezone.now() - older_than
    removed = 0
    copies_cutoff = (timezone.now() - dt.timedelta(days=1)).timestamp()
    for left in (Path(settings.DATA_DIR) / "jobs").glob("*-*.sqlite3*"):
        if left.name.startswith(("import-", "preview-")) and left.stat().st_mtime < copies_cutoff:
            left.unlink(missing_ok=True)
    for job in BackgroundJob.objects.filter(kind=IMPORT_PREVIEW, created_at__lt=cutoff).iterator():
        stored = job.params.get("file")
        # A revised preview shares its file with the newer one, which decides.
        if job.params.get("run_job") or job.params.get("revised_by") or job.params.get("file_removed") or not stored:
            continue
        default_storage.delete(stored)
        BackgroundJob.objects.filter(pk=job.pk).update(params={**job.params, "file_removed": True})
        removed += 1
    return removed
