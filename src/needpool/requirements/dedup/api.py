"""``GET|POST /api/v1/requirements/similar/``: the requirements most similar to a text (查重), for
integrations that dedupe before they post. Same lookup as the pages (``requirements.dedup``):
permission-scoped, merged requirements left out, best first, score 0–1; plus at most one strong match
outside the caller's scope, with ``in_scope`` false and only its code, title and status. POST takes the
same fields as a JSON body, for text too long for an address."""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern, URLResolver, path
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from needpool.core.validation import ID_MAX, ID_MIN, ID_SCHEMA, parse_id
from needpool.requirements.dedup.index import MAX_TEXT, get_index, similar_requirements

MAX_LIMIT = 20
MAX_EXCLUDE = 100
BAD_LIMIT = format_lazy(_("limit 必须是 1 到 {max} 之间的整数。"), max=MAX_LIMIT)


class SimilarQuerySerializer(serializers.Serializer):
    """The query string, checked: text required and bounded, limit 1–20, exclude a list of ids."""

    text = serializers.CharField(
        max_length=MAX_TEXT,
        error_messages={
            "required": _("请提供要查重的文本（text）。"),
            "blank": _("请提供要查重的文本（text）。"),
            "max_length": _("文本不能超过 {max_length} 个字符。"),
        },
    )
    limit = serializers.IntegerField(
        min_value=1,
        max_value=MAX_LIMIT,
        default=5,
        error_messages={
            "invalid": BAD_LIMIT,
            "min_value": BAD_LIMIT,
            "max_value": BAD_LIMIT,
        },
    )
    exclude = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        max_length=MAX_EXCLUDE,
        error_messages={"max_length": _("exclude 最多 {max_length} 个需求 ID。")},
    )

    def validate_exclude(self, values: list[str]) -> list[int]:
        """Ids in range; a bad one is one flat message (the documented 400 body: a list of strings)."""
        ids = [parse_id(value) for value in values]
        if None in ids:
            raise serializers.ValidationError(_("exclude 必须是需求 ID（正整数）。"))
        return [pk for pk in ids if pk is not None]

    @classmethod
    def from_body(cls, body: Any) -> SimilarQuerySerializer:
        """The JSON body of a POST: {"text": …, "limit": …, "exclude": [ids]}."""
        data = dict(body) if isinstance(body, dict) else {}
        if data.get("limit") in ("", None):
            data.pop("limit", None)
        if "exclude" in data and not isinstance(data["exclude"], list):
            data["exclude"] = [data["exclude"]]
        if isinstance(data.get("exclude"), list):
            data["exclude"] = [str(value) for value in data["exclude"]]
        return cls(data={k: v for k, v in data.items() if k in ("text", "limit", "exclude")})

    @classmethod
    def from_query(cls, params: Any) -> SimilarQuerySerializer:
        data: dict[str, Any] = {}
        if "text" in params:
            data["text"] = params.get("text", "")
        if params.get("limit", "") != "":
            data["limit"] = params.get("limit")
        excluded = [part.strip() for value in params.getlist("exclude") for part in value.split(",") if part.strip()]
        if excluded:
            data["exclude"] = excluded
        return cls(data=data)


class SimilarRequirementSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text=_("需求 ID"))
    code = serializers.CharField(help_text=_("需求编号"))
    title = serializers.CharField(help_text=_("标题"))
    score = serializers.FloatField(help_text=_("相似度 0–1（约为“说的是同一件事”的可能性）"))
    status = serializers.CharField(help_text=_("状态"))
    is_open = serializers.BooleanField(help_text=_("是否未关闭（待处理或处理中）"))
    in_scope = serializers.BooleanField(
        help_text=_("你是否有权查看该需求；为 false 时它属于其他客户，只给出编号、标题和状态（高度相似时才返回）")
    )


class SimilarErrorSerializer(serializers.Serializer):
    text = serializers.ListField(child=serializers.CharField(), required=False)
    limit = serializers.ListField(child=serializers.CharField(), required=False)
    exclude = serializers.ListField(child=serializers.CharField(), required=False)


DESCRIPTION = _(
    "返回与 text 最相似的需求（你有权查看的、未被合并的），按相似度从高到低排列。"
    "score 为 0–1 的相似度；已关闭的需求也会返回，is_open 为 false。"
    "若有高度相似的需求属于你无权查看的客户，也会返回其中最相似的一条（in_scope 为 false），"
    "只含编号、标题和状态。对接方在提交反馈前可先调用本接口去重。"
)
RANKING = _(
    "响应头 X-Needpool-Ranking 为 hybrid 时，所有需求都按文字和语义一起排序；为 lexical 时，"
    "部分需求（如刚导入的）的语义向量仍在后台计算，暂时只按文字排序。"
)
RESPONSES = {
    200: SimilarRequirementSerializer(many=True),
    400: OpenApiResponse(SimilarErrorSerializer, description=str(_("参数错误：按字段给出原因"))),
}


class SimilarBodySerializer(serializers.Serializer):
    """The POST body (documentation): the same fields as the query string."""

    text = serializers.CharField(max_length=MAX_TEXT, help_text=_("要查重的文本，最多 2000 字"))
    limit = serializers.IntegerField(
        min_value=1, max_value=MAX_LIMIT, required=False, help_text=_("返回条数，1–20，默认 5")
    )
    exclude = serializers.ListField(
        child=serializers.IntegerField(min_value=ID_MIN, max_value=ID_MAX),
        required=False,
        max_length=MAX_EXCLUDE,
        help_text=_("排除的需求 ID"),
    )


class SimilarRequirementsView(APIView):
    """The requirements you may see that are most similar to ``text``, best first."""

    @extend_schema(
        tags=["requirements"],
        operation_id="requirements_similar",
        summary=str(_("查找相似需求（查重）")),
        description=str(DESCRIPTION) + str(RANKING),
        parameters=[
            OpenApiParameter("text", OpenApiTypes.STR, required=True, description=str(_("要查重的文本，最多 2000 字"))),
            OpenApiParameter("limit", OpenApiTypes.INT, description=str(_("返回条数，1–20，默认 5"))),
            OpenApiParameter(
                "exclude",
                {"type": "array", "items": ID_SCHEMA},
                explode=True,
                description=str(_("排除的需求 ID（可重复，或以逗号分隔）")),
            ),
        ],
        responses=RESPONSES,
    )
    def get(self, request: Request) -> Response:
        return self._answer(request, SimilarQuerySerializer.from_query(request.query_params))

    @extend_schema(
        tags=["requirements"],
        operation_id="requirements_similar_post",
        summary=str(_("查找相似需求（查重，长文本）")),
        description=str(DESCRIPTION) + str(RANKING) + str(_("与 GET 相同，文本放在 JSON 请求体中（适合长文本）。")),
        request=SimilarBodySerializer,
        responses=RESPONSES,
    )
    def post(self, request: Request) -> Response:
        return self._answer(request, SimilarQuerySerializer.from_body(request.data))

    def _answer(self, request: Request, query: SimilarQuerySerializer) -> Response:
        query.is_valid(raise_exception=True)
        found = similar_requirements(
            user=request.user,
            text=query.validated_data["text"],
            limit=query.validated_data["limit"],
            exclude_ids=query.validated_data.get("exclude", ()),
            with_hidden=True,
        )
        response = Response(SimilarRequirementSerializer(found, many=True).data)
        # Says how the rows were ranked: rows not embedded yet (just imported) are ranked by their words alone.
        response["X-Needpool-Ranking"] = "hybrid" if get_index().semantic_ready else "lexical"
        return response


urlpatterns: list[URLPattern | URLResolver] = [
    path("requirements/similar/", SimilarRequirementsView.as_view(), name="requirement-similar"),
]
