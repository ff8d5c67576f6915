"""The analysis project list's filters, declared once and shared by the list page and the API."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from needpool.analysis.models import AnalysisProject
from needpool.core.validation import IdFilter


class ProjectFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", max_length=100, label=_("搜索"))
    leader = IdFilter(field_name="leader_id", label=_("负责人"))

    class Meta:
        model = AnalysisProject
        fields: list[str] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.form.fields["q"].widget.input_type = "search"

    def filter_q(self, queryset: QuerySet[AnalysisProject], name: str, value: str) -> QuerySet[AnalysisProject]:
        """Words of the project's name or goal."""
        value = (value or "").strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(goal__icontains=value))


def project_filter_data(data: Any) -> dict[str, Any]:
    """The valid, non-empty filters in ``data`` (a page quietly drops a bad value; the API refuses it)."""
    found = {name: data.get(name) for name in ProjectFilter.base_filters if data.get(name) not in ("", None)}
    if not found:
        return {}
    filterset = ProjectFilter(found, queryset=AnalysisProject.objects.none())
    filterset.is_valid()
    return {name: value for name, value in found.items() if name not in filterset.form.errors}
