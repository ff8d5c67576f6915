"""``POST /api/v1/requirements/bulk/``: one change to many requirements, each row through the single-edit
services and gates, with a result per row (200 even when some rows are refused; 400 when the request itself is
wrong: no ids, too many, an unknown action or value)."""

from __future__ import annotations

from typing import Any

from django.urls import path
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from needpool.accounts.models import acting_user
from needpool.requirements.services.bulk import ACTIONS, requirements_bulk_edit


class BulkRequestSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        allow_empty=False,
        help_text=gettext_lazy("要修改的需求 id（最多 500 个）"),
    )
    action = serializers.ChoiceField(choices=[(k, str(v)) for k, v in ACTIONS.items()])
    value = serializers.CharField(
        allow_blank=True,
        max_length=150,
        help_text=gettext_lazy("新值：负责人的 id 或用户名（空为无负责人）、紧急程度或标签的键、要流转到的状态键"),
    )
    versions = serializers.DictField(
        child=serializers.IntegerField(min_value=0),
        required=False,
        help_text=gettext_lazy("可选：{需求 id: 读到的 version}；此后被他人修改的需求不做更改"),
    )


class BulkRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    title = serializers.CharField()
    ok = serializers.BooleanField()
    message = serializers.CharField()


class BulkResponseSerializer(serializers.Serializer):
    done = serializers.IntegerField()
    refused = serializers.IntegerField()
    results = BulkRowSerializer(many=True)


class RequirementBulkView(APIView):
    @extend_schema(tags=["requirements"], request=BulkRequestSerializer, responses={200: BulkResponseSerializer})
    def post(self, request: Request) -> Response:
        actor = acting_user(request.user)
        serializer = BulkRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data: dict[str, Any] = serializer.validated_data
        versions = {int(k): v for k, v in (data.get("versions") or {}).items() if str(k).isdigit()}
        rows = requirements_bulk_edit(
            actor=actor, ids=data["ids"], action=data["action"], value=data["value"], versions=versions
        )
        body = {
            "done": sum(1 for r in rows if r.ok),
            "refused": sum(1 for r in rows if not r.ok),
            "results": [r.__dict__ for r in rows],
        }
        return Response(BulkResponseSerializer(body).data)


urlpatterns = [path("requirements/bulk/", RequirementBulkView.as_view(), name="requirement-bulk")]
