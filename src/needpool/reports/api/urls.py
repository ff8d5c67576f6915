"""Report API routes; each area adds its own paths here."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
