"""Staff pages of the channels, mounted under /portal/ in the ``portal`` namespace by ``intake.portal.urls``."""

from django.urls import URLPattern, URLResolver, path

from needpool.intake.channels import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("staff/channels/", views.staff_channels, name="staff_channels"),
    path("staff/channels/new/", views.staff_channel_create, name="staff_channel_create"),
    path("staff/channels/<id:pk>/", views.staff_channel, name="staff_channel"),
    path("staff/channels/<id:pk>/token/", views.staff_channel_token, name="staff_channel_token"),
    path("staff/channels/<id:pk>/token/revoke/", views.staff_channel_token_revoke, name="staff_channel_token_revoke"),
    path("staff/channels/<id:pk>/codes/", views.staff_channel_code_issue, name="staff_channel_code_issue"),
    path(
        "staff/channels/<id:pk>/codes/<id:code_pk>/revoke/",
        views.staff_channel_code_revoke,
        name="staff_channel_code_revoke",
    ),
]
