"""Report API routes; each area adds its own paths here."""

from django.urls import URLPattern, path

from needpool.reports.api.dashboard import DashboardView

urlpatterns: list[URLPattern] = [
    path("dashboard/", DashboardView.as_view(), name="reports-dashboard"),
]
