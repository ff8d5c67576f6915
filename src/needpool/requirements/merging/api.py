"""REST API for merging duplicate requirements, undoing a merge, and watching a requirement.

Mounted under /api/v1/ before the router (so ``requirements/merge/`` is not read as a requirement id).

- ``POST requirements/merge/`` {survivor, merged: [ids], note} → 200 with the survivor.
- ``POST requirements/merges/<id>/undo/`` → 200 with the merge record (admins only).
- ``GET requirements/<id>/merges/`` → the merges into that requirement, newest first.
- ``POST requirements/<id>/watch/`` and ``…/unwatch/`` → 200 with ``{"watching", "watchers_count"}``.

A merged requirement's detail (``GET requirements/<id>/``) answers 307 with ``Location`` set to the
survivor's URL and a body naming it (see ``merged_redirect_response``); its list entry is gone.
"""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from needpool.accounts.models import acting_user
from needpool.core.validation import BoundedModelSerializer, IdField, IdListField
from needpool.requirements.api import RequirementSerializer
from needpool.requirements.merging.selectors import MAX_MERGED, merge_get, merges_of, moved_counts, survivor_of
from needpool.requirements.merging.services import (
    left_message,
    requirement_unwatch,
    requirement_watch,
    requirements_merge,
    requirements_merge_undo,
)
from needpool.requirements.models import NOTE_MAX_LENGTH, Requirement, RequirementMerge
from needpool.requirements.permissions import visible_requirements
from needpool.requirements.selectors import requirement_get


def merged_redirect_response(request: Request, requirement: Requirement) -> Response | None:
    """307 to the survivor's API URL for a merged requirement the caller can follow; None otherwise."""
    if not requirement.merged_into_id:
        return None
    survivor = survivor_of(requirement)
    if survivor is None or not visible_requirements(request.user).filter(pk=survivor.pk).exists():
        return None
    location = request.build_absolute_uri(reverse("requirement-detail", args=[survivor.pk]))
    body = {
        "detail": _("%(merged)s 已合并到 %(survivor)s") % {"merged": requirement.code, "survivor": survivor.code},
        "merged_into": survivor.pk,
        "merged_into_code": survivor.code,
    }
    return Response(body, status=status.HTTP_307_TEMPORARY_REDIRECT, headers={"Location": location})


# ---------------------------------------------------------------- serializers


class MergeRequestSerializer(serializers.Serializer):
    survivor = IdField(help_text=gettext_lazy("保留需求的 id"))
    merged = IdListField(
        min_length=1,
        max_length=MAX_MERGED,
        help_text=gettext_lazy("被合并需求的 id 列表"),
    )
    note = serializers.CharField(max_length=NOTE_MAX_LENGTH, required=False, allow_blank=True, default="")


class RequirementRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    code = serializers.CharField(read_only=True)
    title = serializers.CharField(read_only=True)


class MovedCountsSerializer(serializers.Serializer):
    feedback = serializers.IntegerField()
    comments = serializers.IntegerField()
    attachments = serializers.IntegerField()
    kano = serializers.IntegerField()
    watchers = serializers.IntegerField()
    left = serializers.IntegerField()


class MergeSerializer(BoundedModelSerializer):
    """A merge record: what went into the survivor and, id by id, what moved (``moved``)."""

    survivor = RequirementRefSerializer(read_only=True)
    merged = RequirementRefSerializer(many=True, read_only=True)
    actor_name = serializers.SerializerMethodField()
    moved = serializers.JSONField(
        read_only=True,
        help_text=gettext_lazy(
            'relation → {被合并需求 id: [移动的 id]}，如 {"feedback": {"12": [3, 4]}, "watchers": [5]}；'
            '撤销后 "left" 列出已转到其他需求、留在原处的 id'
        ),
    )
    counts = serializers.SerializerMethodField()

    class Meta:
        model = RequirementMerge
        fields = [
            "id",
            "survivor",
            "merged",
            "note",
            "actor",
            "actor_name",
            "created_at",
            "undone_at",
            "undone_by",
            "moved",
            "counts",
        ]
        read_only_fields = fields

    def get_actor_name(self, obj: RequirementMerge) -> str:
        return str(obj.actor) if obj.actor_id else ""

    @extend_schema_field(MovedCountsSerializer)
    def get_counts(self, obj: RequirementMerge) -> dict[str, int]:
        return moved_counts(obj)


class MergeUndoneSerializer(MergeSerializer):
    message = serializers.SerializerMethodField()

    class Meta(MergeSerializer.Meta):
        fields = [*MergeSerializer.Meta.fields, "message"]
        read_only_fields = fields

    def get_message(self, obj: RequirementMerge) -> str:
        """What stayed where it was because it had moved on since the merge ("" when everything came back)."""
        return str(self.context.get("left_message", ""))


class WatchSerializer(serializers.Serializer):
    watching = serializers.BooleanField(read_only=True)
    watchers_count = serializers.IntegerField(read_only=True)


# ---------------------------------------------------------------- views


@extend_schema(tags=["requirements"])
class MergeView(GenericAPIView):
    """Merge duplicate requirements into a survivor (去重合并)."""

    serializer_class = MergeRequestSerializer

    @extend_schema(
        request=MergeRequestSerializer,
        responses={
            200: OpenApiResponse(response=RequirementSerializer, description=gettext_lazy("保留需求")),
            400: OpenApiResponse(
                description=gettext_lazy('无法合并：{"merged": ["…"]}（自身、已合并、不存在或无权访问）')
            ),
            403: OpenApiResponse(description=gettext_lazy("无权编辑其中某个需求")),
        },
    )
    def post(self, request: Request) -> Response:
        """Move every feedback item, comment, attachment, watcher and Kano answer of ``merged`` to ``survivor``;
        the merged ones point to it (their URLs redirect) and leave every list. An admin can undo it."""
        serializer = MergeRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        merge = requirements_merge(
            actor=acting_user(request.user), survivor_id=data["survivor"], merged_ids=data["merged"], note=data["note"]
        )
        survivor = requirement_get(user=request.user, pk=merge.survivor_id)
        output = RequirementSerializer(survivor, context=self.get_serializer_context())
        return Response(output.data, headers={"X-Merge-Id": str(merge.pk)})


@extend_schema(tags=["requirements"])
class MergeUndoView(GenericAPIView):
    """Undo a merge (admins only)."""

    serializer_class = MergeUndoneSerializer

    @extend_schema(
        request=None,
        responses={
            200: MergeUndoneSerializer,
            400: OpenApiResponse(description=gettext_lazy("已撤销过，或保留需求之后又被合并")),
            403: OpenApiResponse(description=gettext_lazy("只有管理员可以撤销合并")),
            404: OpenApiResponse(description=gettext_lazy("合并记录不存在或无权访问")),
        },
    )
    def post(self, request: Request, id: int) -> Response:
        """Move back exactly what the merge moved (items since re-linked elsewhere stay and are listed in
        ``moved.left`` and ``message``) and re-open the merged requirements."""
        merge = merge_get(user=request.user, pk=id)
        undone = requirements_merge_undo(actor=acting_user(request.user), merge=merge)
        fresh = merge_get(user=request.user, pk=merge.pk)
        context = {**self.get_serializer_context(), "left_message": left_message(undone)}
        return Response(MergeUndoneSerializer(fresh, context=context).data)


@extend_schema(tags=["requirements"])
class RequirementMergesView(GenericAPIView):
    """Merges into one requirement, newest first (paginated)."""

    serializer_class = MergeSerializer

    def get(self, request: Request, id: int) -> Response:
        requirement = requirement_get(user=request.user, pk=id)
        page = self.paginate_queryset(list(merges_of(user=request.user, requirement=requirement)))
        return self.get_paginated_response(MergeSerializer(page, many=True).data)


class _WatchBase(GenericAPIView):
    serializer_class = WatchSerializer
    watch = True

    @extend_schema(
        request=None, responses={200: WatchSerializer, 400: OpenApiResponse(description=gettext_lazy("需求已合并"))}
    )
    def post(self, request: Request, id: int) -> Response:
        requirement = requirement_get(user=request.user, pk=id)
        if self.watch:
            requirement_watch(actor=acting_user(request.user), requirement=requirement)
        else:
            requirement_unwatch(actor=acting_user(request.user), requirement=requirement)
        watchers = set(requirement.watchers.values_list("pk", flat=True))
        return Response({"watching": request.user.pk in watchers, "watchers_count": len(watchers)})


@extend_schema(tags=["requirements"])
class WatchView(_WatchBase):
    """Watch a requirement: be notified when it is merged (repeating it changes nothing)."""


@extend_schema(tags=["requirements"])
class UnwatchView(_WatchBase):
    """Stop watching a requirement (repeating it changes nothing)."""

    watch = False


urlpatterns: list[URLPattern | URLResolver] = [
    path("requirements/merge/", MergeView.as_view(), name="requirement-merge"),
    path("requirements/merges/<id:id>/undo/", MergeUndoView.as_view(), name="requirement-merge-undo"),
    path("requirements/<id:id>/merges/", RequirementMergesView.as_view(), name="requirement-merges"),
    path("requirements/<id:id>/watch/", WatchView.as_view(), name="requirement-watch"),
    path("requirements/<id:id>/unwatch/", UnwatchView.as_view(), name="requirement-unwatch"),
]
