"""REST API routes of the evaluation app (included under /api/v1/)."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
