"""REST API of the recycle bin (admins): ``GET /api/v1/recycle-bin/?kind=…`` lists what staff deleted, one kind
at a time (requirement, feedback, customer, contact; newest deletion first), with who, when and the days left;
``POST /api/v1/recycle-bin/<kind>/<id>/restore/`` restores one. Deleting is the DELETE of each resource's own
endpoint (``/api/v1/requirements/<id>/`` …)."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.urls import path
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from needpool.accounts.models import acting_user
from needpool.core.api import deny_unless
from needpool.core.permissions import is_admin
from needpool.recyclebin.selectors import KINDS, bin_list, entries, kind_of
from needpool.recyclebin.services import bin_restore
from needpool.requirements.models import Requirement


class BinEntrySerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=list(KINDS), help_text=gettext_lazy("记录类型"))
    kind_label = serializers.CharField(help_text=gettext_lazy("记录类型名称"))
    id = serializers.IntegerField(source="pk")
    title = serializers.CharField(help_text=gettext_lazy("编号与标题、反馈内容或姓名"))
    detail = serializers.CharField(help_text=gettext_lazy("补充说明（状态、客户、随哪条需求删除）"))
    deleted_at = serializers.DateTimeField(help_text=gettext_lazy("删除时间"))
    deleted_by = serializers.CharField(help_text=gettext_lazy("删除人"))
    restore_until = serializers.DateTimeField(help_text=gettext_lazy("可恢复至"))
    days_left = serializers.IntegerField(help_text=gettext_lazy("还可恢复的天数"))


_DENIED = gettext_lazy("只有管理员可以查看和恢复回收站。")


@extend_schema(tags=["recycle-bin"])
class RecycleBinView(GenericAPIView):
    serializer_class = BinEntrySerializer
    filterset_class = None
    queryset = Requirement.objects.none()  # the rows are read per kind by ``bin_list``

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "kind",
                OpenApiTypes.STR,
                enum=list(KINDS),
                description=gettext_lazy("记录类型（默认 requirement）"),
            )
        ],
        responses=BinEntrySerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        """What staff deleted, of one kind, newest first (admins only)."""
        deny_unless(is_admin(request.user), str(_DENIED))
        kind = request.query_params.get("kind") or "requirement"
        if kind not in KINDS:
            raise serializers.ValidationError({"kind": [gettext_lazy("记录类型无效。")]})
        page = self.paginate_queryset(bin_list(user=request.user, kind=kind))
        data = BinEntrySerializer(entries(kind, page or []), many=True).data
        return self.get_paginated_response(data)


@extend_schema(tags=["recycle-bin"])
class RestoreView(GenericAPIView):
    serializer_class = BinEntrySerializer
    filterset_class = None
    queryset = Requirement.objects.none()

    @extend_schema(
        request=None,
        parameters=[
            OpenApiParameter("kind", OpenApiTypes.STR, OpenApiParameter.PATH, enum=list(KINDS)),
            OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description=gettext_lazy("记录 ID")),
        ],
        responses={200: BinEntrySerializer},
    )
    def post(self, request: Request, kind: str, id: int) -> Response:
        """Restore one deleted row (admins, within 30 days): 200 with the row as it was in the bin."""
        deny_unless(is_admin(request.user), str(_DENIED))
        kind_of(kind)
        entry = entries(kind, [bin_list(user=request.user, kind=kind).filter(pk=id).first() or _missing()])[0]
        bin_restore(actor=acting_user(request.user), kind=kind, pk=id)
        return Response(BinEntrySerializer(entry).data, status=status.HTTP_200_OK)


def _missing() -> Any:
    raise Http404


urlpatterns = [
    path("recycle-bin/", RecycleBinView.as_view(), name="recycle-bin"),
    path("recycle-bin/<slug:kind>/<id:id>/restore/", RestoreView.as_view(), name="recycle-bin-restore"),
]
