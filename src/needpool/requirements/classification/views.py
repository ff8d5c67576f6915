"""Admin pages for the classification rules: one page per dimension (list, add, edit, deactivate, reorder, the
change history) and an overview with the rule version and the quarterly review."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from needpool.accounts.models import User, acting_user
from needpool.core.concurrency import StaleVersion
from needpool.core.models import AuditEntry
from needpool.core.views import add_service_errors, error_text, paginate
from needpool.requirements.choices import Dimension
from needpool.requirements.classification import selectors
from needpool.requirements.models import ClassOption
from needpool.requirements.services import (
    current_rule_version,
    option_create,
    option_move,
    option_set_active,
    option_update,
    rules_review_mark,
)
from needpool.requirements.services.classification import (
    PARENT_DIMENSIONS,
    SLA_MAX_HOURS,
    SORT_MAX,
    may_configure,
    review_due,
)

HISTORY_PAGE = 20
_FIELD_NAMES = ("key", "label", "label_en", "sla_hours", "parent", "sort_order", "is_active", "description")


def _admin(request: HttpRequest) -> User:
    user = acting_user(request.user)
    if not may_configure(user):
        raise PermissionDenied(_("只有管理员可以维护分类规则。"))
    return user


def _dimension(value: str) -> str:
    if value not in Dimension.values:
        raise Http404
    return value


def _option(pk: int) -> ClassOption:
    option = ClassOption.objects.select_related("parent").filter(pk=pk).first()
    if option is None:
        raise Http404
    return option


def _int_errors(low: int, high: int, field: Any) -> dict[str, Any]:
    message = gettext_lazy("%(field)s须为 %(low)s 到 %(high)s 之间的整数。") % {
        "field": field,
        "low": low,
        "high": high,
    }
    return {"invalid": message, "min_value": message, "max_value": message}


class OptionForm(forms.Form):
    """One option's fields; SLA hours only for urgencies, a parent only for types and categories. Ranges and
    duplicates are checked by the service, so one save shows every problem at once."""

    label = forms.CharField(label=gettext_lazy("名称"), required=False)
    label_en = forms.CharField(label=gettext_lazy("英文名称"), required=False)
    key = forms.CharField(
        label=gettext_lazy("键"),
        required=False,
        help_text=gettext_lazy("小写英文字母、数字、下划线或连字符；API 与导入用它指代该选项。"),
    )
    sla_hours = forms.IntegerField(
        label=gettext_lazy("首次响应时限（小时）"),
        required=False,
        error_messages=_int_errors(1, SLA_MAX_HOURS, gettext_lazy("首次响应时限")),
        help_text=gettext_lazy(
            "留空表示不设时限。修改后，新提交或改为该紧急程度的需求按新时限计算；已有需求保留提交时的截止时间。"
        ),
    )
    parent = forms.ModelChoiceField(
        label=gettext_lazy("上级"),
        queryset=ClassOption.objects.none(),
        required=False,
        error_messages={"invalid_choice": gettext_lazy("请选择同一分类中的上级选项。")},
    )
    sort_order = forms.IntegerField(
        label=gettext_lazy("排序"),
        required=False,
        error_messages=_int_errors(0, SORT_MAX, gettext_lazy("排序")),
        help_text=gettext_lazy("数字小的排在前面；新增时留空则排在最后。"),
    )
    is_active = forms.BooleanField(label=gettext_lazy("启用"), required=False, initial=True)
    description = forms.CharField(label=gettext_lazy("说明"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)

    def __init__(self, *args: Any, dimension: str, option: ClassOption | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if dimension != Dimension.URGENCY:
            del self.fields["sla_hours"]
        if dimension in PARENT_DIMENSIONS:
            parents = ClassOption.objects.filter(dimension=dimension).order_by("sort_order", "id")
            if option is not None:
                parents = parents.exclude(pk=option.pk)
            self.fields["parent"].queryset = parents  # type: ignore[attr-defined]
        else:
            del self.fields["parent"]

    def values(self) -> dict[str, Any]:
        data = {name: self.cleaned_data[name] for name in _FIELD_NAMES if name in self.fields}
        if data.get("sort_order") is None:
            data.pop("sort_order", None)
        return data


def _history_rows(entries: Any) -> list[dict[str, Any]]:
    """Audit rows as people read them: which option, what changed from what to what."""
    labels = {name: str(getattr(ClassOption._meta.get_field(name), "verbose_name", name)) for name in _FIELD_NAMES}
    shown = []
    for entry in entries:
        rows = []
        for name, value in (entry.changes or {}).items():
            old, new = value if isinstance(value, list) and len(value) == 2 else (None, value)
            if entry.action == AuditEntry.Action.CREATE and new in ("", None):
                continue
            rows.append({"label": labels.get(name, name), "old": _plain(old), "new": _plain(new)})
        shown.append({"entry": entry, "rows": rows})
    return shown


def _plain(value: Any) -> str:
    if value is True:
        return _("是")
    if value is False:
        return _("否")
    return "" if value is None else str(value)


def _nav(current: str) -> list[dict[str, Any]]:
    return [{"key": "", "label": _("概览"), "current": current == ""}] + [
        {"key": key, "label": label, "current": current == key} for key, label in Dimension.choices
    ]


# ---------------------------------------------------------------- pages


def index(request: HttpRequest) -> HttpResponse:
    """The rule version, the last review and the review action, and every version with what changed."""
    _admin(request)
    last = selectors.last_review()
    page = paginate(request, selectors.rule_versions(), HISTORY_PAGE)
    context = {
        "nav": _nav(""),
        "current_version": current_rule_version(),
        "last_review": last,
        "review_due": review_due(timezone.localdate()),
        "page_obj": page,
        "versions": page.object_list,
    }
    return render(request, "requirements/classification.html", context)


def dimension_page(request: HttpRequest, dimension: str) -> HttpResponse:
    """The options of one dimension in order, with how often each is used, and their change history."""
    _admin(request)
    dimension = _dimension(dimension)
    options = list(selectors.options_for(request.user, dimension, include_inactive=True))
    used = selectors.usage_counts(dimension)
    page = paginate(request, selectors.option_history(dimension), HISTORY_PAGE)
    context = {
        "nav": _nav(dimension),
        "dimension": dimension,
        "dimension_label": Dimension(dimension).label,
        "rows": [{"option": o, "used": used.get(o.pk, 0)} for o in options],
        "has_sla": dimension == Dimension.URGENCY,
        "has_parent": dimension in PARENT_DIMENSIONS,
        "page_obj": page,
        "history": _history_rows(page.object_list),
        "current_version": current_rule_version(),
    }
    return render(request, "requirements/classification_dimension.html", context)


def option_add(request: HttpRequest, dimension: str) -> HttpResponse:
    user = _admin(request)
    dimension = _dimension(dimension)
    form = OptionForm(request.POST or None, dimension=dimension)
    if request.method == "POST" and form.is_valid():
        try:
            option = option_create(actor=user, dimension=dimension, **form.values())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("已新增“%(label)s”，分类规则更新为 v%(n)s。") % _saved(option))
            return redirect("classification:dimension", dimension=dimension)
    return _form_page(request, form, dimension, None)


def option_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _admin(request)
    option = _option(pk)
    initial = {name: getattr(option, name) for name in _FIELD_NAMES} | {"version": option.version}
    form = OptionForm(request.POST or None, dimension=option.dimension, option=option, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            option = option_update(
                actor=user, option=option, expected_version=form.cleaned_data["version"], **form.values()
            )
        except StaleVersion:
            form.add_error(None, _("此选项在您打开后已被他人修改，请刷新页面查看最新内容后再保存。"))
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("已保存“%(label)s”，分类规则为 v%(n)s。") % _saved(option))
            return redirect("classification:dimension", dimension=option.dimension)
    return _form_page(request, form, option.dimension, option)


def _saved(option: ClassOption) -> dict[str, Any]:
    return {"label": option.label, "n": current_rule_version()}


def _form_page(request: HttpRequest, form: OptionForm, dimension: str, option: ClassOption | None) -> HttpResponse:
    if request.method == "POST" and form.errors:
        messages.error(request, _("未保存：请检查下面标出的问题。"))
    context = {
        "nav": _nav(dimension),
        "form": form,
        "option": option,
        "dimension": dimension,
        "dimension_label": Dimension(dimension).label,
    }
    return render(request, "requirements/classification_form.html", context, status=400 if form.errors else 200)


@require_POST
def option_active(request: HttpRequest, pk: int) -> HttpResponse:
    """Deactivate (停用) or reactivate an option."""
    user = _admin(request)
    option = _option(pk)
    active = request.POST.get("active") == "1"
    try:
        option_set_active(actor=user, option=option, active=active)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        text = _("已启用“%(label)s”。") if active else _("已停用“%(label)s”：已分类的需求保留它，新需求不再可选。")
        messages.success(request, text % {"label": option.label})
    return redirect("classification:dimension", dimension=option.dimension)


@require_POST
def option_reorder(request: HttpRequest, pk: int) -> HttpResponse:
    """Move an option up or down one place."""
    user = _admin(request)
    option = _option(pk)
    offset = {"up": -1, "down": 1}.get(request.POST.get("direction", ""))
    if offset is None:
        messages.error(request, _("请选择上移或下移。"))
    else:
        try:
            option_move(actor=user, option=option, offset=offset)
        except ValidationError as exc:
            messages.error(request, error_text(exc))
    return redirect(f"{_dimension_url(option.dimension)}#option-{option.pk}")


def _dimension_url(dimension: str) -> str:
    return reverse("classification:dimension", kwargs={"dimension": dimension})


class ReviewForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("复核说明（可选）"), required=False)


@require_POST
def review_mark(request: HttpRequest) -> HttpResponse:
    """标记为已复核: record that the rules were reviewed at the current version."""
    user = _admin(request)
    form = ReviewForm(request.POST)
    form.is_valid()
    try:
        review = rules_review_mark(actor=user, note=form.cleaned_data.get("note", ""))
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("已记录：分类规则 v%(n)s 已复核。") % {"n": review.rule_version})
    return redirect("classification:index")
