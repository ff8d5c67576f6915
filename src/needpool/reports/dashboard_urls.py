from django.urls import path

from needpool.reports import dashboard_views

urlpatterns = [
    path("", dashboard_views.dashboard, name="dashboard"),
]
