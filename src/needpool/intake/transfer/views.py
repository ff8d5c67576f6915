"""Import and export pages: upload a sheet, watch its preview, run it, watch the import; export filtered lists."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from needpool.accounts.models import acting_user
from needpool.core.jobs import RETRYABLE
from needpool.core.models import BackgroundJob
from needpool.core.permissions import can_retry_job, visible_jobs
from needpool.core.selectors import job_retry_of
from needpool.core.views import add_service_errors, error_text, is_htmx
from needpool.customers.filters import CustomerFilter
from needpool.customers.forms import customer_filter_args
from needpool.customers.models import Customer
from needpool.intake.transfer import exports
from needpool.intake.transfer.forms import ImportSheetForm, ImportUploadForm
from needpool.intake.transfer.imports.layouts import LAYOUTS
from needpool.intake.transfer.imports.mapping import SHOWN_VALUES, Choice
from needpool.intake.transfer.permissions import can_import
from needpool.intake.transfer.selectors import customer_by_code, import_job_get, import_jobs
from needpool.intake.transfer.selectors import import_job_progress as job_progress
from needpool.intake.transfer.services import (
    IMPORT_PREVIEW,
    import_confirm,
    import_mapping_confirm,
    import_revise,
    import_start,
)
from needpool.intake.transfer.undo import can_undo_import, import_undo, may_undo
from needpool.requirements.filters import RequirementFilter
from needpool.requirements.models import Requirement

RECENT_JOBS = 10
ACTION_LABELS = {
    "create": gettext_lazy("新建"),
    "update": gettext_lazy("更新"),
    "unchanged": gettext_lazy("无变化"),
    "error": gettext_lazy("错误"),
}


def _require_import(request: HttpRequest) -> None:
    if not can_import(request.user):
        raise PermissionDenied(_("您没有导入数据的权限。"))


def import_page(request: HttpRequest) -> HttpResponse:
    _require_import(request)
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = import_start(
                actor=acting_user(request.user),
                upload=form.cleaned_data["file"],
                layout=form.cleaned_data.get("layout") or "",
                options=form.options(),
                language=get_language() or "",
                sheet=form.cleaned_data.get("sheet") or "",
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return redirect("intake:import_job", pk=job.pk)
    context = {
        "form": form,
        "layouts": list(LAYOUTS.values()),
        "jobs": list(import_jobs(user=request.user)[:RECENT_JOBS]),
    }
    return render(request, "intake/transfer/import.html", context, status=400 if form.errors else 200)


def _job_context(job: BackgroundJob, user: Any) -> dict[str, Any]:
    done, total = job_progress(job)
    finished = job.status in (BackgroundJob.Status.DONE, *RETRYABLE)
    result = job.params.get("result") or {}
    percent = 100 if job.status == BackgroundJob.Status.DONE else (int(done * 100 / total) if total else 0)
    layout = LAYOUTS.get(result.get("layout") or job.params.get("layout") or "")
    rows = [
        {**row, "action_label": ACTION_LABELS.get(row.get("action", ""), row.get("action", ""))}
        for row in result.get("rows", [])
    ]
    return {
        "job": job,
        "is_preview": job.kind == IMPORT_PREVIEW,
        "finished": finished,
        "failed": job.status in RETRYABLE,
        "done": done,
        "total": total,
        "percent": min(percent, 100),
        "result": result,
        "rows": rows,
        "layout": layout,
        "more_errors": max(int(result.get("error_total") or 0) - len(result.get("errors") or []), 0),
        "more_rows": max(int(result.get("total") or 0) - len(rows), 0),
        "can_run": (
            job.kind == IMPORT_PREVIEW
            and job.status == BackgroundJob.Status.DONE
            and bool(result)
            and not result.get("error_total")
            and not job.params.get("run_job")
        ),
        "run_job": job.params.get("run_job"),
        "mapping_columns": _mapping_columns(result) if result.get("needs_mapping") else [],
        "status_errors": _status_errors(result, layout),
        "mapping_applied": sum(len(v) for v in (result.get("mapping_used") or {}).values()),
        "may_remap": job.kind == IMPORT_PREVIEW and bool(result.get("mapping")) and not job.params.get("run_job"),
        "may_retry": job.status in RETRYABLE and can_retry_job(user, job),
        "may_undo": may_undo(user, job),
        "retry": job_retry_of(user=user, job=job),
    }


def _status_errors(result: dict[str, Any], layout: Any) -> int:
    """How many of the errors kept for the page are in the 当前状态 column of a requirement sheet."""
    if layout is None or "status" not in [c.key for c in layout.columns] or layout.key == "relationship":
        return 0
    titles = {c["header"] for c in result.get("columns", []) if c.get("column") == "status"}
    return sum(1 for e in result.get("errors") or [] if e.get("column") in titles)


def _choice_label(domain: str, action: str, value: dict[str, Any]) -> str:
    if action == "create":
        return _("新建客户") if domain == "customer" else _("新建“%(value)s”") % {"value": value["text"]}
    if domain == "owner":
        return _("不指定负责人")
    if domain == "status":
        return _("保持初始状态")
    return _("留空")


MANY_TARGETS = 60  # above this, a value's select offers its proposal and the targets most like it


def _nearest(value: dict[str, Any], targets: list[tuple[str, str]], keep: int = 20) -> list[tuple[str, str]]:
    """The targets whose labels share the most characters with the value (and the proposed one)."""
    chars = set(str(value.get("text", "")).lower())
    proposal = f"map:{value.get('target')}" if value.get("action") == "map" else ""

    def overlap(target: tuple[str, str]) -> float:
        other = set(target[1].lower())
        return len(chars & other) / (len(chars | other) or 1)

    ranked = sorted(targets, key=overlap, reverse=True)[:keep]
    chosen = [t for t in targets if t[0] == proposal]
    return chosen + [t for t in ranked if t[0] != proposal]


def _mapping_columns(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The mapping step's columns with, per value shown, the choices of its select (the proposal selected)."""
    columns = []
    for column in result.get("mapping") or []:
        domain = column["domain"]
        targets = [(f"map:{t['id']}", str(t["label"])) for t in column.get("targets", [])]
        teams = [
            (f"team:{t['id']}", _("团队：%(team)s（负责人）") % {"team": t["label"]}) for t in column.get("teams", [])
        ]
        shown = []
        for value in column["values"][:SHOWN_VALUES]:
            own = [(f"{a}:", _choice_label(domain, a, value)) for a in column["actions"] if a in ("create", "ignore")]
            mapped = list(targets) if len(targets) <= MANY_TARGETS else _nearest(value, targets)
            if domain == "customer" and value.get("action") == "map" and value.get("target"):
                mapped = [
                    (f"map:{value['target']}", _("对应到 %(customer)s") % {"customer": value.get("target_label")})
                ]
            proposal = f"{value.get('action')}:{value.get('target') or ''}"
            choices = [
                {"value": v, "label": label, "selected": v == proposal}
                for v, label in (*own, *(mapped if "map" in column["actions"] else []), *teams)
            ]
            shown.append({**value, "choices": choices})
        columns.append({**column, "shown": shown, "hidden": max(len(column["values"]) - SHOWN_VALUES, 0)})
    return columns


def import_job_page(request: HttpRequest, pk: int) -> HttpResponse:
    job = import_job_get(user=request.user, pk=pk)
    return render(request, "intake/transfer/job.html", _job_context(job, request.user))


def import_job_progress(request: HttpRequest, pk: int) -> HttpResponse:
    job = import_job_get(user=request.user, pk=pk)
    context = _job_context(job, request.user)
    if context["finished"] and is_htmx(request):
        # The results are a whole page: reload it instead of swapping in the bar.
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    return render(request, "intake/transfer/_progress.html", context)


def to_job(request: HttpRequest, preview: BackgroundJob, make: Callable[[], BackgroundJob]) -> HttpResponse:
    """The page of the job ``make`` starts, or back to ``preview`` with the service's reason it did not."""
    try:
        job = make()
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return redirect("intake:import_job", pk=preview.pk)
    return redirect("intake:import_job", pk=job.pk)


def revise_to_job(request: HttpRequest, preview: BackgroundJob, changes: dict[str, Any]) -> HttpResponse:
    """Preview the same sheet again with ``changes`` (``import_revise``) and go to the new preview."""
    return to_job(
        request, preview, lambda: import_revise(actor=acting_user(request.user), preview=preview, changes=changes)
    )


@require_POST
def import_job_run(request: HttpRequest, pk: int) -> HttpResponse:
    preview = import_job_get(user=request.user, pk=pk)
    return to_job(request, preview, lambda: import_confirm(actor=acting_user(request.user), preview=preview))


@require_POST
def import_job_sheet(request: HttpRequest, pk: int) -> HttpResponse:
    """Preview the same workbook again with another of its sheets."""
    preview = import_job_get(user=request.user, pk=pk)
    form = ImportSheetForm(request.POST, sheets=list((preview.params.get("result") or {}).get("sheets") or []))
    if not form.is_valid():
        messages.error(request, _("请选择这份文件中能识别表头的工作表。"))
        return redirect("intake:import_job", pk=preview.pk)
    # Another sheet is another table: its layout is found again and its values are mapped afresh.
    changes = {"sheet": form.cleaned_data["sheet"], "layout": "", "mapping": {}, "mapping_confirmed": False}
    return to_job(
        request, preview, lambda: import_revise(actor=acting_user(request.user), preview=preview, changes=changes)
    )


@require_POST
def import_job_undo(request: HttpRequest, pk: int) -> HttpResponse:
    """An admin undoes a finished import (the page asks to confirm first)."""
    if not can_undo_import(request.user):
        raise PermissionDenied(_("只有管理员可以撤销导入。"))
    job = visible_jobs(request.user).filter(pk=pk).first()
    if job is None:
        raise Http404
    try:
        counts = import_undo(actor=acting_user(request.user), job=job)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("已撤销本次导入：删除 %(deleted)s 条记录，恢复 %(restored)s 条记录。") % counts)
    return redirect("intake:import_job", pk=job.pk)


# ---------------------------------------------------------------- export


def _format(fmt: str) -> str:
    if fmt not in exports.FORMATS:
        raise Http404
    return fmt


def _send(request: HttpRequest, fmt: str, layout: Any, records: Any, count: Any, back: str) -> HttpResponseBase:
    if fmt == "csv":
        return exports.csv_response(layout, records)
    if count() > exports.xlsx_max_rows():
        messages.error(
            request,
            _("超过 %(n)s 行的列表请导出为 CSV，或先缩小筛选范围。") % {"n": exports.xlsx_max_rows()},
        )
        return redirect(back)
    return exports.xlsx_response(layout, records)


def _refused_filters(request: HttpRequest, filterset: Any, back: str) -> HttpResponse | None:
    """400 naming each filter that is not valid (an id beyond range, a date of year 4), before any row is
    sent: an export is the whole filtered list or nothing, never everything or a file cut off mid-way."""
    if filterset.is_valid():
        return None
    fields = filterset.form.fields
    errors = [
        f"{fields[name].label if name in fields else name}：{message}"
        for name, messages_ in filterset.form.errors.items()
        for message in messages_
    ]
    context = {"title": _("筛选条件有误，未导出"), "errors": errors, "back_url": back}
    return render(request, "core/bad_request.html", context, status=400)


def export_requirements(request: HttpRequest, layout: str, fmt: str) -> HttpResponseBase:
    if layout not in exports.REQUIREMENT_LAYOUTS:
        raise Http404
    fmt = _format(fmt)
    filters = request.GET.copy()
    filters.pop("page", None)
    back = reverse("requirements:list")
    refused = _refused_filters(request, RequirementFilter(filters, queryset=Requirement.objects.none()), back)
    if refused is not None:
        return refused
    query = exports.requirement_queryset(user=request.user, filters=filters, layout=layout)
    back = reverse("requirements:list") + (f"?{filters.urlencode()}" if filters else "")
    return _send(
        request,
        fmt,
        exports.layout_for("requirements", layout),
        exports.requirement_records(user=request.user, filters=filters, layout=layout),
        query.count,
        back,
    )


def _customer_filters(request: HttpRequest) -> dict[str, Any]:
    return customer_filter_args(request.GET)


def _refused_customer_filters(request: HttpRequest) -> HttpResponse | None:
    filterset = CustomerFilter(request.GET, queryset=Customer.objects.none())
    return _refused_filters(request, filterset, reverse("customers:list"))


def export_customers(request: HttpRequest, fmt: str) -> HttpResponseBase:
    fmt = _format(fmt)
    if (refused := _refused_customer_filters(request)) is not None:
        return refused
    filters = _customer_filters(request)
    query = exports.customer_queryset(user=request.user, filters=filters)
    back = reverse("customers:list") + (f"?{request.GET.urlencode()}" if request.GET else "")
    records = exports.customer_records(user=request.user, filters=filters)
    return _send(request, fmt, exports.RELATIONSHIP, records, query.count, back)


def export_interactions(request: HttpRequest, fmt: str) -> HttpResponseBase:
    fmt = _format(fmt)
    if (refused := _refused_customer_filters(request)) is not None:
        return refused
    filters = _customer_filters(request)
    query = exports.interaction_queryset(user=request.user, filters=filters)
    back = reverse("customers:list") + (f"?{request.GET.urlencode()}" if request.GET else "")
    records = exports.interaction_records(user=request.user, filters=filters)
    return _send(request, fmt, exports.RELATIONSHIP, records, query.count, back)


# ---------------------------------------------------------------- the mapping step


def _posted_mapping(request: HttpRequest, columns: list[dict[str, Any]]) -> dict[str, dict[str, Choice]]:
    """The choices posted on the mapping form: one select per value (``v-<column>-<index>``: "map:<id>",
    "create:", "ignore:" or "team:<id>"), a customer code typed instead (``code-…``), and a bulk choice per
    column (``all-<column>``) that overrides the values' own selects."""
    data: dict[str, dict[str, Choice]] = {}
    for column in columns:
        name = column["column"]
        bulk = request.POST.get(f"all-{name}", "")
        chosen: dict[str, Choice] = {}
        for index, value in enumerate(column["values"]):
            raw = bulk if bulk in ("create", "ignore") else request.POST.get(f"v-{name}-{index}", "")
            if not raw and index >= SHOWN_VALUES:
                raw = f"{value['action']}:{value['target']}"  # not shown one by one: the proposal stands
            action, _sep, target = raw.partition(":")
            code = request.POST.get(f"code-{name}-{index}", "").strip()
            if code and column["domain"] == "customer" and bulk not in ("create", "ignore"):
                found = customer_by_code(user=request.user, code=code)
                action, target = ("map", str(found.pk)) if found is not None else ("map", f"code:{code}")
            if action:
                chosen[value["key"]] = Choice(action, target)
        data[name] = chosen
    return data


@require_POST
def import_job_mapping(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm the mapping step (then the sheet is previewed again with it), or ask for it again."""
    preview = import_job_get(user=request.user, pk=pk)
    actor = acting_user(request.user)
    if request.POST.get("ask"):
        return revise_to_job(request, preview, {"ask_mapping": True, "mapping_confirmed": False})
    columns = (preview.params.get("result") or {}).get("mapping") or []
    data = _posted_mapping(request, columns)
    return to_job(request, preview, lambda: import_mapping_confirm(actor=actor, preview=preview, data=data))


@require_POST
def import_job_options(request: HttpRequest, pk: int) -> HttpResponse:
    """Preview the same sheet again with the upload's options changed (e.g. statuses left as they are)."""
    preview = import_job_get(user=request.user, pk=pk)
    changes = {
        name: request.POST[name] in ("1", "on", "true")
        for name in ("apply_status", "create_customers", "needs_to_feedback")
        if name in request.POST
    }
    return to_job(
        request,
        preview,
        lambda: import_revise(actor=acting_user(request.user), preview=preview, changes={"options": changes}),
    )
