"""Pages for merging duplicate requirements, undoing a merge, watching, and the merged requirement's redirect."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from needpool.accounts.models import acting_user
from needpool.core.text import human_join
from needpool.core.validation import ID_MAX, ID_MIN, parse_id
from needpool.core.views import error_text
from needpool.requirements.merging.permissions import may_merge
from needpool.requirements.merging.selectors import (
    MAX_MERGED,
    merge_get,
    merge_preview,
    requirement_by_code,
    survivor_of,
)
from needpool.requirements.merging.services import (
    left_message,
    requirement_unwatch,
    requirement_watch,
    requirements_merge,
    requirements_merge_undo,
)
from needpool.requirements.models import NOTE_MAX_LENGTH, Requirement
from needpool.requirements.permissions import visible_requirements
from needpool.requirements.selectors import requirement_get


class MergeForm(forms.Form):
    """What the merge page posts: the selection, the survivor among it, and an optional note."""

    survivor = forms.IntegerField(
        label=gettext_lazy("保留需求"),
        min_value=ID_MIN,
        max_value=ID_MAX,
        error_messages={"required": gettext_lazy("请选择保留的需求。"), "invalid": gettext_lazy("请选择保留的需求。")},
    )
    note = forms.CharField(label=gettext_lazy("合并说明（可选）"), max_length=NOTE_MAX_LENGTH, required=False)


def _detail_url(pk: int, anchor: str = "") -> str:
    return reverse("requirements:detail", args=[pk]) + (f"#{anchor}" if anchor else "")


def _parse_ids(values: list[str]) -> tuple[list[int], list[str]]:
    """Ids from ``?ids=1,2&ids=3`` in order, without repeats; and the tokens that are not ids."""
    ids: dict[int, None] = {}
    bad: list[str] = []
    for value in values:
        for token in value.replace("，", ",").split(","):
            token = token.strip()
            if not token:
                continue
            pk = parse_id(token)
            if pk is not None:
                ids.setdefault(pk, None)
            else:
                bad.append(token)
    return list(ids), bad


def _default_survivor(rows: list[Requirement]) -> int | None:
    """The one with the most evidence, then the oldest: usually the one to keep."""
    candidates = [r for r in rows if not r.merged_into_id]
    if not candidates:
        return None
    best = max(candidates, key=lambda r: (r.feedback_count, -r.submitted_at.timestamp(), -r.pk))  # type: ignore[attr-defined]
    return best.pk


SUMMARY = gettext_lazy(
    "保留 {code} 时，将转入反馈 {f} 条、评论 {c} 条、附件 {a} 个、关注人最多 {w} 人（已关注保留需求的不重复计入）。"
)


def _summary(rows: list[Requirement], survivor_pk: int | None) -> str:
    """What the rows other than the survivor bring (the page's script redoes it when the choice changes)."""
    survivor = next((r for r in rows if r.pk == survivor_pk), None)
    if survivor is None:
        return ""
    others = [r for r in rows if r.pk != survivor_pk]
    return str(SUMMARY).format(
        code=survivor.code,
        f=sum(r.feedback_count for r in others),  # type: ignore[attr-defined]
        c=sum(r.comment_count for r in others),  # type: ignore[attr-defined]
        a=sum(r.attachment_count for r in others),  # type: ignore[attr-defined]
        w=sum(r.watcher_count for r in others),  # type: ignore[attr-defined]
    )


def merge_page(request: HttpRequest) -> HttpResponse:
    """Choose the survivor among the selected requirements, see what will move, confirm."""
    user = request.user
    if not may_merge(user):
        raise PermissionDenied(_("您没有合并需求的权限。"))
    source = request.POST if request.method == "POST" else request.GET
    ids, bad = _parse_ids(source.getlist("ids"))
    errors: list[str] = []
    if bad:
        errors.append(_("需求编号“%(value)s”无效。") % {"value": human_join(bad)})
    preferred: int | None = None
    for key in ("add", "into"):
        code = source.get(key, "").strip()
        if not code:
            continue
        found = requirement_by_code(user=user, code=code)
        if found is None:
            errors.append(_("需求 %(code)s 不存在或您无权访问。") % {"code": code})
            continue
        if found.pk not in ids:
            ids.append(found.pk)
        if key == "into":
            preferred = found.pk
    if len(ids) > MAX_MERGED:
        errors.append(_("一次最多合并 %(n)s 个需求。") % {"n": MAX_MERGED})
        ids = ids[:MAX_MERGED]
    rows = merge_preview(user=user, ids=ids)
    missing = [pk for pk in ids if pk not in {r.pk for r in rows}]
    if missing:
        errors.append(_("需求 %(ids)s 不存在或您无权访问。") % {"ids": human_join([f"#{pk}" for pk in missing])})
    ids = [r.pk for r in rows]

    form = MergeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        survivor = form.cleaned_data["survivor"]
        try:
            merge = requirements_merge(
                actor=acting_user(user),
                survivor_id=survivor,
                merged_ids=[pk for pk in ids if pk != survivor],
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            errors.append(error_text(exc))
        else:
            codes = human_join([r.code for r in merge.merged.all()])
            messages.success(
                request, _("已将 %(merged)s 合并到 %(code)s。") % {"merged": codes, "code": merge.survivor.code}
            )
            return redirect(_detail_url(merge.survivor_id))
    elif request.method == "POST":
        errors.extend(str(e) for field_errors in form.errors.values() for e in field_errors)

    chosen = parse_id(source.get("survivor", ""))
    survivor_pk = chosen if chosen in ids else preferred or _default_survivor(rows)
    blocked = [r for r in rows if r.merged_into_id or not r.editable]  # type: ignore[attr-defined]
    if len(rows) < 2:
        errors.append(_("请至少选择两个需求进行合并。"))
    context = {
        "rows": rows,
        "ids": ids,
        "ids_text": ",".join(str(pk) for pk in ids),
        "survivor_pk": survivor_pk,
        "form": form,
        "note": source.get("note", ""),
        "note_max_length": NOTE_MAX_LENGTH,
        "errors": errors,
        "blocked": blocked,
        "can_submit": len(rows) >= 2 and not blocked,
        "summary_template": SUMMARY,
        "summary": _summary(rows, survivor_pk),
    }
    return render(request, "requirements/merge.html", context, status=400 if request.method == "POST" else 200)


@require_POST
def merge_undo_action(request: HttpRequest, pk: int) -> HttpResponse:
    merge = merge_get(user=request.user, pk=pk)
    try:
        undone = requirements_merge_undo(actor=acting_user(request.user), merge=merge)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return redirect(_detail_url(merge.survivor_id, "merge-history"))
    codes = human_join([r.code for r in undone.merge.merged.all()])
    messages.success(request, _("已撤销合并：%(codes)s 已恢复。") % {"codes": codes})
    leftover = left_message(undone)
    if leftover:
        messages.warning(request, leftover)
    return redirect(_detail_url(merge.survivor_id, "merge-history"))


@require_POST
def watch_action(request: HttpRequest, pk: int) -> HttpResponse:
    requirement = requirement_get(user=request.user, pk=pk)
    try:
        if requirement_watch(actor=acting_user(request.user), requirement=requirement):
            messages.success(request, _("已关注需求 %(code)s：合并等变动会通知您。") % {"code": requirement.code})
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    return redirect(_detail_url(requirement.pk))


@require_POST
def unwatch_action(request: HttpRequest, pk: int) -> HttpResponse:
    requirement = requirement_get(user=request.user, pk=pk)
    if requirement_unwatch(actor=acting_user(request.user), requirement=requirement):
        messages.success(request, _("已取消关注需求 %(code)s。") % {"code": requirement.code})
    return redirect(_detail_url(requirement.pk))


def merged_redirect(request: HttpRequest, requirement: Requirement) -> HttpResponse | None:
    """A merged requirement's page sends the reader on to the survivor (302, with a notice).

    ``None`` (show the merged requirement itself) when the survivor is hidden from the reader, or the
    reader asked for the merged record (``?merged=1``, linked from the survivor's "merged from" list).
    """
    if not requirement.merged_into_id or request.GET.get("merged"):
        return None
    survivor = survivor_of(requirement)
    if survivor is None or not visible_requirements(request.user).filter(pk=survivor.pk).exists():
        return None
    messages.info(
        request, _("%(merged)s 已合并到 %(survivor)s") % {"merged": requirement.code, "survivor": survivor.code}
    )
    return redirect(_detail_url(survivor.pk))
