"""Merge pages, inside the "requirements" namespace at /requirements/."""

from django.urls import URLPattern, URLResolver, path

from needpool.requirements.merging import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("merge/", views.merge_page, name="merge"),
    path("merges/<id:pk>/undo/", views.merge_undo_action, name="merge_undo"),
    path("<id:pk>/watch/", views.watch_action, name="watch"),
    path("<id:pk>/unwatch/", views.unwatch_action, name="unwatch"),
]
