"""Demand and the pool-wide rankings over the API.

A requirement's weighted demand, the ranked list, the matrix points and the demand ranking.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from needpool.analysis import selectors, services
from needpool.analysis.api.common import (
    TAGS,
    EnumChoiceField,
    check_requirement_filters,
    model_field,
    priority_field,
    requirement_for,
)
from needpool.analysis.permissions import acting_user
from needpool.customers.choices import ValueTier
from needpool.requirements.api import StatusBriefSerializer
from needpool.requirements.filters import RequirementFilter
from needpool.requirements.models import Requirement

DEMAND_LIMIT_MAX = 200


# ---------------------------------------------------------------- demand


class VoterSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    tier = EnumChoiceField(ValueTier.choices, enum_name="ValueTierEnum")
    importance = serializers.IntegerField(help_text=gettext_lazy("该客户反馈中最高的重要度（0–3）"))
    items = serializers.IntegerField(help_text=gettext_lazy("该客户的反馈条数"))
    weight = serializers.IntegerField(help_text=gettext_lazy("客户价值权重 × 重要度"))


class DemandSerializer(serializers.Serializer):
    """Weighted demand: one vote per customer, Σ value-tier weight (high 3, medium 2, low 1) × importance."""

    demand = serializers.FloatField()
    priority = priority_field(help_text=gettext_lazy("按需求热度的参考优先级"))
    customers = serializers.IntegerField()
    by_tier = serializers.DictField(child=serializers.IntegerField(), help_text=gettext_lazy("各价值等级的客户数"))
    voters = VoterSerializer(many=True, help_text=gettext_lazy("您能看到的客户"))


@extend_schema(tags=TAGS)
class DemandView(APIView):
    @extend_schema(responses=DemandSerializer)
    def get(self, request: Request, id: int) -> Response:
        """How many customers ask for the requirement, weighted by their value tier and importance."""
        requirement = requirement_for(request, id)
        scored, voters = selectors.demand_of(user=acting_user(request.user), requirement=requirement)
        payload = {
            "demand": scored.score,
            "priority": scored.priority,
            "customers": len(voters),
            "by_tier": scored.parts,
            "voters": voters,
        }
        return Response(DemandSerializer(payload).data)


# ---------------------------------------------------------------- rankings


class RankedSerializer(serializers.Serializer):
    """A requirement in priority order with the reason for its place ("why is this P0?").

    ``priority`` is the effective one; ``parts`` is what the computed score is made of; the analysis
    fields are ``null`` for a requirement nobody has scored."""

    id = serializers.IntegerField(read_only=True)
    code = serializers.CharField(read_only=True)
    title = serializers.CharField(read_only=True)
    status = StatusBriefSerializer(read_only=True)
    priority = priority_field(read_only=True)
    computed_model = model_field(source="analysis.computed_model", allow_blank=True, allow_null=True, read_only=True)
    computed_score = serializers.FloatField(source="analysis.computed_score", allow_null=True, read_only=True)
    computed_priority = priority_field(source="analysis.computed_priority", allow_null=True, read_only=True)
    computed_error = serializers.CharField(source="analysis.computed_error", allow_null=True, read_only=True)
    override_priority = priority_field(source="analysis.override_priority", allow_null=True, read_only=True)
    override_reason = serializers.CharField(source="analysis.override_reason", allow_null=True, read_only=True)
    parts = serializers.DictField(source="analysis.computed_parts", allow_null=True, read_only=True)


@extend_schema(tags=TAGS)
class RankedView(generics.ListAPIView):
    """Visible requirements, best priority and highest score first; rejected and merged ones are left out.
    Takes the requirement list's filters (``q``, ``type``, ``status``, ``priority``, ``customer`` …);
    ``sort`` does not apply."""

    serializer_class = RankedSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = RequirementFilter
    queryset = Requirement.objects.none()

    def get_queryset(self) -> QuerySet[Requirement]:
        if getattr(self, "swagger_fake_view", False):
            return Requirement.objects.none()
        return selectors.ranked(user=acting_user(self.request.user), filters=self.request.query_params)

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        check_requirement_filters(self.request)  # the selector has applied them; only refuse bad ones
        return queryset


class MatrixPointSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    title = serializers.CharField()
    priority = priority_field()
    urgency = serializers.IntegerField()
    importance = serializers.IntegerField()
    value = serializers.IntegerField(allow_null=True)
    cost = serializers.IntegerField(allow_null=True)
    effort = serializers.FloatField(allow_null=True, help_text=gettext_lazy("RICE 工作量（人月）"))


class ValueEffortPointSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    title = serializers.CharField()
    priority = priority_field()
    value = serializers.IntegerField()
    effort = serializers.FloatField(
        allow_null=True, help_text=gettext_lazy("可行性评估的人天；未评估时为成本评分（1–5）")
    )


class MatrixSerializer(serializers.Serializer):
    """Chart points: urgency × importance (requirements with both scores) and value × effort."""

    cutoff = serializers.IntegerField(help_text=gettext_lazy("高低分界：≥ 分界为高"))
    points = MatrixPointSerializer(many=True)
    value_effort = ValueEffortPointSerializer(many=True)


@extend_schema(tags=TAGS)
class MatrixView(APIView):
    @extend_schema(responses=MatrixSerializer)
    def get(self, request: Request) -> Response:
        """Points for the urgency × importance matrix and the value × effort chart (newest 2000 each)."""
        payload = {
            "cutoff": services.analysis_settings().matrix_cutoff,
            "points": selectors.matrix_points(user=acting_user(request.user)),
            "value_effort": selectors.value_effort_points(user=acting_user(request.user)),
        }
        return Response(MatrixSerializer(payload).data)


class DemandRankSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="requirement.pk")
    code = serializers.CharField(source="requirement.code")
    title = serializers.CharField(source="requirement.title")
    priority = priority_field(source="requirement.priority")
    status = StatusBriefSerializer(source="requirement.status")
    demand = serializers.IntegerField(help_text=gettext_lazy("Σ 客户价值权重 × 重要度"))
    customers = serializers.IntegerField()


class DemandRankingSerializer(serializers.Serializer):
    results = DemandRankSerializer(many=True)


class DemandQuerySerializer(serializers.Serializer):
    limit = serializers.IntegerField(required=False, min_value=1, max_value=DEMAND_LIMIT_MAX, default=50)


@extend_schema(tags=TAGS)
class DemandRankingView(APIView):
    @extend_schema(parameters=[DemandQuerySerializer], responses=DemandRankingSerializer)
    def get(self, request: Request) -> Response:
        """Requirements most asked for: one vote per customer, weighted by value tier and importance."""
        query = DemandQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = selectors.demand_ranking(user=acting_user(request.user), limit=query.validated_data["limit"])
        return Response(DemandRankingSerializer({"results": rows}).data)
