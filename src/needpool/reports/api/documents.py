"""The customer needs report, the analysis-project report and a month's review as JSON: the documents their pages
show, built by the same functions (``reports.registry``) for the caller. A customer or project the caller may
not see is 404; a month's review without the whole team's view is 403; a bad month is 400."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from needpool.reports import registry
from needpool.reports.api.dashboard import TAGS, ReportSerializer
from needpool.reports.document import as_dict


def _document(request: Request, kind: str, query: dict[str, str]) -> Response:
    return Response(as_dict(registry.build(kind, request.user, query)))


class CustomerReportView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="reports_customer",
        summary=str(_("客户需求报告")),
        description=str(
            _("一个客户的显性 / 隐性需求、按优先级的进展、满意度与下一步跟进；只统计调用者有权查看的需求。")
        ),
        parameters=[OpenApiParameter("id", {"type": "integer", "minimum": 1, "maximum": 2**53}, OpenApiParameter.PATH)],
        responses={200: ReportSerializer},
    )
    def get(self, request: Request, id: int) -> Response:
        return _document(request, "customer", {"customer": str(id)})


class ProjectReportView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="reports_project",
        summary=str(_("分析项目报告")),
        description=str(_("分析项目范围内的需求满足率、优先级、状态、类型与主要客户。")),
        parameters=[OpenApiParameter("id", {"type": "integer", "minimum": 1, "maximum": 2**53}, OpenApiParameter.PATH)],
        responses={200: ReportSerializer},
    )
    def get(self, request: Request, id: int) -> Response:
        return _document(request, "project", {"project": str(id)})


class MonthlyReviewView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="reports_monthly",
        summary=str(_("月度复盘")),
        description=str(
            _("一个月（YYYY-MM）的复盘：与上月相比的数字、结构、变化最大的项、SLA 超时、上线、风险与团队结论。")
        ),
        parameters=[OpenApiParameter("month", {"type": "string", "pattern": r"^\d{4}-\d{2}$"}, OpenApiParameter.PATH)],
        responses={200: ReportSerializer},
    )
    def get(self, request: Request, month: str) -> Response:
        return _document(request, "monthly", {"month": month})
