"""Input validation for the requirement pages; the views then call requirements.services."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from django import forms
from django.db.models import Q, QuerySet
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from needpool.accounts.models import User
from needpool.core.concurrency import VersionedForm
from needpool.core.validation import DateFormField
from needpool.customers.forms import customer_field
from needpool.customers.models import Contact, Customer
from needpool.customers.permissions import visible_customers
from needpool.requirements.choices import Channel, Dimension, Priority
from needpool.requirements.filters import RequirementFilter
from needpool.requirements.models import NOTE_MAX_LENGTH, ClassOption, Requirement, Workflow, WorkflowStatus
from needpool.requirements.selectors import filter_statuses

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")

SORT_LABELS = {
    "-submitted_at": _("最新提交"),
    "submitted_at": _("最早提交"),
    "expected_date": _("期望时间（由近到远）"),
    "-expected_date": _("期望时间（由远到近）"),
    "priority": _("优先级"),
    "-updated_at": _("最近更新"),
    "code": _("编号（升序）"),
    "-code": _("编号（降序）"),
}
YES_NO = [("", _("全部")), ("true", _("是")), ("false", _("否"))]


def _option_queryset(dimension: str, current: Any = None) -> QuerySet[ClassOption]:
    """Active options of one dimension, plus the one already chosen (so an old choice stays valid)."""
    condition = Q(is_active=True)
    if current is not None:
        condition |= Q(pk=getattr(current, "pk", current))
    return ClassOption.objects.filter(Q(dimension=dimension) & condition).order_by("sort_order", "id")


def _users() -> QuerySet[User]:
    return User.objects.filter(is_active=True).order_by("username")


class _RequirementFieldsForm(forms.Form):
    """The fields shared by the create and edit forms."""

    title = forms.CharField(label=_("标题"), max_length=200)
    description = forms.CharField(label=_("描述"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    background = forms.CharField(label=_("背景"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    concrete_ask = forms.CharField(label=_("具体诉求"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    expected_date = DateFormField(label=_("期望时间"), required=False, widget=DATE_WIDGET)
    type = forms.ModelChoiceField(label=_("需求类型"), queryset=ClassOption.objects.none(), required=False)
    urgency = forms.ModelChoiceField(label=_("紧急程度"), queryset=ClassOption.objects.none(), required=False)
    nature = forms.ModelChoiceField(label=_("需求性质"), queryset=ClassOption.objects.none(), required=False)
    source = forms.ModelChoiceField(label=_("显性/隐性"), queryset=ClassOption.objects.none(), required=False)
    category = forms.ModelChoiceField(label=_("功能/非功能/业务"), queryset=ClassOption.objects.none(), required=False)
    tags = forms.ModelMultipleChoiceField(
        label=_("标签"), queryset=ClassOption.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    owner = forms.ModelChoiceField(label=_("负责人"), queryset=User.objects.none(), required=False)

    OPTION_FIELDS = {
        "type": Dimension.TYPE,
        "urgency": Dimension.URGENCY,
        "nature": Dimension.NATURE,
        "source": Dimension.SOURCE,
        "category": Dimension.CATEGORY,
    }

    def __init__(self, *args: Any, instance: Requirement | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, dimension in self.OPTION_FIELDS.items():
            current = getattr(instance, f"{name}_id", None) if instance is not None else None
            self.fields[name].queryset = _option_queryset(dimension, current)  # type: ignore[attr-defined]
        tag_condition = Q(is_active=True)
        if instance is not None and instance.pk:
            tag_condition |= Q(pk__in=[t.pk for t in instance.tags.all()])
        self.fields["tags"].queryset = ClassOption.objects.filter(  # type: ignore[attr-defined]
            Q(dimension=Dimension.TAG) & tag_condition
        ).order_by("sort_order", "id")
        self.fields["owner"].queryset = _users()  # type: ignore[attr-defined]


class RequirementCreateForm(_RequirementFieldsForm):
    """New requirement: the customer's words are recorded as its first feedback item."""

    customer = forms.ModelChoiceField(label=_("客户"), queryset=Customer.objects.none(), required=False)
    contact = forms.ModelChoiceField(label=_("联系人"), queryset=Contact.objects.none(), required=False)
    channel = forms.ChoiceField(label=_("渠道"), choices=Channel.choices, initial=Channel.SALES)

    field_order = [
        "customer",
        "contact",
        "channel",
        "title",
        "description",
        "background",
        "concrete_ask",
        "expected_date",
        "type",
        "urgency",
        "nature",
        "source",
        "category",
        "tags",
        "owner",
    ]

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["customer"] = customer_field(visible_customers(user), label=_("客户"), required=False)
        # Picking a customer reloads the contact choices (htmx; without JS, after a submit).
        self.fields["customer"].widget.attrs.update(
            {
                "hx-get": reverse_lazy("customers:contact_options"),
                "hx-target": "#id_contact",
                "hx-trigger": "change",
                "hx-swap": "innerHTML",
            }
        )
        contacts = Contact.objects.none()
        try:
            chosen = self.fields["customer"].to_python(self["customer"].value())
        except forms.ValidationError:
            chosen = None
        if chosen is not None:
            contacts = Contact.objects.filter(customer=chosen)
        self.fields["contact"].queryset = contacts.order_by("id")  # type: ignore[attr-defined]


class RequirementEditForm(VersionedForm, _RequirementFieldsForm):
    """The edit form: carries the version and the values it was opened with (``core.concurrency``)."""

    priority = forms.ChoiceField(label=_("优先级"), choices=[("", "—"), *Priority.choices], required=False)

    def __init__(self, *args: Any, instance: Requirement, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial",
            {
                "title": instance.title,
                "description": instance.description,
                "background": instance.background,
                "concrete_ask": instance.concrete_ask,
                "expected_date": instance.expected_date,
                "type": instance.type_id,
                "urgency": instance.urgency_id,
                "nature": instance.nature_id,
                "source": instance.source_id,
                "category": instance.category_id,
                "tags": [t.pk for t in instance.tags.all()],
                "owner": instance.owner_id,
                "priority": instance.priority,
            },
        )
        super().__init__(*args, instance=instance, **kwargs)


class TransitionForm(forms.Form):
    to = forms.SlugField(label=_("目标状态"), max_length=40)
    note = forms.CharField(label=_("备注"), max_length=NOTE_MAX_LENGTH, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The status the page showed (optional): a move from a status that is gone is refused with the current one.
        self.fields["from"] = forms.CharField(max_length=40, required=False)


class CommentForm(forms.Form):
    body = forms.CharField(
        label=_("评论"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": _("输入评论，使用 @用户名 提及同事")}),
    )


class AttachmentForm(forms.Form):
    file = forms.FileField(label=_("附件"))


class LinkFeedbackForm(forms.Form):
    feedback = forms.IntegerField(
        label=_("关联已有反馈"), min_value=1, help_text=_("输入反馈编号（# 后的数字），把它归入本需求")
    )


class StatusFilterField(forms.ChoiceField):
    """The listed statuses, and a bare key too: a link such as the board's names a key, which stands for
    that status in every flow (the list then shows both flows' statuses of that key)."""

    def __init__(self, *, keys: set[str], **kwargs: Any) -> None:
        self.keys = keys
        super().__init__(**kwargs)

    def valid_value(self, value: Any) -> bool:
        return value in self.keys or super().valid_value(value)


def _flow_names(statuses: list[WorkflowStatus]) -> dict[int, str]:
    """Each flow's short name (标准流程 for 标准流程（待处理 → …）), or its full name where short ones clash."""
    flows = {s.workflow_id: s.workflow for s in statuses}
    short = {pk: re.split(r"[（(]", flow.name, maxsplit=1)[0].strip() or flow.name for pk, flow in flows.items()}
    clash = {name for name, n in Counter(short.values()).items() if n > 1}
    return {pk: flows[pk].name if name in clash else name for pk, name in short.items()}


def status_filter_choices(workflow: Workflow | None) -> list[tuple[str, str]]:
    """The statuses requirements can be found in (see ``filter_statuses``). A key two flows share becomes
    ``flow:key``, and a label two flows share names its flow: 测试中（标准流程）, 测试中（评审流程）."""
    statuses = filter_statuses(workflow)
    keys = Counter(s.key for s in statuses)
    labels = Counter(str(s) for s in statuses)
    flows = _flow_names(statuses)
    choices = []
    for s in statuses:
        value = s.key if keys[s.key] == 1 else f"{s.workflow.key}:{s.key}"
        label = str(s)
        if labels[label] > 1:
            label = _("%(status)s（%(flow)s）") % {"status": label, "flow": flows[s.workflow_id]}
        choices.append((value, label))
    return choices


def requirement_filter_form(data: Any, *, user: Any, workflow: Workflow | None) -> forms.Form:
    """The list / board filter form: RequirementFilter's own form, with page-friendly widgets and choices."""
    form = RequirementFilter(data, queryset=Requirement.objects.none()).form
    fields = form.fields
    fields["q"].widget.input_type = "search"
    fields["q"].widget.attrs["placeholder"] = _("标题、描述、编号")
    for name in ("type", "urgency", "tag", "owner"):
        fields[name].empty_label = _("全部")
    fields["customer"] = customer_field(visible_customers(user), label=_("客户"), required=False, empty_label=_("全部"))
    fields["owner"].queryset = _users()
    statuses = status_filter_choices(workflow)
    fields["status"] = StatusFilterField(
        label=_("状态"),
        required=False,
        choices=[("", _("全部")), *statuses],
        keys={value.rpartition(":")[2] for value, _label in statuses},
    )
    fields["priority"] = forms.ChoiceField(
        label=_("优先级"), required=False, choices=[("", _("全部")), *Priority.choices]
    )
    fields["sla_breached"] = forms.ChoiceField(label=_("SLA 超时"), required=False, choices=YES_NO)
    fields["sort"] = forms.ChoiceField(label=_("排序"), required=False, choices=list(SORT_LABELS.items()))
    for name in ("submitted_after", "submitted_before", "expected_after", "expected_before"):
        fields[name].widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    return form


# The filters the list / board form shows as fields; any other filter in the address (a report's slice such as
# team, segment or overdue, or nature / source / category) is kept as a hidden field and named above the list.
SHOWN_FILTERS = frozenset(
    {
        "q", "sort", "type", "urgency", "status", "priority", "customer", "owner", "tag", "sla_breached",
        "submitted_after", "submitted_before", "expected_after", "expected_before", "page", "page_size",
    }
)  # fmt: skip


def _shown_value(field: forms.Field, value: str) -> str:
    if isinstance(field, forms.NullBooleanField | forms.BooleanField):
        lowered = value.strip().lower()
        return str(_("是")) if lowered in {"true", "1", "yes", "on"} else str(_("否"))
    if isinstance(field, forms.ModelChoiceField) and field.queryset is not None:
        option = field.queryset.filter(Q(key=value) if not value.isdigit() else Q(pk=value)).first()
        return str(option) if option is not None else value
    choices = dict(getattr(field, "choices", ()) or ())
    return str(choices.get(value, value))


def extra_filters(data: Any, form: forms.Form, *, board: bool = False) -> list[dict[str, str]]:
    """The filters in ``data`` the form does not show (each: name, label, value, shown, the address without it),
    so a list opened from a report says what it counts and the form keeps those filters when it is submitted."""
    from urllib.parse import urlencode

    from needpool.accounts.models import Team

    if not data:
        return []
    shown = SHOWN_FILTERS - ({"status"} if board else set())
    out: list[dict[str, str]] = []
    for name in data:
        value = str(data.get(name, "")).strip()
        if name in shown or not value or name not in form.fields or name == "ids":
            continue
        field = form.fields[name]
        if name == "team":
            team = Team.objects.filter(pk=value).first() if value.isdigit() else None
            display = team.name if team is not None else value
        elif name == "project":
            display = f"#{value}"
        else:
            display = _shown_value(field, value)
        rest = [(k, v) for k, v in data.items() if k not in (name, "page")]
        out.append(
            {"name": name, "label": str(field.label), "value": value, "shown": display, "without": urlencode(rest)}
        )
    return out
