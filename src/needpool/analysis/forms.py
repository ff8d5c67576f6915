"""Input parsing for the analysis desk pages; the views then call analysis.services."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from needpool.accounts.models import User
from needpool.analysis.choices import ComplianceStatus, FishboneCategory, KanoAnswer, MoSCoW, PriorityModelKind
from needpool.analysis.models import AnalysisProject, AnalysisSettings, RequirementAnalysis
from needpool.analysis.scoring import RICE_IMPACTS
from needpool.analysis.services import DEFAULT_THRESHOLDS, MAX_WHYS
from needpool.customers.choices import Segment
from needpool.customers.models import Customer
from needpool.requirements.choices import Priority

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
ONE_TO_FIVE = [("", "—"), *((n, str(n)) for n in range(1, 6))]
IMPACT_LABELS = {
    0.25: _("0.25 极小"),
    0.5: _("0.5 小"),
    1: _("1 中"),
    2: _("2 大"),
    3: _("3 巨大"),
}
DEFAULT_WEIGHTS_3D = {"importance": 40.0, "urgency": 40.0, "cost": 20.0}
THRESHOLD_MODELS = tuple(DEFAULT_THRESHOLDS)


def _one_to_five(label: Any) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(label=label, choices=ONE_TO_FIVE, coerce=int, empty_value=None, required=False)


def _users() -> QuerySet[User]:
    return User.objects.filter(is_active=True).order_by("username")


def _number(value: float) -> str:
    """A weight or threshold as typed: 30 rather than 30.0."""
    return f"{value:g}"


def _plain_number(value: Any) -> Any:
    """30.0 → 30 for a form's initial value (the field still parses it as a float)."""
    if value is None:
        return None
    number = float(value)
    return int(number) if number.is_integer() else number


# ---------------------------------------------------------------- one requirement's desk


class ScoresForm(forms.Form):
    """Every priority model's inputs; the active model's section is highlighted by the page."""

    urgency_score = _one_to_five(_("紧急度（1–5）"))
    importance_score = _one_to_five(_("重要性（1–5）"))
    resource_cost = _one_to_five(_("资源成本（1–5）"))
    value_score = _one_to_five(_("价值（1–5）"))
    cost_score = _one_to_five(_("成本（1–5）"))
    reach = forms.IntegerField(label=_("覆盖人数 Reach"), min_value=0, required=False)
    impact = forms.ChoiceField(
        label=_("影响 Impact"),
        choices=[("", "—"), *((_number(v), IMPACT_LABELS[v]) for v in RICE_IMPACTS)],
        required=False,
    )
    confidence = forms.IntegerField(label=_("信心 Confidence（%）"), min_value=0, max_value=100, required=False)
    effort = forms.DecimalField(
        label=_("工作量 Effort（人月）"), min_value=Decimal("0.01"), max_digits=8, decimal_places=2, required=False
    )
    moscow = forms.ChoiceField(label=_("MoSCoW"), choices=[("", "—"), *MoSCoW.choices], required=False)

    SECTIONS: tuple[tuple[str, Any, tuple[str, ...]], ...] = (
        (PriorityModelKind.MATRIX, _("紧急 × 重要矩阵"), ("urgency_score", "importance_score")),
        (PriorityModelKind.MATRIX_3D, _("三维：另需资源成本"), ("resource_cost",)),
        (PriorityModelKind.VALUE_COST, _("价值 / 成本"), ("value_score", "cost_score")),
        (PriorityModelKind.WEIGHTED, _("加权评分（0–10）"), ()),
        (PriorityModelKind.RICE, _("RICE"), ("reach", "impact", "confidence", "effort")),
        (PriorityModelKind.MOSCOW, _("MoSCoW"), ("moscow",)),
    )

    def __init__(self, *args: Any, analysis: RequirementAnalysis, config: AnalysisSettings, **kwargs: Any) -> None:
        self.criteria = [c for c in (config.criteria or []) if c.get("key")]
        self.existing_scores = dict(analysis.criteria_scores or {})
        initial = {
            "urgency_score": analysis.urgency_score,
            "importance_score": analysis.importance_score,
            "resource_cost": analysis.resource_cost,
            "value_score": analysis.value_score,
            "cost_score": analysis.cost_score,
            "reach": analysis.reach,
            "impact": _number(float(analysis.impact)) if analysis.impact is not None else "",
            "confidence": analysis.confidence,
            "effort": analysis.effort,
            "moscow": analysis.moscow,
        }
        for index, criterion in enumerate(self.criteria):
            initial[f"criterion_{index}"] = self.existing_scores.get(str(criterion["key"]))
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        for index, criterion in enumerate(self.criteria):
            self.fields[f"criterion_{index}"] = forms.FloatField(
                label=str(criterion.get("label") or criterion["key"]),
                min_value=0,
                max_value=10,
                required=False,
                widget=forms.NumberInput(attrs={"step": "0.5"}),
                help_text=_("权重 %(weight)s") % {"weight": _number(float(criterion.get("weight") or 0))},
            )

    def criterion_fields(self) -> list[forms.BoundField]:
        return [self[f"criterion_{i}"] for i in range(len(self.criteria))]

    def sections(self) -> list[dict[str, Any]]:
        rows = []
        for key, label, names in self.SECTIONS:
            fields = self.criterion_fields() if key == PriorityModelKind.WEIGHTED else [self[n] for n in names]
            rows.append({"key": str(key), "label": label, "fields": fields})
        return rows

    def service_data(self) -> dict[str, Any]:
        data = {name: self.cleaned_data[name] for name in self.fields if not name.startswith("criterion_")}
        # Scores of criteria no longer configured are kept; the shown ones are replaced.
        scores = dict(self.existing_scores)
        for index, criterion in enumerate(self.criteria):
            value = self.cleaned_data.get(f"criterion_{index}")
            if value is None:
                scores.pop(str(criterion["key"]), None)
            else:
                scores[str(criterion["key"])] = value
        data["criteria_scores"] = scores
        return data


class InsightsForm(forms.Form):
    pain_points = forms.CharField(
        label=_("痛点"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )
    value_statement = forms.CharField(
        label=_("价值描述"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": _("例如：节省 50% 人工操作")}),
    )


class OverrideForm(forms.Form):
    priority = forms.ChoiceField(
        label=_("人工调整优先级"), choices=[("", _("不调整（使用计算结果）")), *Priority.choices], required=False
    )
    reason = forms.CharField(
        label=_("调整理由"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("人工调整时必须填写"),
    )


def whys_from_post(data: Any) -> tuple[list[dict[str, str]], str]:
    """The 5-Whys editor's rows (as typed, in order) and its root cause."""
    questions = data.getlist("question")
    answers = data.getlist("answer")
    size = min(max(len(questions), len(answers)), MAX_WHYS + 5)
    rows = []
    for index in range(size):
        question = questions[index] if index < len(questions) else ""
        answer = answers[index] if index < len(answers) else ""
        rows.append({"question": question[:300], "answer": answer[:300]})
    return rows, str(data.get("root_cause", ""))[:2000]


class FishboneForm(forms.Form):
    """One textarea per category, one cause per line."""

    def __init__(self, *args: Any, grouped: dict[str, list[Any]] | None = None, **kwargs: Any) -> None:
        grouped = grouped or {}
        kwargs.setdefault(
            "initial",
            {f"fishbone_{key}": "\n".join(c.text for c in grouped.get(key, [])) for key in FishboneCategory.values},
        )
        super().__init__(*args, **kwargs)
        for key, label in FishboneCategory.choices:
            self.fields[f"fishbone_{key}"] = forms.CharField(
                label=label, required=False, max_length=6000, widget=forms.Textarea(attrs={"rows": 3})
            )

    def causes(self) -> list[tuple[str, str]]:
        found = []
        for key in FishboneCategory.values:
            for line in (self.cleaned_data.get(f"fishbone_{key}") or "").splitlines():
                if line.strip():
                    found.append((key, line.strip()))
        return found


class FeasibilityForm(forms.Form):
    tech_difficulty = _one_to_five(_("技术难度（1–5）"))
    effort_days = forms.DecimalField(
        label=_("工作量（人天）"), min_value=0, max_digits=8, decimal_places=1, required=False
    )
    cost_estimate = forms.DecimalField(
        label=_("成本估算（元）"), min_value=0, max_digits=14, decimal_places=2, required=False
    )
    resources = forms.CharField(
        label=_("所需资源"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": _("人员、时间、预算、工具")}),
    )


class ComplianceForm(forms.Form):
    status = forms.ChoiceField(
        label=_("合规结论"),
        choices=[c for c in ComplianceStatus.choices if c[0] != ComplianceStatus.PENDING],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("合规意见"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("判定不合规时必须说明原因"),
    )


class KanoSurveyForm(forms.Form):
    functional_question = forms.CharField(
        label=_("正向问题"), max_length=300, initial=_("如果提供此功能，您觉得如何？")
    )
    dysfunctional_question = forms.CharField(
        label=_("反向问题"), max_length=300, initial=_("如果不提供此功能，您觉得如何？")
    )


class KanoAnswerForm(forms.Form):
    """The customer's two answers; used by the public link and (with a customer) by staff."""

    functional = forms.ChoiceField(
        label=_("正向问题"),
        choices=KanoAnswer.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("请为正向问题选择一个回答。")},
    )
    dysfunctional = forms.ChoiceField(
        label=_("反向问题"),
        choices=KanoAnswer.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("请为反向问题选择一个回答。")},
    )
    respondent = forms.CharField(label=_("您的称呼（可选）"), max_length=80, required=False)

    def __init__(self, *args: Any, functional_label: str = "", dysfunctional_label: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if functional_label:
            self.fields["functional"].label = functional_label
        if dysfunctional_label:
            self.fields["dysfunctional"].label = dysfunctional_label


class KanoEntryForm(KanoAnswerForm):
    """Staff entering a customer's answers on their behalf."""

    customer = forms.ModelChoiceField(
        label=_("客户"), queryset=Customer.objects.none(), required=False, empty_label=_("不指定客户")
    )

    field_order = ["customer", "respondent", "functional", "dysfunctional"]

    def __init__(self, *args: Any, customers: QuerySet[Customer], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = customers  # type: ignore[attr-defined]
        self.fields["respondent"].label = _("作答人（可选）")


# ---------------------------------------------------------------- settings


class SettingsForm(forms.Form):
    active_model = forms.ChoiceField(label=_("当前优先级模型"), choices=PriorityModelKind.choices)
    matrix_cutoff = forms.TypedChoiceField(
        label=_("矩阵高低分界（1–5）"),
        choices=[(n, str(n)) for n in range(1, 6)],
        coerce=int,
        help_text=_("紧急度 / 重要性不低于此值算“高”"),
    )
    weight_importance = forms.FloatField(label=_("重要性权重"), min_value=0, required=False)
    weight_urgency = forms.FloatField(label=_("紧急度权重"), min_value=0, required=False)
    weight_cost = forms.FloatField(label=_("资源成本权重"), min_value=0, required=False)
    require_whys_for_review = forms.BooleanField(label=_("P0/P1 进入评审前必须完成 5 Whys"), required=False)

    THRESHOLD_LABELS = {
        "matrix_3d": _("三维模型（0–100 分）"),
        "value_cost": _("价值 / 成本（比值）"),
        "weighted": _("加权评分（0–100 分）"),
        "rice": _("RICE 分"),
    }

    def __init__(self, *args: Any, config: AnalysisSettings, readonly: bool = False, **kwargs: Any) -> None:
        weights = {k: float(v) for k, v in (config.weights_3d or {}).items()} or DEFAULT_WEIGHTS_3D
        initial: dict[str, Any] = {
            "active_model": config.active_model,
            "matrix_cutoff": config.matrix_cutoff,
            "weight_importance": _plain_number(weights.get("importance")),
            "weight_urgency": _plain_number(weights.get("urgency")),
            "weight_cost": _plain_number(weights.get("cost")),
            "require_whys_for_review": config.require_whys_for_review,
        }
        for model in THRESHOLD_MODELS:
            values = (config.thresholds or {}).get(model) or DEFAULT_THRESHOLDS[model]
            for n, value in enumerate(values):
                initial[f"threshold_{model}_{n}"] = _plain_number(value)
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        for model in THRESHOLD_MODELS:
            for n, priority in enumerate(("P0", "P1", "P2")):
                self.fields[f"threshold_{model}_{n}"] = forms.FloatField(
                    label=_("%(priority)s 下限") % {"priority": priority}, min_value=0
                )
        if readonly:
            for field in self.fields.values():
                field.disabled = True

    def threshold_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "model": model,
                "label": self.THRESHOLD_LABELS[model],
                "fields": [self[f"threshold_{model}_{n}"] for n in range(3)],
            }
            for model in THRESHOLD_MODELS
        ]

    def weight_fields(self) -> list[forms.BoundField]:
        return [self["weight_importance"], self["weight_urgency"], self["weight_cost"]]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for model in THRESHOLD_MODELS:
            values = [cleaned.get(f"threshold_{model}_{n}") for n in range(3)]
            if None not in values and not values[0] >= values[1] >= values[2]:  # type: ignore[operator]
                self.add_error(f"threshold_{model}_0", _("阈值必须从高到低：P0 ≥ P1 ≥ P2。"))
        return cleaned

    def changes(self, config: AnalysisSettings, criteria: list[dict[str, Any]] | None) -> dict[str, Any]:
        """Only what the user changed, in the service's terms (unchanged settings stay as stored)."""
        changed = set(self.changed_data)
        data: dict[str, Any] = {}
        for name in ("active_model", "matrix_cutoff", "require_whys_for_review"):
            if name in changed:
                data[name] = self.cleaned_data[name]
        if changed & {"weight_importance", "weight_urgency", "weight_cost"}:
            data["weights_3d"] = {
                key: self.cleaned_data[f"weight_{key}"]
                for key in ("importance", "urgency", "cost")
                if self.cleaned_data.get(f"weight_{key}") is not None
            }
        changed_models = [m for m in THRESHOLD_MODELS if any(f"threshold_{m}_{n}" in changed for n in range(3))]
        if changed_models:
            thresholds = {k: list(v) for k, v in (config.thresholds or {}).items()}
            for model in changed_models:
                thresholds[model] = [self.cleaned_data[f"threshold_{model}_{n}"] for n in range(3)]
            data["thresholds"] = thresholds
        if criteria is not None and _criteria_key(criteria) != _criteria_key(config.criteria or []):
            data["criteria"] = criteria
        return data


def _criteria_key(criteria: list[dict[str, Any]]) -> list[tuple[str, str, float]]:
    return [
        (str(c.get("key", "")).strip(), str(c.get("label") or c.get("key", "")).strip(), float(c.get("weight") or 0))
        for c in criteria
    ]


class CriterionForm(forms.Form):
    key = forms.SlugField(label=_("键"), max_length=40, required=False)
    label = forms.CharField(label=_("名称"), max_length=60, required=False)
    weight = forms.FloatField(label=_("权重"), min_value=0, required=False)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not cleaned.get("key") and (cleaned.get("label") or cleaned.get("weight") is not None):
            self.add_error("key", _("请填写键（英文字母、数字、下划线）。"))
        if cleaned.get("key") and cleaned.get("weight") is None:
            self.add_error("weight", _("请填写权重。"))
        return cleaned


CriteriaFormSet = forms.formset_factory(CriterionForm, extra=2, max_num=20, absolute_max=30)


def criteria_formset(data: Any, *, config: AnalysisSettings, readonly: bool = False) -> Any:
    initial = [
        {"key": c.get("key", ""), "label": c.get("label", ""), "weight": _plain_number(c.get("weight") or 0)}
        for c in config.criteria or []
    ]
    formset = CriteriaFormSet(data, initial=initial, prefix="criteria")
    if readonly:
        for form in formset.forms:
            for field in form.fields.values():
                field.disabled = True
    return formset


def criteria_from_formset(formset: Any) -> list[dict[str, Any]]:
    return [
        {
            "key": f.cleaned_data["key"],
            "label": f.cleaned_data.get("label") or f.cleaned_data["key"],
            "weight": f.cleaned_data["weight"],
        }
        for f in formset.forms
        if f.cleaned_data.get("key")
    ]


# ---------------------------------------------------------------- analysis projects

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
    start_date = forms.DateField(label=_("开始日期"), widget=DATE_WIDGET)
    end_date = forms.DateField(label=_("结束日期"), widget=DATE_WIDGET)
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
    period_start = forms.DateField(label=_("需求提交时间从"), required=False, widget=DATE_WIDGET)
    period_end = forms.DateField(label=_("需求提交时间至"), required=False, widget=DATE_WIDGET)
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
        self.fields["leader"].queryset = _users()  # type: ignore[attr-defined]

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
        found = {u.username: u for u in _users().filter(username__in=[name for name, _duty in parsed])}
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
