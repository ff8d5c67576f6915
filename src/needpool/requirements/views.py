"""Requirement pages: list, kanban board, detail, create / edit, and the detail page's actions."""

from __future__ import annotations

import re
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from needpool.accounts.models import acting_user
from needpool.core.concurrency import StaleVersion, versioned_edit
from needpool.core.messages import past_date_warning
from needpool.core.pagination import count_cap
from needpool.core.text import human_join
from needpool.core.views import add_service_errors, error_text, is_htmx, paginate, wants_json
from needpool.requirements.dedup import views as dedup_views
from needpool.requirements.forms import (
    AttachmentForm,
    CommentForm,
    LinkFeedbackForm,
    RequirementCreateForm,
    RequirementEditForm,
    TransitionForm,
    extra_filters,
    requirement_filter_form,
)
from needpool.requirements.merging.selectors import merge_detail_context
from needpool.requirements.merging.views import merged_redirect
from needpool.requirements.models import NOTE_MAX_LENGTH, Requirement, Workflow
from needpool.requirements.permissions import (
    can_comment,
    can_create_requirement,
    can_edit_requirement,
    can_transition_requirement,
)
from needpool.requirements.selectors import (
    attachment_get,
    board_column,
    board_columns,
    feedback_get,
    history_field_label,
    requirement_get,
    requirement_history_visible,
    requirement_list,
)
from needpool.requirements.services import (
    GATE_LABELS,
    active_workflow,
    allowed_targets,
    attachment_add,
    comment_create,
    feedback_link,
    gate_missing,
    requirement_create,
    requirement_transition,
    requirement_update,
)
from needpool.requirements.services.life import StaleMove
from needpool.requirements.workflow import GATE_STANDARDISED

BOARD_PER_COLUMN = 20  # the cards a column shows at first, and adds on each "显示更多"
BOARD_MAX_OFFSET = 100_000  # a column's "more" reads no further (the list pages through any number)
_MENTION_TOKEN = re.compile(r"(@[\w.@+-]+)")
_TRAILING = ".,，。"
# ---------------------------------------------------------------- small presentation helpers


def _workflow_or_none() -> Workflow | None:
    try:
        return active_workflow()
    except ValidationError:
        return None


def _with_customers(requirements: list[Requirement]) -> list[Requirement]:
    """Give each row ``customers``: the distinct customers of its prefetched evidence, in order."""
    for requirement in requirements:
        seen: dict[int, Any] = {}
        for item in getattr(requirement, "evidence", []):
            if item.customer_id and item.customer_id not in seen:
                seen[item.customer_id] = item.customer
        requirement.customers = list(seen.values())  # type: ignore[attr-defined]
    return requirements


def _has_filters(request: HttpRequest, ignore: tuple[str, ...] = ("page", "sort", "count")) -> bool:
    return any(value for key, value in request.GET.items() if key not in ignore)


def _comment_parts(body: str, mentioned: set[str]) -> list[dict[str, Any]]:
    """The comment split into plain text and @mentions of real mentioned users (highlighted)."""
    parts: list[dict[str, Any]] = []
    for chunk in _MENTION_TOKEN.split(body):
        if not chunk:
            continue
        if chunk.startswith("@"):
            name = chunk[1:].rstrip(_TRAILING)
            if name in mentioned:
                parts.append({"text": "@" + name, "mention": True})
                tail = chunk[1 + len(name) :]
                if tail:
                    parts.append({"text": tail, "mention": False})
                continue
        parts.append({"text": chunk, "mention": False})
    return parts


def _detail_context(request: HttpRequest, requirement: Requirement, **forms: Any) -> dict[str, Any]:
    user = request.user
    comments = list(requirement.comments.all())
    for comment in comments:
        comment.parts = _comment_parts(comment.body, {u.username for u in comment.mentions.all()})  # type: ignore[attr-defined]
    history = requirement_history_visible(requirement, user=user, evidence=requirement.feedback_items.all())
    may_transition = can_transition_requirement(user, requirement)
    missing = gate_missing(requirement) if GATE_STANDARDISED in (requirement.status.exit_gates or []) else []
    customers: dict[int, Any] = {}
    for item in requirement.feedback_items.all():
        if item.customer_id and item.customer_id not in customers:
            customers[item.customer_id] = item.customer
    context: dict[str, Any] = {
        "requirement": requirement,
        "customers": list(customers.values()),
        "evidence": list(requirement.feedback_items.all()),
        "status_changes": list(requirement.status_changes.all()),
        "comments": comments,
        "attachments": list(requirement.attachments.all()),
        "history": history,
        "targets": allowed_targets(requirement) if may_transition else [],
        "gate_missing": [GATE_LABELS[m]() for m in missing],
        "gate_missing_text": human_join([GATE_LABELS[m]() for m in missing]),
        "note_max_length": NOTE_MAX_LENGTH,
        "can_edit": can_edit_requirement(user, requirement),
        "can_transition": may_transition,
        "can_comment": can_comment(user, requirement),
        "transition_form": forms.get("transition_form") or TransitionForm(),
        "comment_form": forms.get("comment_form") or CommentForm(),
        "attachment_form": forms.get("attachment_form") or AttachmentForm(),
        "link_form": forms.get("link_form") or LinkFeedbackForm(),
    }
    context.update(
        merge_detail_context(
            user=user,
            requirement=requirement,
            status_changes=context["status_changes"],
            history=history,
            label=history_field_label,
        )
    )
    return context


def _detail_url(pk: int, anchor: str = "") -> str:
    return reverse("requirements:detail", args=[pk]) + (f"#{anchor}" if anchor else "")


# ---------------------------------------------------------------- pages


def requirement_list_page(request: HttpRequest) -> HttpResponse:
    user = request.user
    page = paginate(request, requirement_list(user=user, filters=request.GET), cap=count_cap(request.GET))
    page.object_list = _with_customers(list(page.object_list))
    filter_form = requirement_filter_form(request.GET or None, user=user, workflow=_workflow_or_none())
    context = {
        "page_obj": page,
        "rows": page.object_list,
        "filter_form": filter_form,
        "has_filters": _has_filters(request),
        "can_create": can_create_requirement(user),
    }
    context["extra_filters"] = extra_filters(request.GET, filter_form)
    return render(request, "requirements/list.html", context)


def _board_filters(request: HttpRequest) -> QueryDict:
    """The board's filters as its address gives them (less a column's place, ``offset``)."""
    filters = request.GET.copy()
    filters.pop("offset", None)
    return filters


def _board_list_url(key: str, filters: QueryDict) -> str:
    """The list of one column's requirements, with the board's filters."""
    listed = filters.copy()
    listed["status"] = key
    return f"{reverse('requirements:list')}?{listed.urlencode()}"


def _board_links(column: dict[str, Any], filters: QueryDict, *, offset: int) -> dict[str, Any]:
    """Give a column its links: ``more_url`` (its next cards from ``offset``; app.js sends the number of the
    column's own cards the board holds instead, which a drag may have changed) and ``list_url``."""
    key = column["status"].key
    more = filters.copy()
    more["offset"] = str(offset)
    column["more_url"] = f"{reverse('requirements:board_column', args=[key])}?{more.urlencode()}"
    column["list_url"] = _board_list_url(key, filters)
    return column


def _board_movable(user: Any, cards: list[Requirement]) -> None:
    for card in cards:
        card.may_move = can_transition_requirement(user, card)  # type: ignore[attr-defined]  # no query per card


def requirement_board(request: HttpRequest) -> HttpResponse:
    """The kanban: every column's true count and the first cards of the open columns; the rest come a page at
    a time from ``requirement_board_column`` (a column's "显示更多", or a collapsed column when it opens)."""
    user = request.user
    workflow = active_workflow()
    filters = _board_filters(request)
    columns = board_columns(user=user, workflow=workflow, filters=filters, per_column=BOARD_PER_COLUMN)
    for column in columns:
        _board_movable(user, column["cards"])
        _board_links(column, filters, offset=len(column["cards"]))
    filter_form = requirement_filter_form(request.GET or None, user=user, workflow=workflow)
    context = {
        "workflow": workflow,
        "columns": columns,
        "filter_form": filter_form,
        "has_filters": _has_filters(request),
        "can_create": can_create_requirement(user),
    }
    context["extra_filters"] = extra_filters(request.GET, filter_form, board=True)
    return render(request, "requirements/board.html", context)


@require_GET
def requirement_board_column(request: HttpRequest, key: str) -> HttpResponse:
    """The next cards of one board column (``?offset=`` and the board's filters), for htmx: the cards to
    append and, out of band, the column's footer again. Without htmx: the list of that column."""
    filters = _board_filters(request)
    if not is_htmx(request):
        return redirect(_board_list_url(key, filters))
    try:
        offset = min(max(int(request.GET.get("offset", "0")), 0), BOARD_MAX_OFFSET)
    except ValueError:
        offset = 0
    column = board_column(
        user=request.user,
        workflow=active_workflow(),
        key=key,
        filters=filters,
        offset=offset,
        limit=BOARD_PER_COLUMN,
    )
    _board_links(column, filters, offset=offset + len(column["cards"]))
    _board_movable(request.user, column["cards"])
    return render(request, "requirements/_board_more.html", {"column": column, "oob": True})


def requirement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    requirement = requirement_get(user=request.user, pk=pk)
    onward = merged_redirect(request, requirement)
    if onward is not None:
        return onward
    return render(request, "requirements/detail.html", _detail_context(request, requirement))


def _warn_past_expected_date(request: HttpRequest, requirement: Requirement) -> None:
    """A 期望时间 already past is saved (old data is real) with a warning, never refused."""
    warning = past_date_warning(requirement.expected_date, _("期望时间"))
    if warning:
        messages.warning(request, warning)


def requirement_create_page(request: HttpRequest) -> HttpResponse:
    if not can_create_requirement(request.user):
        raise PermissionDenied(_("您没有创建需求的权限。"))
    initial = {"customer": request.GET.get("customer") or None}
    source = dedup_views.source_feedback(request)  # created from a feedback item of the inbox
    if source is not None:
        initial.update(dedup_views.initial_from_feedback(source))
    form = RequirementCreateForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            evidence: dict[str, Any] = {"feedback": [source]} if source is not None else {}
            requirement = requirement_create(actor=acting_user(request.user), **form.cleaned_data, **evidence)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("需求 %(code)s 已创建。") % {"code": requirement.code})
            _warn_past_expected_date(request, requirement)
            return redirect("requirements:detail", pk=requirement.pk)
    context = {"form": form, "is_create": True, "source_feedback": source}
    return render(request, "requirements/form.html", context)


def requirement_edit_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit a requirement. A form opened at an older version is merged when the fields this user changed do not
    overlap those changed since; otherwise nothing is saved and the page shows the differences to resolve."""
    data = request.POST if request.method == "POST" else None
    for _attempt in range(3):
        requirement = requirement_get(user=request.user, pk=pk)
        if not can_edit_requirement(request.user, requirement):
            raise PermissionDenied(_("您没有编辑该需求的权限。"))
        edit = versioned_edit(data, form_class=RequirementEditForm, instance=requirement)
        if not edit.ready:
            break
        if not edit.fields:
            messages.info(request, _("没有需要保存的修改。"))
            return redirect("requirements:detail", pk=requirement.pk)
        try:
            requirement_update(
                actor=acting_user(request.user),
                requirement=requirement,
                expected_version=edit.expected_version,
                **edit.changes(),
            )
        except StaleVersion:
            continue  # changed again meanwhile: compare with the newest version
        except ValidationError as exc:
            add_service_errors(edit.form, exc)
            break
        if edit.expected_version is not None and edit.expected_version != edit.form.cleaned_data.get("version"):
            messages.success(
                request,
                _("需求 %(code)s 已保存：他人在此期间修改了其他字段，已一并保留。") % {"code": requirement.code},
            )
        else:
            messages.success(request, _("需求 %(code)s 已保存。") % {"code": requirement.code})
        if "expected_date" in edit.fields:
            _warn_past_expected_date(request, requirement)
        return redirect("requirements:detail", pk=requirement.pk)
    context = {"form": edit.form, "is_create": False, "requirement": requirement, "conflicts": edit.conflicts}
    return render(request, "requirements/form.html", context, status=409 if edit.conflicts else 200)


# ---------------------------------------------------------------- actions (POST)


@require_POST
def requirement_transition_action(request: HttpRequest, pk: int) -> HttpResponse:
    """Move a requirement; JSON for the kanban (Accept: application/json), else back to the detail page."""
    as_json = wants_json(request)
    try:
        requirement = requirement_get(user=request.user, pk=pk)
    except Http404:
        if as_json:
            return JsonResponse({"ok": False, "message": _("需求不存在或您无权访问。")}, status=404)
        raise
    if not can_transition_requirement(request.user, requirement):
        denied = _("您没有流转该需求状态的权限。")
        if as_json:
            return JsonResponse({"ok": False, "message": denied}, status=403)
        raise PermissionDenied(denied)
    form = TransitionForm(request.POST)
    if not form.is_valid():
        message = " ".join(str(e) for errors in form.errors.values() for e in errors)
        if as_json:
            return JsonResponse({"ok": False, "message": message}, status=400)
        messages.error(request, message)
        return redirect(_detail_url(requirement.pk))
    try:
        moved = requirement_transition(
            actor=acting_user(request.user),
            requirement=requirement,
            to=form.cleaned_data["to"],
            note=form.cleaned_data["note"],
            expected_status=form.cleaned_data.get("from") or None,
        )
    except StaleMove as exc:
        if as_json:
            current = {"status": exc.current.key, "status_label": str(exc.current)}
            return JsonResponse({"ok": False, "message": error_text(exc), **current}, status=409)
        messages.error(request, error_text(exc))
        return redirect(_detail_url(requirement.pk))
    except PermissionDenied as exc:
        if as_json:
            return JsonResponse({"ok": False, "message": str(exc) or _("您没有执行此操作的权限。")}, status=403)
        raise
    except ValidationError as exc:
        if as_json:
            return JsonResponse({"ok": False, "message": error_text(exc)}, status=400)
        messages.error(request, error_text(exc))
        return redirect(_detail_url(requirement.pk))
    message = _("需求 %(code)s 已流转到“%(status)s”。") % {"code": moved.code, "status": moved.status}
    if as_json:
        return JsonResponse(
            {"ok": True, "message": message, "status_label": str(moved.status), "status": moved.status.key}
        )
    messages.success(request, message)
    return redirect(_detail_url(requirement.pk))


@require_POST
def requirement_comment(request: HttpRequest, pk: int) -> HttpResponse:
    requirement = requirement_get(user=request.user, pk=pk)
    if not can_comment(request.user, requirement):
        raise PermissionDenied(_("您没有评论的权限。"))
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            comment = comment_create(
                actor=acting_user(request.user), requirement=requirement, body=form.cleaned_data["body"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("评论已发布。"))
            return redirect(_detail_url(requirement.pk, f"comment-{comment.pk}"))
    return render(request, "requirements/detail.html", _detail_context(request, requirement, comment_form=form))


@require_POST
def requirement_attach(request: HttpRequest, pk: int) -> HttpResponse:
    requirement = requirement_get(user=request.user, pk=pk)
    if not can_comment(request.user, requirement):
        raise PermissionDenied(_("您没有上传附件的权限。"))
    form = AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            attachment = attachment_add(
                actor=acting_user(request.user), requirement=requirement, upload=form.cleaned_data["file"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("附件“%(name)s”已上传。") % {"name": attachment.name})
            return redirect(_detail_url(requirement.pk, "attachments"))
    return render(request, "requirements/detail.html", _detail_context(request, requirement, attachment_form=form))


def attachment_download(request: HttpRequest, pk: int, attachment_pk: int) -> FileResponse:
    """Serve an attachment only to users who may see its requirement (files are not public under /media/)."""
    attachment = attachment_get(user=request.user, requirement_pk=pk, pk=attachment_pk)
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    return FileResponse(handle, as_attachment=True, filename=attachment.name)


@require_POST
def requirement_link_feedback(request: HttpRequest, pk: int) -> HttpResponse:
    requirement = requirement_get(user=request.user, pk=pk)
    if not can_edit_requirement(request.user, requirement):
        raise PermissionDenied(_("您没有编辑该需求的权限。"))
    form = LinkFeedbackForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请输入有效的反馈编号。"))
        return redirect(_detail_url(requirement.pk, "evidence"))
    try:
        feedback = feedback_get(user=request.user, pk=form.cleaned_data["feedback"])
    except Http404:
        messages.error(request, _("反馈 #%(id)s 不存在或您无权访问。") % {"id": form.cleaned_data["feedback"]})
        return redirect(_detail_url(requirement.pk, "evidence"))
    try:
        feedback_link(actor=acting_user(request.user), feedback=feedback, requirement=requirement)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("反馈 #%(id)s 已关联到本需求。") % {"id": feedback.pk})
    return redirect(_detail_url(requirement.pk, "evidence"))
