"""Report API routes (mounted at /api/v1/reports/)."""

from django.urls import URLPattern, path

from needpool.reports.api.dashboard import DashboardView
from needpool.reports.api.documents import CustomerReportView, MonthlyReviewView, ProjectReportView

urlpatterns: list[URLPattern] = [
    path("dashboard/", DashboardView.as_view(), name="reports-dashboard"),
    path("customers/<id:id>/", CustomerReportView.as_view(), name="reports-customer"),
    path("projects/<id:id>/", ProjectReportView.as_view(), name="reports-project"),
    path("monthly/<str:month>/", MonthlyReviewView.as_view(), name="reports-monthly"),
]
