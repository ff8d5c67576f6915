"""Discovery endpoints: the active classification options and the active flow's statuses."""

from __future__ import annotations

from typing import Any

import django_filters
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import mixins

from needpool.core.api import SelectorViewSet
from needpool.requirements.api.serializers import OptionSerializer, WorkflowStatusSerializer
from needpool.requirements.choices import Dimension
from needpool.requirements.models import (
    ClassOption,
    WorkflowStatus,
    WorkflowTransition,
)
from needpool.requirements.selectors import (
    options,
)
from needpool.requirements.services import (
    active_workflow,
)

# ---------------------------------------------------------------- discovery


class OptionFilter(django_filters.FilterSet):
    dimension = django_filters.ChoiceFilter(
        choices=Dimension.choices, method="filter_dimension", label=gettext_lazy("维度")
    )

    class Meta:
        model = ClassOption
        fields: list[str] = []

    def filter_dimension(self, queryset: Any, name: str, value: str) -> Any:
        return options(value).select_related("parent") if value else queryset


@extend_schema(tags=["options"])
class OptionViewSet(mixins.ListModelMixin, SelectorViewSet):
    """Active classification options (type, urgency, nature, source, category, tag), to discover keys."""

    model = ClassOption
    serializer_class = OptionSerializer
    filterset_class = OptionFilter

    def select_list(self, user: Any) -> Any:
        every = [options(d) for d in Dimension.values]
        combined = every[0]
        for qs in every[1:]:
            combined = combined | qs
        return combined.select_related("parent").order_by("dimension", "sort_order", "id")


@extend_schema(tags=["statuses"])
class StatusViewSet(mixins.ListModelMixin, SelectorViewSet):
    """Statuses of the active workflow in order, each with the keys it may move to."""

    model = WorkflowStatus
    serializer_class = WorkflowStatusSerializer
    filterset_class = None

    def _workflow(self) -> Any:
        if not hasattr(self, "_active_workflow"):
            self._active_workflow = active_workflow()
        return self._active_workflow

    def select_list(self, user: Any) -> Any:
        return self._workflow().statuses.order_by("order", "id")

    def get_serializer_context(self) -> dict[str, Any]:
        context = dict(super().get_serializer_context())
        if not self.building_schema:
            targets: dict[int, list[str]] = {}
            moves = (
                WorkflowTransition.objects.filter(workflow=self._workflow())
                .order_by("target__order", "target_id")
                .values_list("source_id", "target__key")
            )
            for source_id, key in moves:
                targets.setdefault(source_id, []).append(key)
            context["targets"] = targets
        return context
