"""What every analysis endpoint shares.

The named-enum choice field (and its OpenAPI extension, registered when this module is imported), the
unknown-field check for input serializers and the permission-scoped requirement lookup.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework import exceptions, serializers
from rest_framework.request import Request

from needpool.accounts.models import User
from needpool.analysis import selectors
from needpool.analysis.choices import PriorityModelKind
from needpool.analysis.models import RequirementAnalysis
from needpool.core.schema import NamedChoiceField, named_enum
from needpool.requirements.choices import Priority
from needpool.requirements.filters import RequirementFilter
from needpool.requirements.models import Requirement
from needpool.requirements.selectors import requirement_list

TAGS = ["analysis"]
PROJECT_TAGS = ["analysis projects"]


# ---------------------------------------------------------------- enums with their own names


class EnumChoiceField(NamedChoiceField):
    """A named-enum choice field (``core.schema``) whose blank choice is documented beside the enum.

    drf-spectacular names enums after the property, so one choice set under several property names
    (``priority``, ``computed_priority``, ``override_priority``) or two choice sets under one name
    (fishbone ``category``, Kano ``category``, the workflow's ``category``) would be warnings.
    """


class EnumChoiceFieldExtension(OpenApiSerializerFieldExtension):
    target_class = EnumChoiceField
    priority = 1  # before core's extension, which matches this subclass too

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> Any:
        field: EnumChoiceField = self.target
        enum = named_enum(auto_schema, field)
        if not field.allow_blank:
            return enum.ref
        # The same component the schema post-processing makes for blank choices elsewhere.
        blank = ResolvedComponent(
            name="BlankEnum", type=ResolvedComponent.SCHEMA, object="BlankEnum", schema={"enum": [""]}
        )
        auto_schema.registry.register_on_missing(blank)
        return {"oneOf": [enum.ref, blank.ref]}


def priority_field(**kwargs: Any) -> EnumChoiceField:
    return EnumChoiceField(Priority.choices, enum_name="PriorityEnum", allow_blank=True, **kwargs)


def model_field(**kwargs: Any) -> EnumChoiceField:
    return EnumChoiceField(PriorityModelKind.choices, enum_name="PriorityModelEnum", **kwargs)


# ---------------------------------------------------------------- helpers


class RejectUnknownFields:
    """Mixin for input serializers: an unknown key is a 400 naming it, not silently ignored."""

    initial_data: Any
    fields: Any

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if isinstance(self.initial_data, Mapping):
            unknown = sorted(set(self.initial_data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: [_("未知字段。")] for name in unknown})
        return attrs


def requirement_for(request: Request, pk: Any) -> Requirement:
    """The requirement if the caller may see it, else 404 (the list selector's row, without its prefetches)."""
    found = requirement_list(user=request.user).prefetch_related(None).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def analysis_for(requirement: Requirement) -> RequirementAnalysis:
    analysis = selectors.analysis_of(requirement)
    analysis.requirement = requirement  # the row's own copy would cost a query; it is this one
    return analysis


def user_name(user: User | None) -> str:
    return str(user) if user is not None else ""


def check_requirement_filters(request: Request) -> None:
    """400 for filters the requirement list would refuse (the selectors quietly return nothing)."""
    filterset = RequirementFilter(request.query_params, queryset=Requirement.objects.none())
    if not filterset.is_valid():
        raise exceptions.ValidationError(filterset.errors)
