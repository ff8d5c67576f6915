from django.urls import path

from needpool.reports import project_views

urlpatterns = [
    path("<id:pk>/", project_views.project_report_page, name="project"),
]
