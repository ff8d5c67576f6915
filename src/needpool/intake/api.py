"""Intake's API routes (mounted under /api/v1/ before the router).

The channel API has no route of its own: integrations post to the existing ``POST /api/v1/feedback/``
with their channel token and an optional ``Idempotency-Key`` — see ``needpool.intake.channels.api``
for the authentication class, the permission, the serializers, the idempotent create path and
``ChannelFeedbackViewSet`` (the pool's feedback viewset with all that added), which ``needpool.api_v1``
routes at ``feedback/``.
"""

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []
