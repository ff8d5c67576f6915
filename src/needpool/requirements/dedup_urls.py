"""Duplicate-detection pages inside the "requirements" namespace (mounted at /requirements/)."""

from django.urls import URLPattern, URLResolver, path

from needpool.requirements import dedup_views

urlpatterns: list[URLPattern | URLResolver] = [
    path("similar/", dedup_views.similar_panel, name="similar_panel"),
    path("feedback/", dedup_views.feedback_inbox, name="feedback_inbox"),
    path("feedback/<int:pk>/", dedup_views.feedback_triage, name="feedback_triage"),
    path("feedback/<int:pk>/link/", dedup_views.feedback_triage_link, name="feedback_triage_link"),
]
