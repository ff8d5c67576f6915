"""Intake's API routes (mounted under /api/v1/ before the router).

The channel API has no route of its own: integrations post to the existing ``POST /api/v1/feedback/``
with their channel token and an optional ``Idempotency-Key`` — see ``needpool.intake.api_channel``
for the authentication class, the permission, the serializers and the idempotent create path that
``requirements.api.FeedbackViewSet`` uses.
"""

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []
