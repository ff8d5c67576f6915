"""The public customer portal (/portal/) and its staff pages (/portal/staff/, sign-in required).

The staff pages of the channels (``intake.channels.urls``) share the ``portal`` namespace. Channel slugs
may not take the names used here (``intake.channels.tokens.RESERVED_SLUGS``); /portal/kano/ belongs to
the analysis app's public survey and is matched before these routes.
"""

from django.urls import URLPattern, URLResolver, path

from needpool.intake.channels.urls import urlpatterns as channel_patterns
from needpool.intake.portal import views

app_name = "portal"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.portal_index, name="index"),
    path("track/<str:token>/", views.portal_track, name="track"),
    path("staff/", views.staff_submissions, name="staff_submissions"),
    path("staff/submissions/<id:pk>/", views.staff_submission_detail, name="staff_submission"),
    path("staff/submissions/<id:pk>/files/<id:file_pk>/", views.staff_submission_file, name="staff_submission_file"),
    *channel_patterns,
    path("<slug:slug>/", views.portal_form, name="form"),
]
