"""Suggestion pages and actions (accept / correct)."""

from django.urls import URLPattern, URLResolver

app_name = "suggest"
urlpatterns: list[URLPattern | URLResolver] = []
