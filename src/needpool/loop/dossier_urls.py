"""The archive 档案 pages (mounted at /archive/): the list of finished requirements and each one's dossier."""

from django.urls import path

from needpool.loop import dossier

app_name = "dossier"

urlpatterns = [
    path("", dossier.archive_list, name="list"),
    path("requirements/<id:pk>/", dossier.requirement_dossier, name="requirement"),
    path("requirements/<id:pk>/pdf/", dossier.requirement_dossier_pdf, name="pdf"),
]
