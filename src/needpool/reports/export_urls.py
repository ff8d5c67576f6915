from django.urls import path

from needpool.reports import export_views

urlpatterns = [
    path("", export_views.export_start, name="export_start"),
    path("<id:pk>/", export_views.export_job, name="export_job"),
    path("<id:pk>/progress/", export_views.export_progress, name="export_progress"),
    path("<id:pk>/download/", export_views.export_download, name="export_download"),
]
