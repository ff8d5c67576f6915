"""Analysis projects: name, goal, leader, period, scope and members with their duties."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from needpool.accounts.models import User
from needpool.analysis.forms.common import DATE_WIDGET, active_users
from needpool.analysis.models import AnalysisProject
from needpool.core.validation import DateFormField
from needpool.customers.choices import Segment

_SPLIT = re.compile(r"[,，、;；\n]+")
_MEMBER_LINE = re.compile(r"^\s*@?([\w.@+-]+)\s*(?:[:：]\s*(.*))?$")


def _split_values(text: str) -> list[str]:
    return [v.strip() for v in _SPLIT.split(text or "") if v.strip()]


class ProjectForm(forms.Form):
    name = forms.CharField(label=_("项目名称"), max_length=120)
    goal = forms.CharField(
        label=_("分析目标"), widget=forms.Textarea(attrs={"rows": 3, "placeholder": _("例如：提升新客户转化率")})
    )
    leader = forms.ModelChoiceField(label=_("负责人"), queryset=User.objects.none())
    start_date = DateFormField(label=_("开始日期"), widget=DATE_WIDGET)
    end_date = DateFormField(label=_("结束日期"), widget=DATE_WIDGET)
    industries = forms.CharField(
        label=_("行业"), required=False, max_length=500, help_text=_("多个用逗号或顿号分隔，例如：制造、零售")
    )
    regions = forms.CharField(
        label=_("地区"), required=False, max_length=500, help_text=_("多个用逗号或顿号分隔，例如：华东、华南")
    )
    segments = forms.MultipleChoiceField(
        label=_("客户分层"), choices=Segment.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    top_n_by_order = forms.IntegerField(
        label=_("按订单金额取前 N 名客户"), min_value=1, max_value=10000, required=False
    )
    period_start = DateFormField(label=_("需求提交时间从"), required=False, widget=DATE_WIDGET)
    period_end = DateFormField(label=_("需求提交时间至"), required=False, widget=DATE_WIDGET)
    members = forms.CharField(
        label=_("团队成员与职责"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": _("engineer: 评估技术可行性\nsales: 访谈重点客户")}),
        help_text=_("每行一位：用户名: 职责"),
    )

    def __init__(self, *args: Any, project: AnalysisProject | None = None, **kwargs: Any) -> None:
        if project is not None:
            scope = project.scope or {}
            kwargs.setdefault(
                "initial",
                {
                    "name": project.name,
                    "goal": project.goal,
                    "leader": project.leader_id,
                    "start_date": project.start_date,
                    "end_date": project.end_date,
                    "industries": "、".join(scope.get("industries", [])),
                    "regions": "、".join(scope.get("regions", [])),
                    "segments": scope.get("segments", []),
                    "top_n_by_order": scope.get("top_n_by_order"),
                    "period_start": scope.get("period_start"),
                    "period_end": scope.get("period_end"),
                    "members": "\n".join(
                        f"{m.user.get_username()}: {m.duty}" if m.duty else m.user.get_username()
                        for m in project.members.all()
                    ),
                },
            )
        super().__init__(*args, **kwargs)
        self.fields["leader"].queryset = active_users()  # type: ignore[attr-defined]

    def clean_members(self) -> list[tuple[User, str]]:
        lines = [line for line in (self.cleaned_data.get("members") or "").splitlines() if line.strip()]
        parsed: list[tuple[str, str]] = []
        for number, line in enumerate(lines, start=1):
            match = _MEMBER_LINE.match(line)
            if not match:
                raise forms.ValidationError(
                    _("第 %(n)s 行格式不对，应为“用户名: 职责”。") % {"n": number}, code="format"
                )
            parsed.append((match.group(1), (match.group(2) or "").strip()))
        found = {u.username: u for u in active_users().filter(username__in=[name for name, _duty in parsed])}
        unknown = [name for name, _duty in parsed if name not in found]
        if unknown:
            raise forms.ValidationError(
                _("没有这些用户：%(names)s。") % {"names": "、".join(unknown)}, code="unknown_user"
            )
        return [(found[name], duty) for name, duty in parsed]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("start_date"), cleaned.get("end_date")
        if isinstance(start, dt.date) and isinstance(end, dt.date) and end < start:
            self.add_error("end_date", _("结束日期不能早于开始日期。"))
        return cleaned

    def service_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "goal": data["goal"],
            "leader": data["leader"],
            "start_date": data["start_date"],
            "end_date": data["end_date"],
            "scope": {
                "industries": _split_values(data.get("industries", "")),
                "regions": _split_values(data.get("regions", "")),
                "segments": list(data.get("segments") or []),
                "top_n_by_order": data.get("top_n_by_order"),
                "period_start": data.get("period_start"),
                "period_end": data.get("period_end"),
            },
            "members": data.get("members") or [],
        }
