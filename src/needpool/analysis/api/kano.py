"""Kano over the API: a requirement's survey, its evaluation, and answers entered for customers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from needpool.analysis import permissions, selectors, services
from needpool.analysis.api.common import TAGS, EnumChoiceField, requirement_for
from needpool.analysis.choices import KanoAnswer, KanoCategory
from needpool.analysis.models import KanoResponse, KanoSurvey
from needpool.analysis.permissions import acting_user
from needpool.core.api import deny_unless, scoped
from needpool.core.validation import BoundedModelSerializer
from needpool.customers.models import Customer
from needpool.customers.selectors import customer_list
from needpool.requirements.models import Requirement

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class KanoSurveySerializer(BoundedModelSerializer):
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


class KanoAnswerSerializer(BoundedModelSerializer):
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
        deny_unless(permissions.can_edit_kano_survey(request.user, requirement))
        serializer = KanoSurveyInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.kano_survey_create(
            actor=acting_user(request.user), requirement=requirement, **serializer.validated_data
        )
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
        deny_unless(permissions.can_enter_kano_answer(request.user, requirement), _("您没有录入反馈的权限。"))
        survey, _summary = selectors.kano_of(requirement)
        serializer = KanoAnswerSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        if survey is None:
            raise exceptions.ValidationError({"survey": [_("该需求还没有 Kano 问卷。")]})
        answer = services.kano_answer(actor=acting_user(request.user), survey=survey, **serializer.validated_data)
        return Response(KanoAnswerSerializer(answer, context={"request": request}).data, status=status.HTTP_201_CREATED)
