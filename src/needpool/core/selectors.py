"""Reads shared by every app."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from needpool.core.models import Notification


def notification_list(*, user: Any) -> QuerySet[Notification]:
    """The user's own notifications, newest first."""
    return Notification.objects.filter(recipient=user.pk).select_related("actor").order_by("-created_at", "-id")
