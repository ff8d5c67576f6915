"""REST API for the classification rules, mounted under /api/v1/classification/.

- ``GET options/`` (``dimension``, ``include_inactive``): active options for anyone signed in; an admin may
  ask for the deactivated ones too. ``GET options/<id>/`` with ``ETag``.
- ``POST options/``, ``PATCH`` / ``PUT options/<id>/`` (``If-Match`` → 412 when stale): admins only.
  Options are never deleted; ``is_active: false`` deactivates one.
- ``POST options/reorder/`` {dimension, ids}: admins only; every option of the dimension, in the new order.
- ``GET versions/``: the rule versions, newest first (what changed, who, when).
- ``GET reviews/`` and ``POST reviews/`` {note}: the quarterly reviews (admins only).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.urls import URLPattern, URLResolver, include, path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from needpool.accounts.models import acting_user
from needpool.core.api import SelectorViewSet, ServiceCreateMixin, ServiceUpdateMixin, deny_unless
from needpool.core.concurrency import VersionedAPIMixin, versioned_schema
from needpool.core.validation import IdListField
from needpool.requirements.choices import Dimension
from needpool.requirements.classification import selectors
from needpool.requirements.models import ClassificationReview, ClassificationRuleVersion, ClassOption
from needpool.requirements.services import option_create, option_update, options_reorder, rules_review_mark
from needpool.requirements.services.classification import SLA_MAX_HOURS, SORT_MAX, may_configure

WRITE_DENIED = gettext_lazy("只有管理员可以修改分类规则。")


class ClassOptionSerializer(serializers.Serializer):
    """One option of a classification list; ``key`` is what requirement fields and imports take."""

    id = serializers.IntegerField(read_only=True)
    dimension = serializers.ChoiceField(choices=Dimension.choices, help_text=gettext_lazy("所属分类；创建后不可修改"))
    key = serializers.CharField(max_length=40, help_text=gettext_lazy("小写英文字母、数字、下划线或连字符"))
    label = serializers.CharField(max_length=60)  # type: ignore[assignment]
    label_en = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    sla_hours = serializers.IntegerField(
        min_value=1,
        max_value=SLA_MAX_HOURS,
        required=False,
        allow_null=True,
        default=None,
        help_text=gettext_lazy("首次响应时限（小时），仅紧急程度；空表示不设时限"),
    )
    parent: serializers.PrimaryKeyRelatedField[ClassOption] = serializers.PrimaryKeyRelatedField(  # type: ignore[assignment]
        queryset=ClassOption.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text=gettext_lazy("上级选项的 id（仅需求类型与功能/非功能/业务）"),
    )
    sort_order = serializers.IntegerField(min_value=0, max_value=SORT_MAX, required=False)
    is_active = serializers.BooleanField(required=False, default=True)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    version = serializers.IntegerField(read_only=True)


class ReorderSerializer(serializers.Serializer):
    dimension = serializers.ChoiceField(choices=Dimension.choices)
    ids = IdListField(min_length=1, max_length=500, help_text=gettext_lazy("该分类全部选项的 id，按新顺序"))


class RuleVersionSerializer(serializers.ModelSerializer):
    created_by: serializers.StringRelatedField[Any] = serializers.StringRelatedField(allow_null=True)

    class Meta:
        model = ClassificationRuleVersion
        fields = ["number", "summary", "created_by", "created_at"]


class ReviewSerializer(serializers.ModelSerializer):
    reviewed_by: serializers.StringRelatedField[Any] = serializers.StringRelatedField(allow_null=True)

    class Meta:
        model = ClassificationReview
        fields = ["id", "rule_version", "note", "reviewed_by", "reviewed_at"]
        read_only_fields = ["id", "rule_version", "reviewed_by", "reviewed_at"]


_list_parameters = [
    OpenApiParameter("dimension", OpenApiTypes.STR, enum=Dimension.values, description=gettext_lazy("分类")),
    OpenApiParameter("include_inactive", OpenApiTypes.BOOL, description=gettext_lazy("管理员：同时列出已停用的选项")),
]


@extend_schema(tags=["classification"])
@versioned_schema(ClassOptionSerializer)
class ClassificationOptionViewSet(
    VersionedAPIMixin,
    ServiceCreateMixin,
    ServiceUpdateMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    SelectorViewSet,
):
    """The classification options; admins add and edit them (never delete: ``is_active: false``)."""

    model = ClassOption
    serializer_class = ClassOptionSerializer
    create_denied = WRITE_DENIED
    update_denied = WRITE_DENIED

    def select_list(self, user: Any) -> Any:
        params = getattr(self, "request", None)
        query = params.query_params if params is not None else {}
        dimension = query.get("dimension", "")
        if dimension and dimension not in Dimension.values:
            raise ValidationError({"dimension": _("未知的分类。")})
        include = str(query.get("include_inactive", "")).lower() in ("1", "true", "yes")
        if self.action != "list":  # one option by id: an admin sees a deactivated one too
            include, dimension = True, ""
        return selectors.options_for(user, dimension, include_inactive=include)

    @extend_schema(parameters=_list_parameters)
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    def may_create(self, user: Any) -> bool:
        return may_configure(user)

    def create_service(self, actor: Any, data: dict[str, Any]) -> ClassOption:
        return option_create(actor=actor, **data)

    def may_update(self, user: Any, obj: ClassOption) -> bool:
        return may_configure(user)

    def update_service(self, actor: Any, obj: ClassOption, data: dict[str, Any]) -> ClassOption:
        data = dict(data)
        dimension = data.pop("dimension", obj.dimension)
        if dimension != obj.dimension:
            raise ValidationError({"dimension": _("不能修改选项所属的分类。")})
        return option_update(actor=actor, option=obj, expected_version=self.expected_version(obj.version), **data)

    @extend_schema(request=ReorderSerializer, responses={200: ClassOptionSerializer(many=True)})
    @action(detail=False, methods=["post"], url_path="reorder")
    def reorder(self, request: Request) -> Response:
        """Put every option of one dimension in a new order (admins)."""
        deny_unless(may_configure(request.user), str(WRITE_DENIED))
        serializer = ReorderSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        rows = options_reorder(
            actor=acting_user(request.user),
            dimension=serializer.validated_data["dimension"],
            ordered_ids=serializer.validated_data["ids"],
        )
        return Response(ClassOptionSerializer(rows, many=True).data)


@extend_schema(tags=["classification"])
class RuleVersionViewSet(mixins.ListModelMixin, SelectorViewSet):
    """The classification rule versions, newest first: what changed, who, when."""

    model = ClassificationRuleVersion
    serializer_class = RuleVersionSerializer

    def select_list(self, user: Any) -> Any:
        return selectors.rule_versions()


@extend_schema(tags=["classification"])
class ReviewViewSet(mixins.ListModelMixin, SelectorViewSet):
    """The quarterly reviews of the rules (admins); ``POST`` records one (标记为已复核)."""

    model = ClassificationReview
    serializer_class = ReviewSerializer

    def select_list(self, user: Any) -> Any:
        deny_unless(may_configure(user), str(WRITE_DENIED))
        return selectors.reviews()

    @extend_schema(request=ReviewSerializer, responses={201: ReviewSerializer})
    def create(self, request: Request) -> Response:
        deny_unless(may_configure(request.user), str(WRITE_DENIED))
        serializer = ReviewSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        review = rules_review_mark(actor=acting_user(request.user), note=serializer.validated_data.get("note", ""))
        return Response(ReviewSerializer(review).data, status=status.HTTP_201_CREATED)


router = SimpleRouter()
router.register("options", ClassificationOptionViewSet, basename="classification-option")
router.register("versions", RuleVersionViewSet, basename="classification-version")
router.register("reviews", ReviewViewSet, basename="classification-review")

urlpatterns: list[URLPattern | URLResolver] = [path("classification/", include(router.urls))]
