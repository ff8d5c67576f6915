"""Analysis projects over the API: list, create, read, edit, and a project's requirements and summary."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from needpool.accounts.models import User
from needpool.analysis import permissions, selectors, services
from needpool.analysis.api.common import PROJECT_TAGS, user_name
from needpool.analysis.api.rankings import DemandRankSerializer, MatrixPointSerializer, RankedSerializer
from needpool.analysis.filters import ProjectFilter
from needpool.analysis.models import AnalysisProject
from needpool.analysis.permissions import acting_user
from needpool.core.api import SelectorViewSet, ServiceCreateMixin, ServiceUpdateMixin
from needpool.core.validation import BoundedModelSerializer

PROJECT_DEMAND_LIMIT = 20


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


class ProjectSerializer(BoundedModelSerializer):
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
    ServiceCreateMixin, ServiceUpdateMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, SelectorViewSet
):
    """Analysis projects (分析项目): visible to pool-wide roles, their leader and members. Analysts create
    them; analysts and the leader edit them. No DELETE (there is no delete use-case)."""

    model = AnalysisProject
    serializer_class = ProjectSerializer
    filterset_class = ProjectFilter  # the list page's filters; an invalid value is a 400
    create_denied = gettext_lazy("只有经理和产品经理可以创建分析项目。")

    def select_list(self, user: Any) -> Any:
        return selectors.project_list(user=acting_user(user))

    def select_one(self, user: Any, pk: Any) -> AnalysisProject:
        return selectors.project_get(user=acting_user(user), pk=pk)

    def may_create(self, user: Any) -> bool:
        return permissions.can_create_project(user)

    def create_service(self, actor: Any, data: dict[str, Any]) -> AnalysisProject:
        return services.project_create(actor=acting_user(actor), **project_input(data))

    def may_update(self, user: Any, obj: AnalysisProject) -> bool:
        return permissions.can_edit_project(user, obj)

    def update_service(self, actor: Any, obj: AnalysisProject, data: dict[str, Any]) -> AnalysisProject:
        return services.project_update(actor=acting_user(actor), project=obj, **project_input(data))

    @extend_schema(responses=RankedSerializer(many=True))
    @action(detail=True, methods=["get"], serializer_class=RankedSerializer, filterset_class=None)
    def requirements(self, request: Request, pk: str | None = None) -> Response:
        """The visible requirements in the project's scope, in priority order (paginated)."""
        project = self.get_object()
        base = selectors.project_requirements(project, user=acting_user(request.user)).select_related("status")
        page = self.paginate_queryset(selectors.ranked(user=acting_user(request.user), base=base))
        return self.get_paginated_response(RankedSerializer(page, many=True).data)

    @extend_schema(responses=ProjectSummarySerializer)
    @action(detail=True, methods=["get"], serializer_class=ProjectSummarySerializer, filterset_class=None)
    def summary(self, request: Request, pk: str | None = None) -> Response:
        """Counts by priority and status, matrix points and the most-asked requirements, within the scope."""
        project = self.get_object()
        base = selectors.project_requirements(project, user=acting_user(request.user))
        payload = {
            "counts": selectors.project_counts(project, user=acting_user(request.user)),
            "points": selectors.matrix_points(user=acting_user(request.user), base=base),
            "demand": selectors.demand_ranking(user=acting_user(request.user), base=base, limit=PROJECT_DEMAND_LIMIT),
        }
        return Response(ProjectSummarySerializer(payload).data)
