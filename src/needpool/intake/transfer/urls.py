"""Staff pages for import and export (mounted at /intake/ in the ``intake`` namespace by ``intake.urls``)."""

from django.urls import URLPattern, URLResolver, path

from needpool.intake.transfer import policy_views, views

urlpatterns: list[URLPattern | URLResolver] = [
    path("import/", views.import_page, name="import"),
    path("import/jobs/<id:pk>/", views.import_job_page, name="import_job"),
    path("import/jobs/<id:pk>/progress/", views.import_job_progress, name="import_job_progress"),
    path("import/jobs/<id:pk>/run/", views.import_job_run, name="import_job_run"),
    path("import/jobs/<id:pk>/policy/", policy_views.import_job_policy, name="import_job_policy"),
    path("import/jobs/<id:pk>/undo/", views.import_job_undo, name="import_job_undo"),
    path("import/jobs/<id:pk>/mapping/", views.import_job_mapping, name="import_job_mapping"),
    path("import/jobs/<id:pk>/options/", views.import_job_options, name="import_job_options"),
    path("import/jobs/<id:pk>/sheet/", views.import_job_sheet, name="import_job_sheet"),
    path("export/requirements/<slug:layout>.<slug:fmt>", views.export_requirements, name="export_requirements"),
    path("export/customers.<slug:fmt>", views.export_customers, name="export_customers"),
    path("export/interactions.<slug:fmt>", views.export_interactions, name="export_interactions"),
]
