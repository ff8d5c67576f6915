"""The requirements endpoint: list with the list page's filters, read, create, edit, transition, comments, history."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from needpool.accounts.models import acting_user
from needpool.core.api import SelectorViewSet, ServiceCreateMixin, ServiceUpdateMixin, deny_unless
from needpool.core.concurrency import (
    VersionedAPIMixin,
    etag_parameter,
    if_match_parameter,
    precondition_failed_response,
)
from needpool.core.pagination import CappedCountPagination
from needpool.requirements.api.serializers import (
    CommentSerializer,
    RequirementCreateSerializer,
    RequirementSerializer,
    StatusBriefSerializer,
    StatusChangeSerializer,
    TransitionSerializer,
)
from needpool.requirements.choices import Dimension
from needpool.requirements.filters import RequirementFilter
from needpool.requirements.merging.selectors import watchers_count_subquery
from needpool.requirements.models import (
    Requirement,
    StatusChange,
)
from needpool.requirements.permissions import (
    can_comment,
    can_create_requirement,
    can_edit_requirement,
    can_transition_requirement,
)
from needpool.requirements.selectors import (
    options,
    requirement_answer,
    requirement_list,
)
from needpool.requirements.services import (
    comment_create,
    requirement_create,
    requirement_transition,
    requirement_update,
)
from needpool.requirements.services.life import StaleMove
from needpool.requirements.services.recycle import can_delete_requirement, requirement_delete


class TransitionRequestSerializer(TransitionSerializer):
    """A move, with the status the caller expects the requirement to be in (``from``: key or id; optional)."""

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["from"] = serializers.CharField(
            max_length=40,
            required=False,
            allow_blank=True,
            help_text=gettext_lazy("可选：调用方认为需求当前所处状态的键（或 id）；与当前状态不符时返回 409，不做流转"),
        )
        return fields


class StaleMoveSerializer(serializers.Serializer):
    """409 of a move that no longer applies: why, and the status the requirement is in now."""

    detail = serializers.CharField()
    to = serializers.ListField(child=serializers.CharField())
    status = StatusBriefSerializer(help_text=gettext_lazy("需求当前的状态（键与名称）"))


def stale_move_response(exc: StaleMove) -> Response:
    message = " ".join(str(m) for m in exc.messages)
    body = {
        "detail": message,
        "to": [message],
        "status": {"id": exc.current.pk, **StatusBriefSerializer(exc.current).data},
    }
    return Response(body, status=status.HTTP_409_CONFLICT)


@extend_schema(tags=["requirements"])
class RequirementViewSet(
    VersionedAPIMixin,
    ServiceCreateMixin,
    ServiceUpdateMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    SelectorViewSet,
):
    """Requirements in the pool (需求).

    The list takes the same filters as the list page (``RequirementFilter``). Create, edit,
    status transitions and comments call the services; DELETE puts the requirement in the recycle bin.

    Concurrency: read and write answers carry ``ETag: W/"<version>"``; PUT, PATCH and transition honour an
    optional ``If-Match`` (412 when the requirement changed since). Without ``If-Match`` a PATCH changes only
    the fields it sends and a PUT is applied as sent. A transition whose source status is gone answers 409.
    """

    model = Requirement
    serializer_class = RequirementSerializer
    filterset_class = RequirementFilter
    pagination_class = CappedCountPagination
    create_denied = gettext_lazy("您没有创建需求的权限。")
    update_denied = gettext_lazy("您没有编辑该需求的权限。")

    def select_list(self, user: Any) -> Any:
        # The list selector defers long text and leaves three classification fields unjoined (the
        # page does not show them); the API returns them, so load them in the same query.
        return (
            requirement_list(user=user)
            .defer(None)
            .defer("search_text")
            .select_related("nature", "source", "category")
            .annotate(watchers_count=watchers_count_subquery())
        )

    def select_one(self, user: Any, pk: Any) -> Requirement:
        return requirement_answer(user=user, pk=pk)

    def may_create(self, user: Any) -> bool:
        return can_create_requirement(user)

    def create_service(self, actor: Any, data: dict[str, Any]) -> Requirement:
        return requirement_create(actor=actor, **data)

    def may_update(self, user: Any, obj: Requirement) -> bool:
        return can_edit_requirement(user, obj)

    def update_service(self, actor: Any, obj: Requirement, data: dict[str, Any]) -> Requirement:
        expected = self.expected_version(obj.version)
        return requirement_update(actor=actor, requirement=obj, expected_version=expected, **data)

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, StaleMove):
            return stale_move_response(exc)
        return super().handle_exception(exc)

    @extend_schema(
        parameters=[if_match_parameter(), etag_parameter([200])],
        responses={200: RequirementSerializer, 412: precondition_failed_response()},
    )
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().update(request, *args, **kwargs)

    @extend_schema(
        parameters=[if_match_parameter(), etag_parameter([200])],
        responses={200: RequirementSerializer, 412: precondition_failed_response()},
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().partial_update(request, *args, **kwargs)

    @extend_schema(
        parameters=[etag_parameter([200])],
        responses={
            200: RequirementSerializer,
            307: OpenApiResponse(description=gettext_lazy("该需求已合并：Location 指向保留需求，跟随即可。")),
        },
    )
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """One requirement. A merged one answers 307 to the requirement it was merged into."""
        from needpool.requirements.merging.api import merged_redirect_response

        requirement = self.get_object()
        onward = merged_redirect_response(request, requirement)
        if onward is not None:
            return onward
        return self.with_etag(Response(self.get_serializer(requirement).data), requirement.version)

    @extend_schema(
        parameters=[if_match_parameter()],
        responses={
            204: OpenApiResponse(description=gettext_lazy("已移入回收站（管理员可在 30 天内恢复）。")),
            412: precondition_failed_response(),
        },
    )
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Delete the requirement into the recycle bin (回收站): whoever may edit it; refused (400, with the
        reason) while it still has feedback, is merged or held by a review, plan or notice."""
        requirement = self.get_object()
        deny_unless(can_delete_requirement(request.user, requirement), _("您没有删除该需求的权限。"))
        requirement_delete(
            actor=acting_user(request.user),
            requirement=requirement,
            expected_version=self.expected_version(requirement.version),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

    def get_serializer_class(self) -> Any:
        if self.action == "create":
            return RequirementCreateSerializer
        return RequirementSerializer

    def get_serializer_context(self) -> dict[str, Any]:
        context = dict(super().get_serializer_context())
        if self.action == "list" and not self.building_schema:
            context["tag_keys"] = {o.pk: o.key for o in options(Dimension.TAG)}
        return context

    def respond_with(self, obj: Any, code: int = status.HTTP_200_OK) -> Response:
        # Whatever the action (create takes another serializer), the answer is the requirement as read.
        fresh = self.select_one(self.request.user, obj.pk)
        data = RequirementSerializer(fresh, context=self.get_serializer_context()).data
        return self.with_etag(Response(data, status=code), fresh.version)

    @extend_schema(request=RequirementCreateSerializer, responses={201: RequirementSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().create(request, *args, **kwargs)

    @extend_schema(
        request=TransitionRequestSerializer,
        parameters=[if_match_parameter(), etag_parameter([200])],
        responses={
            200: RequirementSerializer,
            400: OpenApiResponse(description=gettext_lazy('不允许的流转：{"to": ["…"]}')),
            409: OpenApiResponse(
                StaleMoveSerializer,
                description=gettext_lazy(
                    "流转已不适用：需求状态已被他人改变（或与 from 不符），正文给出当前状态；未做任何修改。"
                ),
            ),
            412: precondition_failed_response(),
        },
    )
    @action(detail=True, methods=["post"])
    def transition(self, request: Request, pk: str | None = None) -> Response:
        """Move the requirement to another status of its flow (allowed moves and the standardisation gate).

        ``from`` (optional) is the status the caller saw: when the requirement is no longer in it, or when
        another move made this one inapplicable, the answer is 409 with the current status.
        """
        requirement = self.get_object()
        deny_unless(can_transition_requirement(request.user, requirement), _("您没有流转该需求状态的权限。"))
        serializer = TransitionRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        requirement_transition(
            actor=acting_user(request.user),
            requirement=requirement,
            to=data["to"],
            note=data.get("note", ""),
            expected_status=data.get("from") or None,
            expected_version=self.expected_version(requirement.version),
        )
        return self.respond_with(requirement)

    @extend_schema(methods=["GET"], responses=CommentSerializer(many=True))
    @extend_schema(methods=["POST"], request=CommentSerializer, responses={201: CommentSerializer})
    @action(detail=True, methods=["get", "post"], serializer_class=CommentSerializer, filterset_class=None)
    def comments(self, request: Request, pk: str | None = None) -> Response:
        """The requirement's comments (oldest first); POST adds one (@username notifies that user)."""
        requirement = self.get_object()
        if request.method == "POST":
            deny_unless(can_comment(request.user, requirement))
            serializer = CommentSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            comment = comment_create(
                actor=acting_user(request.user), requirement=requirement, body=serializer.validated_data["body"]
            )
            return Response(CommentSerializer(comment).data, status=status.HTTP_201_CREATED)
        comments = requirement.comments.select_related("author").prefetch_related("mentions")
        page = self.paginate_queryset(list(comments))
        return self.get_paginated_response(CommentSerializer(page, many=True).data)

    @extend_schema(responses=StatusChangeSerializer(many=True))
    @action(detail=True, methods=["get"], serializer_class=StatusChangeSerializer, filterset_class=None)
    def history(self, request: Request, pk: str | None = None) -> Response:
        """Recorded status changes, newest first (who, when, from, to, note).

        A survivor of merges lists the merged requirements' changes too; ``requirement_code`` says whose line it is.
        """
        from needpool.requirements.merging.selectors import merged_descendants

        requirement = self.get_object()
        ids = [requirement.pk] + [r.pk for r in merged_descendants(requirement)]
        changes = (
            StatusChange.objects.filter(requirement_id__in=ids)
            .select_related("source", "target", "actor", "requirement")
            .order_by("-at", "-id")
        )
        page = self.paginate_queryset(changes)
        return self.get_paginated_response(StatusChangeSerializer(page, many=True).data)
