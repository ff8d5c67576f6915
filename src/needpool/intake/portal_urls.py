"""The public customer portal (/portal/) and its staff pages (/portal/staff/, sign-in required).

Channel slugs may not take the names used here (``intake.channels.RESERVED_SLUGS``); /portal/kano/
belongs to the analysis app's public survey and is matched before these routes.
"""

from django.urls import URLPattern, URLResolver, path

from needpool.intake import portal_views as views

app_name = "portal"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.portal_index, name="index"),
    path("track/<str:token>/", views.portal_track, name="track"),
    path("staff/", views.staff_submissions, name="staff_submissions"),
    path("staff/submissions/<int:pk>/", views.staff_submission_detail, name="staff_submission"),
    path("staff/submissions/<int:pk>/files/<int:file_pk>/", views.staff_submission_file, name="staff_submission_file"),
    path("staff/channels/", views.staff_channels, name="staff_channels"),
    path("staff/channels/new/", views.staff_channel_create, name="staff_channel_create"),
    path("staff/channels/<int:pk>/", views.staff_channel, name="staff_channel"),
    path("staff/channels/<int:pk>/token/", views.staff_channel_token, name="staff_channel_token"),
    path("staff/channels/<int:pk>/token/revoke/", views.staff_channel_token_revoke, name="staff_channel_token_revoke"),
    path("staff/channels/<int:pk>/codes/", views.staff_channel_code_issue, name="staff_channel_code_issue"),
    path(
        "staff/channels/<int:pk>/codes/<int:code_pk>/revoke/",
        views.staff_channel_code_revoke,
        name="staff_channel_code_revoke",
    ),
    path("<slug:slug>/", views.portal_form, name="form"),
]
