"""Write use-cases shared by every app (notifications)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from needpool.core.models import Notification


@transaction.atomic
def notifications_mark_read(*, actor: Any, ids: Iterable[int] | None = None) -> int:
    """Mark the actor's unread notifications (all, or only ``ids``) as read; returns how many changed."""
    if not (actor and actor.is_authenticated):
        raise PermissionDenied(_("请先登录。"))
    qs = Notification.objects.filter(recipient=actor, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs.update(read_at=timezone.now())
