"""Input validation of the delivery pages; the views then call a service."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from needpool.accounts.models import Team, User
from needpool.core.validation import DateFormField, DateTimeFormField
from needpool.customers.models import Contact
from needpool.delivery.choices import Comparator, Strategy, TaskStatus
from needpool.delivery.models import Iteration, Plan, Task

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
_CODES = re.compile(r"[\s,，、;；]+")
_MILESTONE = re.compile(r"^\s*(?P<title>.+?)\s+(?P<date>\d{4}-\d{1,2}-\d{1,2})(?:\s+(?P<done>[xX✓√]))?\s*$")
MAX_CODES = 200


def active_users() -> QuerySet[User]:
    return User.objects.filter(is_active=True).order_by("username")


def split_codes(text: str) -> list[str]:
    return [c for c in _CODES.split(text or "") if c][:MAX_CODES]


class IterationForm(forms.Form):
    name = forms.CharField(label=_("名称"), max_length=100)
    goal = forms.CharField(label=_("目标"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    start_date = DateFormField(label=_("开始日期"), widget=DATE_WIDGET)
    end_date = DateFormField(label=_("结束日期"), widget=DATE_WIDGET)
    status = forms.ChoiceField(label=_("状态"), choices=Iteration.Status.choices)
    is_public = forms.BooleanField(label=_("公开到门户路线图"), required=False)
    public_summary = forms.CharField(
        label=_("公开说明"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("门户路线图只显示迭代名称、日期和这段说明，不显示需求、客户或负责人。"),
    )


class AddRequirementsForm(forms.Form):
    codes = forms.CharField(
        label=_("需求编号"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "REQ-2024-0001, REQ-2024-0002"}),
        help_text=_("一个或多个需求编号，用空格、逗号或换行分隔。"),
    )


class PlanForm(forms.Form):
    title = forms.CharField(label=_("计划名称"), max_length=200)
    requirement_codes = forms.CharField(
        label=_("需求编号"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("本计划满足的需求，可填多个编号。"),
    )
    strategy = forms.ChoiceField(label=_("满足策略"), choices=Strategy.choices)
    solution = forms.CharField(label=_("方案"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    team = forms.ModelChoiceField(label=_("负责部门"), queryset=Team.objects.order_by("name"), required=False)
    owner = forms.ModelChoiceField(label=_("负责人"), queryset=User.objects.none(), required=False)
    start_date = DateFormField(label=_("开始日期"), widget=DATE_WIDGET)
    end_date = DateFormField(label=_("完成日期"), widget=DATE_WIDGET)
    milestones = forms.CharField(
        label=_("里程碑"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "PRD 评审 2024-03-05\n开发完成 2024-04-10"}),
        help_text=_("每行一个：名称 日期（YYYY-MM-DD），已完成的在末尾加 x。"),
    )
    budget = forms.DecimalField(label=_("预算（元）"), required=False, max_digits=14, decimal_places=2, min_value=0)
    people = forms.CharField(label=_("人员"), required=False, max_length=300)
    tools = forms.CharField(label=_("工具"), required=False, max_length=300)
    metric_name = forms.CharField(label=_("验收指标"), required=False, max_length=60, help_text=_("例如：使用率"))
    comparator = forms.ChoiceField(label=_("比较"), choices=Comparator.choices, initial=Comparator.GE)
    target_value = forms.DecimalField(label=_("目标值"), required=False, max_digits=14, decimal_places=2)
    unit = forms.CharField(label=_("单位"), required=False, max_length=20, help_text=_("例如：%"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = active_users()  # type: ignore[attr-defined]

    def clean_milestones(self) -> list[dict[str, Any]]:
        rows = []
        for number, line in enumerate((self.cleaned_data.get("milestones") or "").splitlines(), start=1):
            if not line.strip():
                continue
            match = _MILESTONE.match(line)
            if not match:
                raise ValidationError(_("第 %(n)s 行格式应为：名称 YYYY-MM-DD"), params={"n": number})
            try:
                day = dt.date.fromisoformat("-".join(p.zfill(2) for p in match["date"].split("-")))
            except ValueError as exc:
                raise ValidationError(_("第 %(n)s 行的日期无效。"), params={"n": number}) from exc
            rows.append({"title": match["title"], "date": day, "done": bool(match["done"])})
        return rows

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("requirement_codes", None)
        return data

    @staticmethod
    def initial_for(plan: Plan, codes: list[str]) -> dict[str, Any]:
        data = {
            name: getattr(plan, name)
            for name in (
                "title",
                "strategy",
                "solution",
                "team",
                "owner",
                "start_date",
                "end_date",
                "budget",
                "people",
                "tools",
                "metric_name",
                "comparator",
                "target_value",
                "unit",
            )
        }
        data["requirement_codes"] = " ".join(codes)
        data["milestones"] = "\n".join(
            f"{m.title} {m.date.isoformat()}{' x' if m.done else ''}" for m in plan.milestones.order_by("date", "id")
        )
        return data


class TaskForm(forms.Form):
    title = forms.CharField(label=_("任务"), max_length=200)
    owner = forms.ModelChoiceField(label=_("负责人"), queryset=User.objects.none(), required=False)
    start_date = DateFormField(label=_("开始日期"), widget=DATE_WIDGET)
    due_date = DateFormField(label=_("截止日期"), widget=DATE_WIDGET)
    deliverable = forms.CharField(label=_("交付物"), required=False, max_length=300)
    status = forms.ChoiceField(label=_("状态"), choices=TaskStatus.choices)
    depends_on = forms.ModelMultipleChoiceField(
        label=_("前置任务"), queryset=Task.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, plan: Plan, task: Task | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = active_users()  # type: ignore[attr-defined]
        others = plan.tasks.order_by("start_date", "id")
        if task is not None:
            others = others.exclude(pk=task.pk)
        self.fields["depends_on"].queryset = others  # type: ignore[attr-defined]


class TaskMoveForm(forms.Form):
    status = forms.ChoiceField(label=_("状态"), choices=TaskStatus.choices)
    version = forms.IntegerField(required=False, min_value=1, max_value=2**31 - 1, widget=forms.HiddenInput)
    next = forms.CharField(required=False, max_length=300, widget=forms.HiddenInput)


class AcceptanceForm(forms.Form):
    plan = forms.ModelChoiceField(label=_("计划"), queryset=Plan.objects.none(), required=False)
    accepted_by_contact = forms.ModelChoiceField(
        label=_("验收人（客户联系人）"), queryset=Contact.objects.none(), required=False
    )
    accepted_by_user = forms.ModelChoiceField(
        label=_("验收人（内部人员）"), queryset=User.objects.none(), required=False
    )
    accepted_at = DateTimeFormField(label=_("验收时间"), widget=DATETIME_WIDGET)
    passed = forms.TypedChoiceField(
        label=_("验收结果"),
        choices=[("1", _("通过")), ("0", _("不通过"))],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
    )
    actual_value = forms.DecimalField(label=_("实际值"), required=False, max_digits=14, decimal_places=2)
    remarks = forms.CharField(
        label=_("备注"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, plans: QuerySet[Plan], contacts: QuerySet[Contact], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["plan"].queryset = plans  # type: ignore[attr-defined]
        self.fields["accepted_by_contact"].queryset = contacts  # type: ignore[attr-defined]
        self.fields["accepted_by_user"].queryset = active_users()  # type: ignore[attr-defined]


class ChangeRequestForm(forms.Form):
    what = forms.CharField(label=_("变更内容"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))
    why = forms.CharField(label=_("变更原因"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))
    requested_by = forms.CharField(label=_("提出人"), required=False, max_length=100, help_text=_("留空则为您本人。"))


class EvaluateForm(forms.Form):
    impact_scope = forms.CharField(label=_("范围影响"), max_length=4000, widget=forms.Textarea(attrs={"rows": 2}))
    impact_schedule = forms.CharField(label=_("进度影响"), max_length=4000, widget=forms.Textarea(attrs={"rows": 2}))
    impact_cost = forms.CharField(label=_("成本影响"), max_length=4000, widget=forms.Textarea(attrs={"rows": 2}))
    impact_risk = forms.CharField(label=_("风险"), max_length=4000, widget=forms.Textarea(attrs={"rows": 2}))


class DecideForm(forms.Form):
    approved = forms.TypedChoiceField(
        label=_("决策"),
        choices=[("1", _("批准")), ("0", _("驳回"))],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(label=_("决策理由"), max_length=4000, widget=forms.Textarea(attrs={"rows": 2}))


class NoteForm(forms.Form):
    note = forms.CharField(label=_("说明"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 2}))
