"""Reads of the chat bot pages. Routes: admins only (a list asks for the right, one route is "not found"
otherwise); a personal bot: only its own user's."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from needpool.notify.chat.models import ChatRoute, PersonalBot
from needpool.notify.chat.permissions import can_configure_routes
from needpool.notify.models import Delivery

FAILURES_PER_ROUTE = 3


def route_list(*, user: Any) -> QuerySet[ChatRoute]:
    if not can_configure_routes(user):
        raise PermissionDenied(_("只有管理员可以设置群机器人。"))
    return ChatRoute.objects.select_related("team").order_by("name", "id")


def route_get(*, user: Any, pk: Any) -> ChatRoute:
    if not can_configure_routes(user):
        raise Http404
    try:
        return ChatRoute.objects.select_related("team").get(pk=pk)
    except (ChatRoute.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def recent_failures(routes: Sequence[ChatRoute], *, per_route: int = FAILURES_PER_ROUTE) -> dict[int, list[Delivery]]:
    """The latest failed attempts (failed for good, or waiting for a retry) of each route, in one query."""
    targets = {route.target: route.pk for route in routes}
    if not targets:
        return {}
    rows = (
        Delivery.objects.filter(target__in=list(targets))
        .exclude(error="")
        .exclude(status__in=[Delivery.Status.SENT, Delivery.Status.SKIPPED])
        .select_related("event")
        .order_by("-created_at", "-id")[: per_route * len(targets)]
    )
    failures: dict[int, list[Delivery]] = {pk: [] for pk in targets.values()}
    for row in rows:
        bucket = failures[targets[row.target]]
        if len(bucket) < per_route:
            bucket.append(row)
    return failures


def route_deliveries(route: ChatRoute) -> QuerySet[Delivery]:
    """Every delivery to the route, newest first (paginated by the page)."""
    return Delivery.objects.filter(target=route.target).select_related("event").order_by("-created_at", "-id")


def personal_bot_of(*, user: Any) -> PersonalBot | None:
    if not (user and user.is_authenticated):
        return None
    return PersonalBot.objects.filter(user=user.pk).first()


def personal_deliveries(*, user: Any) -> QuerySet[Delivery]:
    return Delivery.objects.filter(target=f"im:{user.pk}").select_related("event").order_by("-created_at", "-id")
