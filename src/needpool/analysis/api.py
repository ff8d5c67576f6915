"""REST API v1 of the analysis desk: scores and priority, root cause, feasibility, Kano, rankings, projects.

Thin edges only: reads go through ``analysis.selectors`` and ``requirements.selectors`` (a requirement
the caller may not see is 404), writes through ``analysis.services``. The capability a write needs is
checked up front so that a caller without it gets 403 before any input error; the services check it
again. Domain validation (score ranges, weights, the 5-Whys rule …) stays in the services, whose
per-field messages come back as 400 ``{"field": ["…"]}`` with nothing written.

Routes (all under ``/api/v1/``):

- ``requirements/{id}/analysis/`` GET, PATCH (scoring inputs, pain points, value statement);
  ``…/analysis/override/`` POST; ``…/analysis/feasibility/`` PUT; ``…/analysis/compliance/`` POST
- ``requirements/{id}/whys/`` GET, PUT; ``requirements/{id}/fishbone/`` GET, PUT
- ``requirements/{id}/demand/`` GET
- ``requirements/{id}/kano/`` GET, PUT; ``requirements/{id}/kano/answers/`` POST
- ``analysis/settings/`` GET, PATCH; ``analysis/jobs/{id}/`` GET
- ``analysis/ranked/`` (paginated, the requirement list filters), ``analysis/matrix/``, ``analysis/demand/``
- ``analysis/projects/`` list, create, read, edit (no DELETE); ``…/{id}/requirements/``, ``…/{id}/summary/``
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ResolvedComponent, build_choice_description_list
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import exceptions, generics, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from needpool.accounts.models import User
from needpool.accounts.roles import Cap
from needpool.analysis import selectors, services
from needpool.analysis.choices import (
    ComplianceStatus,
    FishboneCategory,
    KanoAnswer,
    KanoCategory,
    MoSCoW,
    PriorityModelKind,
)
from needpool.analysis.models import (
    AnalysisProject,
    AnalysisSettings,
    FishboneCause,
    KanoResponse,
    KanoSurvey,
    RequirementAnalysis,
    WhyStep,
)
from needpool.core.models import BackgroundJob
from needpool.core.permissions import user_can
from needpool.customers.choices import ValueTier
from needpool.customers.models import Customer
from needpool.customers.selectors import customer_list
from needpool.requirements.api import StatusBriefSerializer, deny_unless, scoped
from needpool.requirements.choices import Priority
from needpool.requirements.filters import RequirementFilter
from needpool.requirements.models import Requirement
from needpool.requirements.selectors import requirement_list

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

TAGS = ["analysis"]
PROJECT_TAGS = ["analysis projects"]
DEMAND_LIMIT_MAX = 200
PROJECT_DEMAND_LIMIT = 20


# ---------------------------------------------------------------- enums with their own names


class EnumChoiceField(serializers.ChoiceField):
    """A choice field whose OpenAPI enum is a named component (``enum_name``).

    drf-spectacular names enums after the property, so one choice set under several property names
    (``priority``, ``computed_priority``, ``override_priority``) or two choice sets under one name
    (fishbone ``category``, Kano ``category``, the workflow's ``category``) would be warnings.
    """

    def __init__(self, choices: Any, *, enum_name: str, **kwargs: Any) -> None:
        self.enum_name = enum_name
        super().__init__(choices, **kwargs)


class EnumChoiceFieldExtension(OpenApiSerializerFieldExtension):
    target_class = EnumChoiceField

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> Any:
        field: EnumChoiceField = self.target
        values = [value for value in field.choices if value not in ("", None)]
        enum = ResolvedComponent(
            name=field.enum_name,
            type=ResolvedComponent.SCHEMA,
            object=field.enum_name,
            schema={
                "enum": values,
                "type": "string",
                "description": build_choice_description_list([(v, field.choices[v]) for v in values]),
            },
        )
        auto_schema.registry.register_on_missing(enum)
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


# ---------------------------------------------------------------- per-requirement analysis


class AnalysisSerializer(serializers.ModelSerializer):
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
        deny_unless(user_can(request.user, Cap.ANALYSE), _("只有产品经理及以上角色可以修改评分。"))
        serializer = AnalysisInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        services.analysis_update(actor=request.user, requirement=requirement, **serializer.validated_data)
        return analysis_response(request, id)


def analysis_write(
    request: Request, id: int, cap: str, refusal: str, serializer_class: type[serializers.Serializer], service: Any
) -> Response:
    """The shape of every analysis write: 404 if unseen, 403 before input checks, 400 per field, then
    the service, answering with the requirement's analysis."""
    requirement = requirement_for(request, id)
    deny_unless(user_can(request.user, cap), refusal)
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
            Cap.ANALYSE,
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
            Cap.ESTIMATE,
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
            Cap.COMPLIANCE_SIGN,
            _("只有合规人员可以签署合规检查。"),
            ComplianceSerializer,
            services.compliance_sign_off,
        )


# ---------------------------------------------------------------- root cause


class WhyStepSerializer(serializers.ModelSerializer):
    question = serializers.CharField(allow_blank=True, help_text=gettext_lazy("为什么？"))
    answer = serializers.CharField(allow_blank=True, help_text=gettext_lazy("因为……"))

    class Meta:
        model = WhyStep
        fields = ["position", "question", "answer"]
        read_only_fields = ["position"]


class WhysSerializer(serializers.Serializer):
    """The 5-Whys chain in order, ending in the root cause."""

    steps = WhyStepSerializer(many=True)
    root_cause = serializers.CharField(required=False, allow_blank=True, default="")
    review_blocked_reason = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text=gettext_lazy("P0/P1 需求缺少 5 Whys 时不能进入评审：说明原因；否则为 null"),
    )


def whys_response(requirement: Requirement) -> Response:
    return Response(
        WhysSerializer(
            {
                "steps": selectors.whys_of(requirement),
                "root_cause": selectors.analysis_of(requirement).root_cause,
                "review_blocked_reason": services.whys_required_missing(requirement, "in_review"),
            }
        ).data
    )


@extend_schema(tags=TAGS)
class WhysView(APIView):
    """The requirement's 5-Whys chain (GET); replace it (PUT, product manager and above)."""

    @extend_schema(responses=WhysSerializer)
    def get(self, request: Request, id: int) -> Response:
        return whys_response(requirement_for(request, id))

    @extend_schema(request=WhysSerializer, responses=WhysSerializer)
    def put(self, request: Request, id: int) -> Response:
        requirement = requirement_for(request, id)
        deny_unless(user_can(request.user, Cap.ANALYSE))
        serializer = WhysSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        services.whys_set(
            actor=request.user,
            requirement=requirement,
            steps=[(step["question"], step["answer"]) for step in data["steps"]],
            root_cause=data["root_cause"],
        )
        return whys_response(requirement_for(request, id))


class FishboneCauseSerializer(serializers.ModelSerializer):
    category = EnumChoiceField(FishboneCategory.choices, enum_name="FishboneCategoryEnum")
    category_label = serializers.CharField(source="get_category_display", read_only=True)
    text = serializers.CharField(allow_blank=True)

    class Meta:
        model = FishboneCause
        fields = ["id", "category", "category_label", "text"]
        read_only_fields = ["id", "category_label"]


class FishboneGroupSerializer(serializers.Serializer):
    category = EnumChoiceField(FishboneCategory.choices, enum_name="FishboneCategoryEnum", read_only=True)
    label = serializers.CharField(read_only=True)  # type: ignore[assignment]
    causes = FishboneCauseSerializer(many=True, read_only=True)


class FishboneSerializer(serializers.Serializer):
    """Causes under 人 people / 机 machine / 料 material / 法 method / 环 environment / 测 measurement.

    ``grouped`` lists every category in that order with its causes (read only)."""

    causes = FishboneCauseSerializer(many=True)
    grouped = FishboneGroupSerializer(many=True, read_only=True)


def fishbone_response(requirement: Requirement) -> Response:
    grouped = selectors.fishbone_of(requirement)
    groups = [
        {"category": key, "label": label, "causes": grouped.get(key, [])} for key, label in FishboneCategory.choices
    ]
    causes = [cause for group in groups for cause in group["causes"]]
    return Response(FishboneSerializer({"causes": causes, "grouped": groups}).data)


@extend_schema(tags=TAGS)
class FishboneView(APIView):
    """The requirement's fishbone diagram (GET); replace its causes (PUT, product manager and above)."""

    @extend_schema(responses=FishboneSerializer)
    def get(self, request: Request, id: int) -> Response:
        return fishbone_response(requirement_for(request, id))

    @extend_schema(request=FishboneSerializer, responses=FishboneSerializer)
    def put(self, request: Request, id: int) -> Response:
        requirement = requirement_for(request, id)
        deny_unless(user_can(request.user, Cap.ANALYSE))
        serializer = FishboneSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        causes = [(cause["category"], cause["text"]) for cause in serializer.validated_data["causes"]]
        services.fishbone_set(actor=request.user, requirement=requirement, causes=causes)
        return fishbone_response(requirement)


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
        scored, voters = selectors.demand_of(user=request.user, requirement=requirement)
        payload = {
            "demand": scored.score,
            "priority": scored.priority,
            "customers": len(voters),
            "by_tier": scored.parts,
            "voters": voters,
        }
        return Response(DemandSerializer(payload).data)


# ---------------------------------------------------------------- Kano


class KanoSurveySerializer(serializers.ModelSerializer):
    public_url = serializers.SerializerMethodField()

    class Meta:
        model = KanoSurvey
        fields = ["functional_question", "dysfunctional_question", "is_open", "public_url", "created_at"]
        read_only_fields = fields

    def get_public_url(self, obj: KanoSurvey) -> str:
        """The link customers answer through (no login)."""
        path = reverse("kano_public:answer", args=[obj.token])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class KanoSummarySerializer(serializers.Serializer):
    category = EnumChoiceField(
        KanoCategory.choices,
        enum_name="KanoCategoryEnum",
        allow_null=True,
        help_text=gettext_lazy("多数回答的类别；并列时 M > O > A > I > R > Q"),
    )
    category_label = serializers.SerializerMethodField()
    distribution = serializers.DictField(
        child=serializers.IntegerField(), help_text=gettext_lazy("A O M I R Q 的回答数")
    )
    total = serializers.IntegerField()
    better = serializers.FloatField(allow_null=True, help_text=gettext_lazy("(A + O) / (A + O + M + I)"))
    worse = serializers.FloatField(allow_null=True, help_text=gettext_lazy("−(O + M) / (A + O + M + I)"))

    def get_category_label(self, obj: Any) -> str:
        return str(KanoCategory(obj.category).label) if obj.category else ""


class KanoSerializer(serializers.Serializer):
    """The requirement's Kano survey (``null`` until created) and the evaluation of its answers."""

    survey = KanoSurveySerializer(allow_null=True)
    summary = KanoSummarySerializer()


class KanoSurveyInputSerializer(serializers.Serializer):
    functional_question = serializers.CharField(
        allow_blank=True, help_text=gettext_lazy("例如：如果提供此功能，您觉得如何？")
    )
    dysfunctional_question = serializers.CharField(
        allow_blank=True, help_text=gettext_lazy("例如：如果不提供此功能，您觉得如何？")
    )


def kano_field(help_text: StrOrPromise) -> EnumChoiceField:
    return EnumChoiceField(KanoAnswer.choices, enum_name="KanoAnswerEnum", help_text=help_text)


class KanoAnswerSerializer(serializers.ModelSerializer):
    """One answer pair, entered by staff on a customer's behalf; the category follows the Kano table."""

    functional = kano_field(gettext_lazy("对正向问题的回答"))
    dysfunctional = kano_field(gettext_lazy("对反向问题的回答"))
    customer = serializers.PrimaryKeyRelatedField(queryset=Customer.objects.none(), required=False, allow_null=True)
    respondent = serializers.CharField(required=False, allow_blank=True, default="")
    category = EnumChoiceField(KanoCategory.choices, enum_name="KanoCategoryEnum", read_only=True)

    class Meta:
        model = KanoResponse
        fields = ["id", "functional", "dysfunctional", "customer", "respondent", "category", "entered_by", "created_at"]
        read_only_fields = ["id", "category", "entered_by", "created_at"]

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["customer"].queryset = scoped(self, customer_list, Customer)  # type: ignore[attr-defined]
        return fields


def kano_response(request: Request, requirement: Requirement) -> Response:
    survey, summary = selectors.kano_of(requirement)
    return Response(KanoSerializer({"survey": survey, "summary": summary}, context={"request": request}).data)


@extend_schema(tags=TAGS)
class KanoView(APIView):
    """The Kano survey of a requirement, its public link and the evaluation (GET); create or reword it
    (PUT, product manager and above; the link stays the same)."""

    @extend_schema(responses=KanoSerializer)
    def get(self, request: Request, id: int) -> Response:
        return kano_response(request, requirement_for(request, id))

    @extend_schema(request=KanoSurveyInputSerializer, responses=KanoSerializer)
    def put(self, request: Request, id: int) -> Response:
        requirement = requirement_for(request, id)
        deny_unless(user_can(request.user, Cap.ANALYSE))
        serializer = KanoSurveyInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.kano_survey_create(actor=request.user, requirement=requirement, **serializer.validated_data)
        return kano_response(request, requirement)


@extend_schema(tags=TAGS)
class KanoAnswerView(APIView):
    @extend_schema(
        request=KanoAnswerSerializer,
        responses={
            201: KanoAnswerSerializer,
            400: OpenApiResponse(description=gettext_lazy('无效回答或尚无问卷：{"functional": ["…"]}')),
        },
    )
    def post(self, request: Request, id: int) -> Response:
        """Record a customer's answers on their behalf (roles that enter feedback)."""
        requirement = requirement_for(request, id)
        deny_unless(user_can(request.user, Cap.FEEDBACK_WRITE), _("您没有录入反馈的权限。"))
        survey, _summary = selectors.kano_of(requirement)
        serializer = KanoAnswerSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        if survey is None:
            raise exceptions.ValidationError({"survey": [_("该需求还没有 Kano 问卷。")]})
        answer = services.kano_answer(actor=request.user, survey=survey, **serializer.validated_data)
        return Response(KanoAnswerSerializer(answer, context={"request": request}).data, status=status.HTTP_201_CREATED)


# ---------------------------------------------------------------- settings and jobs


class JobSerializer(serializers.ModelSerializer):
    """A background job's progress (e.g. recomputing every priority after a model change)."""

    status = EnumChoiceField(BackgroundJob.Status.choices, enum_name="JobStatusEnum", read_only=True)
    percent = serializers.IntegerField(read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = BackgroundJob
        fields = ["id", "url", "kind", "status", "total", "done", "percent", "message", "created_at", "finished_at"]
        read_only_fields = fields

    def get_url(self, obj: BackgroundJob) -> str:
        path = reverse("analysis-job", kwargs={"id": obj.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class CriterionSerializer(serializers.Serializer):
    key = serializers.CharField(max_length=40)
    label = serializers.CharField(max_length=60, required=False, allow_blank=True)  # type: ignore[assignment]
    weight = serializers.FloatField()


class SettingsSerializer(serializers.ModelSerializer):
    """The active priority model and its parameters, and the recompute job a change started (else ``null``)."""

    active_model = model_field(read_only=True)
    active_model_label = serializers.CharField(source="get_active_model_display", read_only=True)
    weights_3d = serializers.DictField(child=serializers.FloatField(), read_only=True)
    criteria = CriterionSerializer(many=True, read_only=True)
    thresholds = serializers.DictField(child=serializers.ListField(child=serializers.FloatField()), read_only=True)
    job = serializers.SerializerMethodField()

    class Meta:
        model = AnalysisSettings
        fields = [
            "active_model",
            "active_model_label",
            "matrix_cutoff",
            "weights_3d",
            "criteria",
            "thresholds",
            "require_whys_for_review",
            "version",
            "job",
        ]
        read_only_fields = fields

    @extend_schema_field(JobSerializer(allow_null=True))
    def get_job(self, obj: AnalysisSettings) -> dict[str, Any] | None:
        job = self.context.get("job")
        return JobSerializer(job, context=self.context).data if job is not None else None


class SettingsInputSerializer(RejectUnknownFields, serializers.Serializer):
    """Send only what changes. Anything but ``require_whys_for_review`` recomputes every priority:
    inline for a small pool, else as a background job whose progress the response links to."""

    active_model = model_field(required=False)
    matrix_cutoff = serializers.IntegerField(required=False, help_text=gettext_lazy("矩阵高低分界，1–5"))
    weights_3d = serializers.DictField(
        child=serializers.FloatField(),
        required=False,
        allow_null=True,
        help_text=gettext_lazy("三维模型权重：importance、urgency、cost，不能为负，总和大于 0（空则 40/40/20）"),
    )
    criteria = CriterionSerializer(
        many=True, required=False, help_text=gettext_lazy("加权评分的维度：不重复的键与权重，权重总和大于 0")
    )
    thresholds = serializers.DictField(
        child=serializers.ListField(child=serializers.FloatField()),
        required=False,
        allow_null=True,
        help_text=gettext_lazy("模型（matrix_3d、value_cost、weighted、rice）→ [P0、P1、P2 的最低分]，从高到低"),
    )
    require_whys_for_review = serializers.BooleanField(required=False)


def settings_response(request: Request, config: AnalysisSettings, job: BackgroundJob | None) -> Response:
    context = {"request": request, "job": job}
    return Response(SettingsSerializer(config, context=context).data)


@extend_schema(tags=TAGS)
class AnalysisSettingsView(APIView):
    """The priority model in use (GET, everyone); change it (PATCH, product manager and above)."""

    @extend_schema(responses=SettingsSerializer)
    def get(self, request: Request) -> Response:
        return settings_response(request, services.analysis_settings(), selectors.job_current(user=request.user))

    @extend_schema(request=SettingsInputSerializer, responses=SettingsSerializer)
    def patch(self, request: Request) -> Response:
        deny_unless(user_can(request.user, Cap.ANALYSE), _("只有产品经理及以上角色可以修改优先级模型。"))
        serializer = SettingsInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if "criteria" in data:
            data["criteria"] = [dict(criterion) for criterion in data["criteria"]]
        config, job = services.analysis_settings_update(actor=request.user, **data)
        if job is not None:
            job = selectors.job_get(user=request.user, pk=job.pk)  # progress as it stands after the commit
        return settings_response(request, config, job)


@extend_schema(tags=TAGS)
class JobView(APIView):
    @extend_schema(responses=JobSerializer)
    def get(self, request: Request, id: int) -> Response:
        """Progress of a priority recompute: its creator and analysts may watch it."""
        job = selectors.job_get(user=request.user, pk=id)
        return Response(JobSerializer(job, context={"request": request}).data)


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
        return selectors.ranked(user=self.request.user, filters=self.request.query_params)

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
            "points": selectors.matrix_points(user=request.user),
            "value_effort": selectors.value_effort_points(user=request.user),
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
        rows = selectors.demand_ranking(user=request.user, limit=query.validated_data["limit"])
        return Response(DemandRankingSerializer({"results": rows}).data)


# ---------------------------------------------------------------- analysis projects


class ProjectScopeSerializer(serializers.Serializer):
    """Which customers' requirements the project looks at; every condition is optional."""

    industries = serializers.ListField(child=serializers.CharField(max_length=60), required=False)
    regions = serializers.ListField(child=serializers.CharField(max_length=60), required=False)
    segments = serializers.ListField(child=serializers.CharField(max_length=20), required=False)
    top_n_by_order = serializers.IntegerField(
        required=False, allow_null=True, help_text=gettext_lazy("按累计订单金额取前 N 名客户")
    )
    period_start = serializers.DateField(required=False, allow_null=True)
    period_end = serializers.DateField(required=False, allow_null=True)

    def to_representation(self, instance: Any) -> dict[str, Any]:
        """Only the conditions the project sets (the stored scope leaves the others out)."""
        data = super().to_representation(instance)
        return {key: value for key, value in data.items() if key in instance}


class ProjectMemberSerializer(serializers.Serializer):
    user = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True))
    user_name = serializers.SerializerMethodField()
    duty = serializers.CharField(required=False, allow_blank=True, default="")

    def get_user_name(self, obj: Any) -> str:
        return user_name(obj.user) if hasattr(obj, "user_id") else ""


class ProjectSerializer(serializers.ModelSerializer):
    """An analysis project: goal, scope, leader and members with their duties, period."""

    url = serializers.HyperlinkedIdentityField(view_name="analysis-project-detail")
    scope = ProjectScopeSerializer(required=False)
    leader = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True))
    leader_name = serializers.SerializerMethodField()
    members = ProjectMemberSerializer(many=True, required=False)

    class Meta:
        model = AnalysisProject
        fields = [
            "id",
            "url",
            "name",
            "goal",
            "scope",
            "leader",
            "leader_name",
            "members",
            "start_date",
            "end_date",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_by", "created_at", "updated_at"]

    def get_leader_name(self, obj: AnalysisProject) -> str:
        return user_name(obj.leader)


def project_input(data: Mapping[str, Any]) -> dict[str, Any]:
    """Validated serializer data in the shape the project services take."""
    prepared = dict(data)
    if "scope" in prepared:
        prepared["scope"] = dict(prepared["scope"] or {})
    if "members" in prepared:
        prepared["members"] = [(member["user"], member.get("duty", "")) for member in prepared["members"]]
    return prepared


class ProjectCountsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    by_priority = serializers.DictField(child=serializers.IntegerField(), help_text=gettext_lazy("优先级 → 需求数"))
    by_status = serializers.DictField(child=serializers.IntegerField(), help_text=gettext_lazy("状态类别 → 需求数"))


class ProjectSummarySerializer(serializers.Serializer):
    """The project's numbers, limited to its scope: counts, matrix points and the most-asked requirements."""

    counts = ProjectCountsSerializer()
    points = MatrixPointSerializer(many=True)
    demand = DemandRankSerializer(many=True)


@extend_schema(tags=PROJECT_TAGS)
class ProjectViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Analysis projects (分析项目): visible to pool-wide roles, their leader and members. Analysts create
    them; analysts and the leader edit them. No DELETE (there is no delete use-case)."""

    serializer_class = ProjectSerializer
    queryset = AnalysisProject.objects.none()
    filter_backends: list[Any] = []

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return AnalysisProject.objects.none()
        return selectors.project_list(user=self.request.user)

    def get_object(self) -> AnalysisProject:
        return selectors.project_get(user=self.request.user, pk=self.kwargs["pk"])

    def _respond(self, project: AnalysisProject, code: int = status.HTTP_200_OK) -> Response:
        fresh = selectors.project_get(user=self.request.user, pk=project.pk)
        return Response(self.get_serializer(fresh).data, status=code)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        deny_unless(user_can(request.user, Cap.ANALYSE), _("只有经理和产品经理可以创建分析项目。"))
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        project = services.project_create(actor=request.user, **project_input(serializer.validated_data))
        return self._respond(project, status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        partial = kwargs.pop("partial", False)
        project = self.get_object()
        # The rule of services.project_update, checked first so that a refusal is 403 before any input error.
        deny_unless(user_can(request.user, Cap.ANALYSE) or request.user.pk == project.leader_id)
        serializer = self.get_serializer(project, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        services.project_update(actor=request.user, project=project, **project_input(serializer.validated_data))
        return self._respond(project)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, partial=True, **kwargs)

    @extend_schema(responses=RankedSerializer(many=True))
    @action(detail=True, methods=["get"], serializer_class=RankedSerializer)
    def requirements(self, request: Request, pk: str | None = None) -> Response:
        """The visible requirements in the project's scope, in priority order (paginated)."""
        project = self.get_object()
        base = selectors.project_requirements(project, user=request.user).select_related("status")
        page = self.paginate_queryset(selectors.ranked(user=request.user, base=base))
        return self.get_paginated_response(RankedSerializer(page, many=True).data)

    @extend_schema(responses=ProjectSummarySerializer)
    @action(detail=True, methods=["get"], serializer_class=ProjectSummarySerializer)
    def summary(self, request: Request, pk: str | None = None) -> Response:
        """Counts by priority and status, matrix points and the most-asked requirements, within the scope."""
        project = self.get_object()
        base = selectors.project_requirements(project, user=request.user)
        payload = {
            "counts": selectors.project_counts(project, user=request.user),
            "points": selectors.matrix_points(user=request.user, base=base),
            "demand": selectors.demand_ranking(user=request.user, base=base, limit=PROJECT_DEMAND_LIMIT),
        }
        return Response(ProjectSummarySerializer(payload).data)
