"""Duplicate-detection pages inside the "requirements" namespace (mounted at /requirements/)."""

from django.urls import URLPattern, URLResolver, path

from needpool.requirements.dedup import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("similar/", views.similar_panel, name="similar_panel"),
    path("similar/vote/", views.similar_vote, name="similar_vote"),
    path("feedback/", views.feedback_inbox, name="feedback_inbox"),
    path("feedback/<id:pk>/", views.feedback_triage, name="feedback_triage"),
    path("feedback/<id:pk>/link/", views.feedback_triage_link, name="feedback_triage_link"),
    path("feedback/<id:pk>/attach/", views.similar_attach, name="similar_attach"),
]
