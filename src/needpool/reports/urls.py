"""Report pages. Each area keeps its routes in its own module, all under the ``reports`` namespace."""

from django.urls import include, path

app_name = "reports"
urlpatterns = [
    path("", include("needpool.reports.dashboard_urls")),
    path("monthly/", include("needpool.reports.monthly_urls")),
    path("customers/", include("needpool.reports.customer_urls")),
    path("projects/", include("needpool.reports.project_urls")),
    path("exports/", include("needpool.reports.export_urls")),
]
