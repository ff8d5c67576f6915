"""requirements/merge_urls routes (filled in by the feature)."""

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []
