"""A requirement's analysis over the API: scoring inputs and priority, override, feasibility, compliance."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from needpool.analysis import permissions, services
from needpool.analysis.api.common import (
    TAGS,
    EnumChoiceField,
    RejectUnknownFields,
    analysis_for,
    model_field,
    priority_field,
    requirement_for,
    user_name,
)
from needpool.analysis.choices import ComplianceStatus, MoSCoW
from needpool.analysis.models import RequirementAnalysis
from needpool.analysis.permissions import acting_user
from needpool.core.api import deny_unless
from needpool.core.validation import BoundedModelSerializer
from needpool.requirements.models import Requirement

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class AnalysisSerializer(BoundedModelSerializer):
    """A requirement's analysis: scoring inputs, the computed and overridden priority, feasibility, compliance.

    ``priority`` is the requirement's effective priority: the override when set, else the computed one
    (one entered by hand before any analysis stays until the analysis gives one); the computed
    priority stays beside the override. ``computed_parts`` explains the score ("why is this P0?");
    ``computed_error`` says which input the active model is missing.
    """

    requirement = serializers.IntegerField(source="requirement_id", read_only=True)
    code = serializers.CharField(source="requirement.code", read_only=True)
    priority = priority_field(source="requirement.priority", read_only=True)
    moscow = EnumChoiceField(MoSCoW.choices, enum_name="MoSCoWEnum", allow_blank=True, read_only=True)
    criteria_scores = serializers.DictField(child=serializers.FloatField(), read_only=True)
    computed_model = model_field(allow_blank=True, read_only=True)
    computed_priority = priority_field(read_only=True)
    computed_parts = serializers.DictField(read_only=True)
    override_priority = priority_field(read_only=True)
    override_by_name = serializers.SerializerMethodField()
    compliance_status = EnumChoiceField(ComplianceStatus.choices, enum_name="ComplianceStatusEnum", read_only=True)
    compliance_by_name = serializers.SerializerMethodField()

    class Meta:
        model = RequirementAnalysis
        fields = [
            "requirement",
            "code",
            "priority",
            *services.SCORE_FIELDS,
            *services.INSIGHT_FIELDS,
            "computed_model",
            "computed_score",
            "computed_priority",
            "computed_parts",
            "computed_error",
            "override_priority",
            "override_reason",
            "override_by",
            "override_by_name",
            "override_at",
            "root_cause",
            *services.FEASIBILITY_FIELDS,
            "compliance_status",
            "compliance_note",
            "compliance_by",
            "compliance_by_name",
            "compliance_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_override_by_name(self, obj: RequirementAnalysis) -> str:
        return user_name(obj.override_by) if obj.override_by_id else ""

    def get_compliance_by_name(self, obj: RequirementAnalysis) -> str:
        return user_name(obj.compliance_by) if obj.compliance_by_id else ""


def score_field(label: StrOrPromise) -> serializers.IntegerField:
    return serializers.IntegerField(required=False, allow_null=True, help_text=label)


class AnalysisInputSerializer(RejectUnknownFields, serializers.Serializer):
    """Scoring inputs, pain points and value statement; send only what changes (``null`` clears a score)."""

    urgency_score = score_field(gettext_lazy("紧急度，1–5"))
    importance_score = score_field(gettext_lazy("重要性，1–5"))
    resource_cost = score_field(gettext_lazy("资源成本，1–5（三维模型）"))
    value_score = score_field(gettext_lazy("价值，1–5（价值/成本模型）"))
    cost_score = score_field(gettext_lazy("成本，1–5（价值/成本模型）"))
    criteria_scores = serializers.DictField(
        child=serializers.FloatField(),
        required=False,
        allow_null=True,
        help_text=gettext_lazy("加权评分：评分维度的键 → 0–10（维度见 /api/v1/analysis/settings/）"),
    )
    reach = serializers.IntegerField(required=False, allow_null=True, help_text=gettext_lazy("RICE 覆盖人数，≥ 0"))
    impact = serializers.DecimalField(
        max_digits=4,
        decimal_places=2,
        required=False,
        allow_null=True,
        help_text=gettext_lazy("RICE 影响：0.25、0.5、1、2 或 3"),
    )
    confidence = serializers.IntegerField(
        required=False, allow_null=True, help_text=gettext_lazy("RICE 信心，0–100（%）")
    )
    effort = serializers.DecimalField(
        max_digits=8,
        decimal_places=2,
        required=False,
        allow_null=True,
        help_text=gettext_lazy("RICE 工作量（人月），> 0"),
    )
    moscow = EnumChoiceField(MoSCoW.choices, enum_name="MoSCoWEnum", required=False, allow_blank=True)
    pain_points = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    value_statement = serializers.CharField(required=False, allow_blank=True, max_length=5000)


class OverrideSerializer(serializers.Serializer):
    priority = priority_field(help_text=gettext_lazy("人工调整后的优先级；空字符串取消调整"))
    reason = serializers.CharField(
        required=False, allow_blank=True, default="", help_text=gettext_lazy("调整理由（设置优先级时必填）")
    )


class FeasibilitySerializer(serializers.Serializer):
    """The whole feasibility estimate (PUT: a field left out is cleared)."""

    tech_difficulty = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text=gettext_lazy("技术难度，1–5")
    )
    effort_days = serializers.DecimalField(
        max_digits=8, decimal_places=1, required=False, allow_null=True, default=None, help_text=gettext_lazy("人天")
    )
    cost_estimate = serializers.DecimalField(
        max_digits=14, decimal_places=2, required=False, allow_null=True, default=None, help_text=gettext_lazy("元")
    )
    resources = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class ComplianceSerializer(serializers.Serializer):
    status = EnumChoiceField(
        [
            (ComplianceStatus.APPROVED, ComplianceStatus.APPROVED.label),
            (ComplianceStatus.REJECTED, ComplianceStatus.REJECTED.label),
        ],
        enum_name="ComplianceDecisionEnum",
    )
    note = serializers.CharField(
        required=False, allow_blank=True, default="", help_text=gettext_lazy("意见（判定不合规时必填）")
    )


def analysis_response(request: Request, pk: Any) -> Response:
    """The analysis as stored now (re-read: the services update the requirement's priority in place)."""
    requirement = requirement_for(request, pk)
    return Response(AnalysisSerializer(analysis_for(requirement)).data)


@extend_schema(tags=TAGS)
class RequirementAnalysisView(APIView):
    """A requirement's scores and priority (GET); change the scoring inputs, pain points or value statement
    (PATCH, product manager and above), which recomputes the priority with the active model."""

    @extend_schema(responses=AnalysisSerializer)
    def get(self, request: Request, id: int) -> Response:
        return Response(AnalysisSerializer(analysis_for(requirement_for(request, id))).data)

    @extend_schema(request=AnalysisInputSerializer, responses=AnalysisSerializer)
    def patch(self, request: Request, id: int) -> Response:
        requirement = requirement_for(request, id)
        deny_unless(permissions.can_score(request.user, requirement), _("只有产品经理及以上角色可以修改评分。"))
        serializer = AnalysisInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        services.analysis_update(actor=acting_user(request.user), requirement=requirement, **serializer.validated_data)
        return analysis_response(request, id)


def analysis_write(
    request: Request,
    id: int,
    allowed: Callable[[Any, Requirement], bool],
    refusal: str,
    serializer_class: type[serializers.Serializer],
    service: Any,
) -> Response:
    """The shape of every analysis write: 404 if unseen, 403 before input checks, 400 per field, then
    the service, answering with the requirement's analysis."""
    requirement = requirement_for(request, id)
    deny_unless(allowed(request.user, requirement), refusal)
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    service(actor=request.user, requirement=requirement, **serializer.validated_data)
    return analysis_response(request, id)


@extend_schema(tags=TAGS)
class PriorityOverrideView(APIView):
    @extend_schema(
        request=OverrideSerializer,
        responses={
            200: AnalysisSerializer,
            400: OpenApiResponse(description=gettext_lazy('缺少理由：{"reason": ["…"]}')),
        },
    )
    def post(self, request: Request, id: int) -> Response:
        """Set a manual priority with a reason (``priority: ""`` removes it); the computed one is kept."""
        return analysis_write(
            request,
            id,
            permissions.can_override_priority,
            _("只有产品经理及以上角色可以调整优先级。"),
            OverrideSerializer,
            services.priority_override,
        )


@extend_schema(tags=TAGS)
class FeasibilityView(APIView):
    @extend_schema(request=FeasibilitySerializer, responses=AnalysisSerializer)
    def put(self, request: Request, id: int) -> Response:
        """Technical difficulty, effort, cost and resources (engineers, product managers and above)."""
        return analysis_write(
            request,
            id,
            permissions.can_estimate,
            _("只有技术人员和产品经理可以评估可行性。"),
            FeasibilitySerializer,
            services.feasibility_update,
        )


@extend_schema(tags=TAGS)
class ComplianceView(APIView):
    @extend_schema(request=ComplianceSerializer, responses=AnalysisSerializer)
    def post(self, request: Request, id: int) -> Response:
        """Sign the compliance check: approved, or rejected with a note. Only the compliance role may sign."""
        return analysis_write(
            request,
            id,
            permissions.can_sign_compliance,
            _("只有合规人员可以签署合规检查。"),
            ComplianceSerializer,
            services.compliance_sign_off,
        )
