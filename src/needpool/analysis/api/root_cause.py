"""Root cause over the API: a requirement's 5-Whys chain and its fishbone diagram."""

from __future__ import annotations

from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from needpool.analysis import permissions, selectors, services
from needpool.analysis.api.common import TAGS, EnumChoiceField, requirement_for
from needpool.analysis.choices import FishboneCategory
from needpool.analysis.models import FishboneCause, WhyStep
from needpool.analysis.permissions import acting_user
from needpool.core.api import deny_unless
from needpool.core.validation import BoundedModelSerializer
from needpool.requirements.models import Requirement


class WhyStepSerializer(BoundedModelSerializer):
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
        deny_unless(permissions.can_edit_root_cause(request.user, requirement))
        serializer = WhysSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        services.whys_set(
            actor=acting_user(request.user),
            requirement=requirement,
            steps=[(step["question"], step["answer"]) for step in data["steps"]],
            root_cause=data["root_cause"],
        )
        return whys_response(requirement_for(request, id))


class FishboneCauseSerializer(BoundedModelSerializer):
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
        deny_unless(permissions.can_edit_root_cause(request.user, requirement))
        serializer = FishboneSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        causes = [(cause["category"], cause["text"]) for cause in serializer.validated_data["causes"]]
        services.fishbone_set(actor=acting_user(request.user), requirement=requirement, causes=causes)
        return fishbone_response(requirement)
