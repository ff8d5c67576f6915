from django.urls import path

from needpool.reports import dashboard_views

urlpatterns = [
    path("", dashboard_views.dashboard, name="dashboard"),
    path("snapshot/", dashboard_views.dashboard_snapshot, name="dashboard_snapshot"),
    path("refresh/", dashboard_views.dashboard_refresh, name="dashboard_refresh"),
]
