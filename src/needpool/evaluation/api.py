"""REST API of effect evaluation (included under /api/v1/).

- ``evaluations/`` GET (paginated; ``mine``, ``state``), ``evaluations/{id}/`` GET, PATCH (fill it in)
- ``requirements/{id}/evaluations/`` GET: the evaluations of one visible requirement
- ``evaluation/settings/`` GET, PATCH (``delay_days``, admins)

Reads go through the selectors (an evaluation of a requirement the caller may not see is 404), writes
through the services; a caller without the right gets 403 before any input error, bad input is 400.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView

from needpool.core.api import SelectorViewSet, ServiceUpdateMixin, deny_unless
from needpool.core.concurrency import VersionedAPIMixin, versioned_schema
from needpool.core.validation import BoundedModelSerializer
from needpool.evaluation import permissions, selectors, services
from needpool.evaluation.models import MAX_DELAY_DAYS, Evaluation, EvaluationSettings
from needpool.evaluation.permissions import acting_user
from needpool.requirements.selectors import requirement_list

TAGS = ["evaluation"]


class EvaluationSerializer(BoundedModelSerializer):
    """An effect evaluation: the plan's metric and target, the actual value, whether it met the need, ease of
    use 1–5, complaint drop in %, the business effect (repurchased / renewed / referred: true, false or null for
    not known), notes; who completed it and when."""

    requirement_code = serializers.CharField(source="requirement.code", read_only=True)
    requirement_title = serializers.CharField(source="requirement.title", read_only=True)
    owner_name = serializers.SerializerMethodField()
    completed_by_name = serializers.SerializerMethodField()
    met = serializers.ChoiceField(
        choices=Evaluation.Met.choices, required=False, allow_null=True, help_text=gettext_lazy("未评估时为 null")
    )
    ease_of_use = serializers.IntegerField(min_value=1, max_value=5, required=False, allow_null=True)
    complaint_drop_pct = serializers.DecimalField(
        max_digits=5, decimal_places=1, min_value=-100, max_value=100, required=False, allow_null=True
    )
    repurchased = serializers.BooleanField(
        required=False, allow_null=True, help_text=gettext_lazy("客户是否复购；未知时为 null")
    )
    renewed = serializers.BooleanField(
        required=False, allow_null=True, help_text=gettext_lazy("是否续约；未知时为 null")
    )
    referred = serializers.BooleanField(
        required=False, allow_null=True, help_text=gettext_lazy("是否转介绍；未知时为 null")
    )
    notes = serializers.CharField(max_length=services.NOTES_MAX_LENGTH, required=False, allow_blank=True)
    version = serializers.IntegerField(read_only=True)

    class Meta:
        model = Evaluation
        fields = [
            "id",
            "requirement",
            "requirement_code",
            "requirement_title",
            "launched_at",
            "due_date",
            "owner",
            "owner_name",
            "metric",
            "target",
            "actual",
            "met",
            "ease_of_use",
            "complaint_drop_pct",
            "repurchased",
            "renewed",
            "referred",
            "notes",
            "completed_by",
            "completed_by_name",
            "completed_at",
            "version",
        ]
        read_only_fields = ["requirement", "launched_at", "due_date", "owner", "completed_by", "completed_at"]

    def get_owner_name(self, obj: Evaluation) -> str:
        return str(obj.owner) if obj.owner_id else ""

    def get_completed_by_name(self, obj: Evaluation) -> str:
        return str(obj.completed_by) if obj.completed_by_id else ""

    def to_representation(self, instance: Evaluation) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["met"] = instance.met or None
        return data


LIST_PARAMETERS = [
    OpenApiParameter("mine", OpenApiTypes.BOOL, description="只看我的评估"),
    OpenApiParameter("state", OpenApiTypes.STR, enum=list(selectors.STATES), description="open / done / overdue"),
]


@extend_schema(tags=TAGS)
@versioned_schema(EvaluationSerializer)
class EvaluationViewSet(
    VersionedAPIMixin, ServiceUpdateMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, SelectorViewSet
):
    """Effect evaluations 效果评估 of visible requirements; owners and people closing the loop fill them in
    (PATCH; ``If-Match`` with the ETag read makes a stale write a 412)."""

    model = Evaluation
    serializer_class = EvaluationSerializer
    filterset_class = None
    http_method_names = ["get", "patch", "head", "options"]
    update_denied = _("只有需求负责人或闭环负责人可以填写效果评估。")

    def select_list(self, user: Any) -> Any:
        params = self.request.query_params
        mine_raw = str(params.get("mine", "")).lower()
        state = str(params.get("state", ""))
        if self.action == "list":
            errors = {}
            if mine_raw not in ("", "true", "false", "1", "0"):
                errors["mine"] = [_("请填写 true 或 false。")]
            if state and state not in selectors.STATES:
                errors["state"] = [_("未知的状态。")]
            if errors:
                raise serializers.ValidationError(errors)
        else:
            mine_raw, state = "", ""
        return selectors.evaluation_list(
            user=user, mine=mine_raw in ("true", "1"), state=state, today=timezone.localdate()
        )

    def select_one(self, user: Any, pk: Any) -> Evaluation:
        return selectors.evaluation_get(user=user, pk=pk)

    def may_update(self, user: Any, obj: Evaluation) -> bool:
        return permissions.can_complete(user, obj)

    def update_service(self, actor: Any, obj: Evaluation, data: dict[str, Any]) -> Evaluation:
        return services.evaluation_complete(
            actor=acting_user(actor), evaluation=obj, expected_version=self.expected_version(obj.version), **data
        )

    @extend_schema(parameters=LIST_PARAMETERS, responses=EvaluationSerializer(many=True))
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)


@extend_schema(tags=TAGS)
class RequirementEvaluationsView(APIView):
    """The evaluations of one requirement the caller may see (404 otherwise), newest launch first."""

    @extend_schema(responses=EvaluationSerializer(many=True))
    def get(self, request: Request, id: int) -> Response:
        if not requirement_list(user=request.user).prefetch_related(None).filter(pk=id).exists():
            raise Http404
        rows = selectors.evaluations_of_requirement(id)
        return Response(EvaluationSerializer(rows, many=True, context={"request": request}).data)


class EvaluationSettingsSerializer(serializers.ModelSerializer):
    delay_days = serializers.IntegerField(min_value=1, max_value=MAX_DELAY_DAYS)

    class Meta:
        model = EvaluationSettings
        fields = ["delay_days"]


@extend_schema(tags=TAGS)
class EvaluationSettingsView(APIView):
    """How many days after launch an evaluation is due (everyone reads; admins change it)."""

    @extend_schema(responses=EvaluationSettingsSerializer)
    def get(self, request: Request) -> Response:
        return Response(EvaluationSettingsSerializer(services.evaluation_settings()).data)

    @extend_schema(request=EvaluationSettingsSerializer, responses=EvaluationSettingsSerializer)
    def patch(self, request: Request) -> Response:
        deny_unless(permissions.can_configure(request.user), _("只有管理员可以修改效果评估设置。"))
        serializer = EvaluationSettingsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        row = services.evaluation_settings_update(
            actor=acting_user(request.user), delay_days=serializer.validated_data["delay_days"]
        )
        return Response(EvaluationSettingsSerializer(row).data)


router = SimpleRouter()
router.register("evaluations", EvaluationViewSet, basename="evaluation")

urlpatterns: list[Any] = [
    *router.urls,
    path("requirements/<id:id>/evaluations/", RequirementEvaluationsView.as_view(), name="requirement-evaluations"),
    path("evaluation/settings/", EvaluationSettingsView.as_view(), name="evaluation-settings"),
]
