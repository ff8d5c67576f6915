"""``GET /api/v1/reports/dashboard/``: the dashboard document as JSON, for the caller's scope and filters.

The same parse and the same numbers as the page (``dashboard_views.result_from_query``); bad filters are 400 with
the messages per field, in the API's usual error shape. A large pool's dashboard comes from its snapshot, with
``computed_at`` and ``stale_note`` saying how old it is; before the first build has finished the answer is 202
with ``Retry-After`` (seconds) and no document.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from needpool.customers.choices import Segment
from needpool.reports.dashboard_views import result_from_query
from needpool.reports.document import as_dict

TAGS = ["reports"]
ID_RANGE = {"minimum": 1, "maximum": 2**53}


# ---------------------------------------------------------------- the document's shape (documentation)


class SeriesSerializer(serializers.Serializer):
    name = serializers.CharField(allow_blank=True)
    values = serializers.ListField(child=serializers.JSONField(allow_null=True), help_text=_("每个类别一个值"))


class BlockSerializer(serializers.Serializer):
    """One block of a section: which fields it has depends on ``type``."""

    type = serializers.ChoiceField(choices=["figure", "table", "chart", "text"])
    key = serializers.CharField(allow_blank=True)
    # figure
    label = serializers.CharField(required=False, allow_blank=True)  # type: ignore[assignment]
    value = serializers.JSONField(required=False, allow_null=True, help_text=_("数值；无数据时为 null"))
    unit = serializers.ChoiceField(
        choices=["", "%", "h", "d", "count", "score"], required=False, allow_blank=True, help_text=_("单位")
    )
    note = serializers.CharField(required=False, allow_blank=True)
    href = serializers.CharField(required=False, allow_blank=True, help_text=_("对应需求列表的链接（点击下钻）"))
    # table, chart, text
    title = serializers.CharField(required=False, allow_blank=True)
    columns = serializers.ListField(child=serializers.CharField(allow_blank=True), required=False)
    rows = serializers.ListField(
        child=serializers.ListField(child=serializers.JSONField(allow_null=True)), required=False
    )
    hrefs = serializers.ListField(
        child=serializers.JSONField(), required=False, help_text=_("表格：与 rows 同形；图表：每个类别一个链接")
    )
    kind = serializers.ChoiceField(
        choices=["bar", "hbar", "line", "pie", "funnel", "stacked"], required=False, help_text=_("图表类型")
    )
    categories = serializers.ListField(child=serializers.CharField(allow_blank=True), required=False)
    series = SeriesSerializer(many=True, required=False)
    body = serializers.CharField(required=False, allow_blank=True)
    items = serializers.ListField(child=serializers.CharField(allow_blank=True), required=False)


class SectionSerializer(serializers.Serializer):
    key = serializers.CharField(allow_blank=True)
    title = serializers.CharField(allow_blank=True)
    blocks = BlockSerializer(many=True)


class ReportSerializer(serializers.Serializer):
    """A report document: its sections of figures, tables, charts and text."""

    kind = serializers.CharField(allow_blank=True)
    title = serializers.CharField(allow_blank=True)
    subtitle = serializers.CharField(allow_blank=True)
    scope = serializers.ListField(child=serializers.CharField(allow_blank=True), help_text=_("统计范围的文字说明"))
    computed_at = serializers.DateTimeField(help_text=_("数据截至"))
    stale_note = serializers.CharField(allow_blank=True, help_text=_("数据不是最新时的说明"))
    sections = SectionSerializer(many=True)


class BuildingSerializer(serializers.Serializer):
    """The dashboard of these filters is being computed for the first time: ask again after Retry-After seconds."""

    status = serializers.ChoiceField(choices=["building"])
    detail = serializers.CharField()


# ---------------------------------------------------------------- the endpoint

RETRY_AFTER_SECONDS = 2


FILTER_PARAMETERS = [
    OpenApiParameter("start", OpenApiTypes.DATE, description=str(_("开始日期（含），默认结束日期前 90 天"))),
    OpenApiParameter("end", OpenApiTypes.DATE, description=str(_("结束日期（含），默认今天；期间最长十年"))),
    OpenApiParameter("grain", OpenApiTypes.STR, enum=["week", "month"], description=str(_("趋势粒度：按周或按月"))),
    OpenApiParameter("team", {"type": "integer", **ID_RANGE}, description=str(_("团队 ID"))),
    OpenApiParameter("owner", {"type": "integer", **ID_RANGE}, description=str(_("负责人（用户）ID"))),
    OpenApiParameter("segment", OpenApiTypes.STR, enum=list(Segment.values), description=str(_("客户分层"))),
    OpenApiParameter("industry", {"type": "string", "maxLength": 60}, description=str(_("所属行业"))),
    OpenApiParameter("project", {"type": "integer", **ID_RANGE}, description=str(_("分析项目 ID"))),
]


class DashboardView(APIView):
    """The dashboard of the caller's scope: the same document the 仪表盘 page shows."""

    @extend_schema(
        tags=TAGS,
        operation_id="reports_dashboard",
        summary=str(_("仪表盘数据")),
        description=str(
            _(
                "按筛选条件返回仪表盘：需求满足率、SLA、处理时长、分布、趋势、满意度与业务效果。"
                "只统计调用者有权查看的需求；每个数字都附带对应需求列表的链接（href）。"
                "需求量大时返回定期计算的快照：computed_at 为计算时间，stale_note 说明数据截至何时；"
                "首次计算尚未完成时返回 202 和 Retry-After（秒），请稍后重试。"
            )
        ),
        parameters=FILTER_PARAMETERS,
        responses={200: ReportSerializer, 202: BuildingSerializer},
    )
    def get(self, request: Request) -> Response:
        query: dict[str, Any] = {name: request.query_params.get(name) for name in request.query_params}
        result = result_from_query(request.user, query)  # type: ignore[arg-type]
        if result.report is None:
            return Response(
                {"status": "building", "detail": str(_("正在计算仪表盘，请稍后重试。"))},
                status=202,
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        return Response(as_dict(result.report))
