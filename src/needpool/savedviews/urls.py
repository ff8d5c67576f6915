from django.urls import path

from needpool.savedviews import views

app_name = "savedviews"
urlpatterns = [
    path("", views.saved_view_manage, name="manage"),
    path("save/", views.saved_view_save, name="save"),
    path("<id:pk>/edit/", views.saved_view_edit, name="edit"),
    path("<id:pk>/delete/", views.saved_view_remove, name="delete"),
    path("<id:pk>/default/", views.saved_view_default, name="default"),
]
