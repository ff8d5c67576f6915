"""requirements/merge_api routes (filled in by the feature)."""

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []
