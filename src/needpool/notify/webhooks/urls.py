"""Pages of the outbound webhooks, under /notify/webhooks/ (admins only)."""

from django.urls import URLPattern, URLResolver, path

from needpool.notify.webhooks import views

app_name = "notify_webhooks"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.endpoint_list_page, name="list"),
    path("new/", views.endpoint_create_page, name="create"),
    path("<id:pk>/", views.endpoint_page, name="endpoint"),
    path("<id:pk>/edit/", views.endpoint_edit_page, name="edit"),
    path("<id:pk>/delete/", views.endpoint_delete_page, name="delete"),
    path("<id:pk>/rotate/", views.endpoint_rotate, name="rotate"),
    path("<id:pk>/ping/", views.endpoint_ping, name="ping"),
    path("<id:pk>/deliveries/<id:delivery_pk>/resend/", views.delivery_resend_view, name="resend"),
]
