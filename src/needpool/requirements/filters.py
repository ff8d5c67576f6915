"""One FilterSet for the requirement list page and the API (filters, search, sort).

The report slices live here too, so a dashboard number links to the list that counts it: ``team`` (the owner's
current team), ``segment`` / ``industry`` / ``channel`` (a live feedback of the requirement with that customer
segment, customer industry or channel), ``status_category``, ``value_tier`` (the requirement's customer value),
``resolved`` (status of category 已完成), ``overdue`` (still 未处理 / 处理中 and past the expected date today) and
``project`` (an analysis project's scope). Requirements may not import analysis, so ``project`` is applied by a
function the analysis side registers (``register_scope_filter``); the reader is the request's user or the
``user`` given to the FilterSet, and without a reader, or without a registered function, it matches nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import django_filters
from django import forms as django_forms
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from needpool.accounts.models import User, Viewer
from needpool.core.search import full_text_filter
from needpool.core.validation import ID_INVALID, DateFilter, IdFilter, parse_id
from needpool.customers.choices import Segment, ValueTier
from needpool.requirements import sla as sla_rules
from needpool.requirements.choices import Channel, Dimension, Priority, StatusCategory
from needpool.requirements.models import ClassOption, Feedback, Requirement, WorkflowStatus

SORTS = {
    "-submitted_at": ("-submitted_at", "-id"),
    "submitted_at": ("submitted_at", "id"),
    "expected_date": ("expected_date", "id"),
    "-expected_date": ("-expected_date", "-id"),
    "priority": ("priority", "-submitted_at", "-id"),
    "-updated_at": ("-updated_at", "-id"),
    "code": ("code",),
    "-code": ("-code",),
}


def _options(dimension: str) -> Any:
    return lambda request: ClassOption.objects.filter(dimension=dimension, is_active=True)


class OptionChoiceField(django_filters.fields.ModelChoiceField):
    """An active option of one dimension, named by its key (``latent``) or by its id."""

    default_error_messages = {"invalid_choice": _("选项“%(value)s”不存在或已停用。")}

    def _find(self, value: Any) -> ClassOption | None:
        text = str(value).strip()
        options = self.queryset
        pk = parse_id(text)
        found = options.filter(pk=pk).first() if pk is not None else None
        return found or options.filter(key=text).first()

    def to_python(self, value: Any) -> Any:
        if value in self.empty_values:
            return None
        if isinstance(value, ClassOption):
            return value
        found = self._find(value)
        if found is None:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice", params={"value": value})
        return found

    def prepare_value(self, value: Any) -> Any:
        # A page reached with ``?type=function`` shows that option as chosen in the select (its values are ids).
        if isinstance(value, str) and value.strip() and parse_id(value) is None:
            found = self._find(value)
            return found.pk if found is not None else value
        return super().prepare_value(value)


@extend_schema_field(OpenApiTypes.STR)
class OptionKeyFilter(django_filters.ModelChoiceFilter):
    """A classification filter: the option's key (see /api/v1/options/) or its id."""

    field_class = OptionChoiceField


class CustomerRefField(django_forms.CharField):
    """A customer by id, code or "code name": a first word of digits must be an id (1 … 2⁶³−1)."""

    def validate(self, value: Any) -> None:
        super().validate(value)
        token = (value or "").strip().split()[0] if (value or "").strip() else ""
        if token and token.isdigit() and parse_id(token) is None:
            raise ValidationError(ID_INVALID, code="invalid")


class CustomerRefFilter(django_filters.CharFilter):
    field_class = CustomerRefField


#: filters contributed by the apps above requirements (``project`` by analysis): name → (queryset, value, reader)
ScopeFilter = Callable[[QuerySet[Requirement], Any, User | None], QuerySet[Requirement]]
_SCOPE_FILTERS: dict[str, ScopeFilter] = {}


def register_scope_filter(name: str, apply: ScopeFilter) -> None:
    """Let an app above requirements apply one list parameter (called from its AppConfig.ready)."""
    _SCOPE_FILTERS[name] = apply


OPEN_CATEGORIES = (StatusCategory.NEW, StatusCategory.ACTIVE)


def overdue_q(today: Any) -> Q:
    """Still open (未处理 / 处理中) and past its expected date on ``today``."""
    return Q(status__category__in=OPEN_CATEGORIES, expected_date__lt=today)


#: the most rows one selection may name (``ids``: the export of the list's selected rows, bulk edit)
IDS_MAX = 500


class IdListField(django_forms.Field):
    """Selected requirement ids: repeated (``ids=1&ids=2``) or comma separated, at most ``IDS_MAX``."""

    widget = django_forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[int]:
        values = value if isinstance(value, list | tuple) else [value] if value else []
        ids: list[int] = []
        for item in values:
            for part in str(item).split(","):
                if not part.strip():
                    continue
                pk = parse_id(part.strip())
                if pk is None:
                    raise ValidationError(ID_INVALID, code="invalid")
                if pk not in ids:
                    ids.append(pk)
        if len(ids) > IDS_MAX:
            raise ValidationError(
                _("一次最多选择 %(max)s 条需求，您选择了 %(n)s 条。"),
                code="too_many",
                params={"max": IDS_MAX, "n": len(ids)},
            )
        return ids


@extend_schema_field(OpenApiTypes.STR)
class IdListFilter(django_filters.Filter):
    """Only the requirements with these ids (comma separated, or the parameter repeated)."""

    field_class = IdListField

    def filter(self, qs: QuerySet[Requirement], value: list[int]) -> QuerySet[Requirement]:
        return qs.filter(pk__in=value) if value else qs


def day_start(day: dt.date) -> dt.datetime:
    """The first moment of ``day`` in the current time zone (as ``__date`` reads days): a period of local days
    as a range of a timestamp column, which its index serves."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


class RequirementFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label=_("搜索"), max_length=100)
    type = OptionKeyFilter(queryset=_options(Dimension.TYPE), label=_("需求类型"))
    urgency = OptionKeyFilter(queryset=_options(Dimension.URGENCY), label=_("紧急程度"))
    nature = OptionKeyFilter(queryset=_options(Dimension.NATURE), label=_("需求性质"))
    source = OptionKeyFilter(queryset=_options(Dimension.SOURCE), label=_("显性/隐性"))
    category = OptionKeyFilter(queryset=_options(Dimension.CATEGORY), label=_("功能/非功能/业务"))
    status = django_filters.CharFilter(method="filter_status", label=_("状态"), max_length=81)
    priority = django_filters.ChoiceFilter(choices=Priority.choices, label=_("优先级"))
    customer = CustomerRefFilter(method="filter_customer", label=_("客户"), max_length=60)
    owner = django_filters.ModelChoiceFilter(queryset=User.objects.filter(is_active=True), label=_("负责人"))
    tag = OptionKeyFilter(queryset=_options(Dimension.TAG), field_name="tags", label=_("标签"))
    submitted_after = DateFilter(method="filter_submitted", label=_("提交时间从"))
    submitted_before = DateFilter(method="filter_submitted", label=_("提交时间至"))
    expected_after = DateFilter(field_name="expected_date", lookup_expr="gte", label=_("期望时间从"))
    expected_before = DateFilter(field_name="expected_date", lookup_expr="lte", label=_("期望时间至"))
    sla_breached = django_filters.BooleanFilter(method="filter_sla_breached", label=_("SLA 超时"))
    team = IdFilter(field_name="owner__team_id", label=_("团队"))
    segment = django_filters.ChoiceFilter(choices=Segment.choices, method="filter_feedback", label=_("客户分层"))
    industry = django_filters.CharFilter(method="filter_feedback", label=_("所属行业"), max_length=60)
    channel = django_filters.ChoiceFilter(choices=Channel.choices, method="filter_feedback", label=_("渠道"))
    status_category = django_filters.ChoiceFilter(
        choices=StatusCategory.choices, field_name="status__category", label=_("状态类别")
    )
    value_tier = django_filters.ChoiceFilter(
        choices=ValueTier.choices, field_name="customer_value", label=_("客户价值")
    )
    resolved = django_filters.BooleanFilter(method="filter_resolved", label=_("已解决"))
    overdue = django_filters.BooleanFilter(method="filter_overdue", label=_("已逾期"))
    project = IdFilter(method="filter_project", label=_("分析项目"))
    sort = django_filters.ChoiceFilter(
        choices=[(k, k) for k in SORTS], method="filter_sort", label=_("排序"), empty_label=None
    )
    ids = IdListFilter(label=_("所选需求"))

    class Meta:
        model = Requirement
        fields: list[str] = []

    def __init__(self, *args: Any, user: Viewer = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user: Viewer = user if user is not None else getattr(self.request, "user", None)

    def get_form_class(self) -> Any:
        """The form class, built once: django-filters builds one for every FilterSet made (a field for each of
        the 27 filters, ~2 ms), and the list page makes two. None of its fields depends on the request (the
        option querysets are read afresh by each form made from the class)."""
        cls = type(self)
        built = cls.__dict__.get("_built_form_class")
        if built is None:
            built = super().get_form_class()
            cls._built_form_class = built
        return built

    def filter_q(self, queryset: QuerySet[Requirement], name: str, value: str) -> QuerySet[Requirement]:
        value = (value or "").strip()
        if not value:
            return queryset
        # Codes are stored as rendered (upper case); both spellings hit the unique index.
        code_hit = list(
            Requirement.objects.order_by().filter(code__in={value, value.upper()}).values_list("pk", flat=True)[:1]
        )
        if code_hit:
            return queryset.filter(pk__in=code_hit)
        return full_text_filter(queryset, value, fts_table="requirements_fts")

    def filter_status(self, queryset: QuerySet[Requirement], name: str, value: str) -> QuerySet[Requirement]:
        """A status key (that status in every flow), or ``flow:key`` for one flow's status."""
        flow, sep, key = value.strip().rpartition(":")
        statuses = WorkflowStatus.objects.filter(key=key)
        if sep:
            statuses = statuses.filter(workflow__key=flow)
        # The ids themselves, not a join on the key: the planner then reads the index of (status, live, date)
        # in order, for one status as for several flows' statuses of one key.
        return queryset.filter(status_id__in=list(statuses.order_by().values_list("pk", flat=True)))

    def filter_customer(self, queryset: QuerySet[Requirement], name: str, value: str) -> QuerySet[Requirement]:
        """A customer by id, code (C2024001) or "code name"; an unknown one matches nothing."""
        token = (value or "").strip().split()[0] if (value or "").strip() else ""
        if not token:
            return queryset
        pk = parse_id(token)  # the field refused digits beyond an id's range
        lookup = {"customer_id": pk} if pk is not None else {"customer__code": token.upper()}
        return queryset.filter(Exists(Feedback.objects.filter(requirement=OuterRef("pk"), **lookup)))

    def filter_sla_breached(self, queryset: QuerySet[Requirement], name: str, value: bool) -> QuerySet[Requirement]:
        # The same rule as the home page's breach list: flagged, or past the deadline and not yet flagged.
        breached = sla_rules.breached_q(timezone.now())
        return queryset.filter(breached) if value else queryset.exclude(breached)

    def filter_feedback(self, queryset: QuerySet[Requirement], name: str, value: str) -> QuerySet[Requirement]:
        """A live feedback of the requirement from a customer of that segment / industry, or by that channel."""
        value = (value or "").strip()
        if not value:
            return queryset
        lookup = {"channel": value} if name == "channel" else {f"customer__{name}": value}
        return queryset.filter(Exists(Feedback.objects.filter(requirement=OuterRef("pk"), **lookup)))

    def filter_submitted(self, queryset: QuerySet[Requirement], name: str, value: dt.date) -> QuerySet[Requirement]:
        """Submitted on or after / on or before a local day: a range of ``submitted_at`` (its index), not the
        day of each row's ``submitted_at`` (``__date``: computed for every row, ~500 ms at 100,000)."""
        if name == "submitted_after":
            return queryset.filter(submitted_at__gte=day_start(value))
        return queryset.filter(submitted_at__lt=day_start(value + dt.timedelta(days=1)))

    def filter_resolved(self, queryset: QuerySet[Requirement], name: str, value: bool) -> QuerySet[Requirement]:
        done = Q(status__category=StatusCategory.DONE)
        return queryset.filter(done) if value else queryset.exclude(done)

    def filter_overdue(self, queryset: QuerySet[Requirement], name: str, value: bool) -> QuerySet[Requirement]:
        late = overdue_q(timezone.localdate())
        return queryset.filter(late) if value else queryset.exclude(late)

    def filter_project(self, queryset: QuerySet[Requirement], name: str, value: int) -> QuerySet[Requirement]:
        apply = _SCOPE_FILTERS.get("project")
        reader = self.user if isinstance(self.user, User) and self.user.is_authenticated else None
        if apply is None or reader is None:
            return queryset.none()
        return apply(queryset, value, reader)

    def filter_sort(self, queryset: QuerySet[Requirement], name: str, value: str) -> QuerySet[Requirement]:
        return queryset.order_by(*SORTS.get(value, SORTS["-submitted_at"]))

    def filter_queryset(self, queryset: QuerySet[Requirement]) -> QuerySet[Requirement]:
        queryset = super().filter_queryset(queryset)
        searching = bool((self.form.cleaned_data.get("q") or "").strip())
        if searching and self.form.cleaned_data.get("sort") in (None, "", "-submitted_at"):
            # Newest first by entry order: the full-text index yields matches by row id, so a page of a
            # common word's 30,000 matches needs no sort of all of them (see bench/README.md).
            queryset = queryset.order_by("-id")
        return queryset


class FeedbackFilter(django_filters.FilterSet):
    """Feedback lists: the API's ``/api/v1/feedback/`` and the feedback inbox (unlinked, by channel)."""

    customer = IdFilter(field_name="customer_id", label=_("客户"))
    requirement = IdFilter(field_name="requirement_id", label=_("所属需求"))
    unlinked = django_filters.BooleanFilter(field_name="requirement", lookup_expr="isnull", label=_("未关联需求"))
    channel = django_filters.ChoiceFilter(choices=Channel.choices, label=_("渠道"))

    class Meta:
        model = Feedback
        fields: list[str] = []
