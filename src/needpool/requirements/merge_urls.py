"""Merge pages, inside the "requirements" namespace at /requirements/."""

from django.urls import URLPattern, URLResolver, path

from needpool.requirements import merge_views

urlpatterns: list[URLPattern | URLResolver] = [
    path("merge/", merge_views.merge_page, name="merge"),
    path("merges/<int:pk>/undo/", merge_views.merge_undo_action, name="merge_undo"),
    path("<int:pk>/watch/", merge_views.watch_action, name="watch"),
    path("<int:pk>/unwatch/", merge_views.unwatch_action, name="unwatch"),
]
