from django.urls import path

from needpool.loop import views

app_name = "loop"

urlpatterns = [
    path("", views.index, name="index"),
    path("notices/", views.notices_page, name="notices"),
    path("csat/", views.csat_page, name="csat"),
    path("nps/", views.campaigns_page, name="campaigns"),
    path("nps/new/", views.campaign_create, name="campaign_create"),
    path("nps/<id:pk>/", views.campaign_detail, name="campaign"),
    path("nps/<id:pk>/start/", views.campaign_start, name="campaign_start"),
    path("release-notes/", views.release_notes_page, name="release_notes"),
    path("release-notes/new/", views.release_note_create, name="release_note_create"),
    path("release-notes/<id:pk>/", views.release_note_edit, name="release_note"),
    path("release-notes/<id:pk>/publish/", views.release_note_publish, name="release_note_publish"),
    path("settings/", views.settings_page, name="settings"),
]
