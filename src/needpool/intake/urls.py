"""Staff pages for import and export."""

from django.urls import URLPattern, URLResolver

app_name = "intake"
urlpatterns: list[URLPattern | URLResolver] = []
