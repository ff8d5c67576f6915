"""Reads of the webhook pages (admins only): the list refuses others (403), an endpoint or delivery they may not
see is simply not found (404)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import CharField, Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Cast, Coalesce, Concat
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from needpool.core.audit import audit_for
from needpool.notify.models import Delivery
from needpool.notify.webhooks.models import WebhookEndpoint, WebhookSecret
from needpool.notify.webhooks.permissions import can_manage_webhooks

FAILURE_WINDOW = dt.timedelta(hours=24)


def _target_of_outer() -> Any:
    return Concat(Value("webhook:"), Cast(OuterRef("pk"), CharField()), output_field=CharField())


def endpoint_list(*, user: Any) -> QuerySet[WebhookEndpoint]:
    """Every endpoint with its last delivery's status and the failed or retrying deliveries of the last 24 h."""
    if not can_manage_webhooks(user):
        raise PermissionDenied(_("只有管理员可以管理 Webhook。"))
    since = timezone.now() - FAILURE_WINDOW
    last = Delivery.objects.filter(target=_target_of_outer()).order_by("-created_at", "-id").values("status")[:1]
    failures = (
        Delivery.objects.filter(target=_target_of_outer(), created_at__gte=since)
        .filter(Q(status=Delivery.Status.FAILED) | Q(status=Delivery.Status.PENDING, attempts__gt=0))
        .order_by()
        .values("target")
        .annotate(n=Count("id"))
        .values("n")
    )
    return WebhookEndpoint.objects.annotate(
        last_status=Subquery(last, output_field=CharField()),
        failures_24h=Coalesce(Subquery(failures, output_field=IntegerField()), 0),
    ).order_by("name", "id")


def endpoint_get(*, user: Any, pk: Any) -> WebhookEndpoint:
    if not can_manage_webhooks(user):
        raise Http404
    try:
        return WebhookEndpoint.objects.get(pk=pk)
    except (WebhookEndpoint.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def endpoint_deliveries(endpoint: WebhookEndpoint, *, status: str = "") -> QuerySet[Delivery]:
    """The endpoint's delivery log, newest first; ``status`` filters (an unknown one is ignored)."""
    rows = Delivery.objects.filter(target=endpoint.target).select_related("event")
    if status in Delivery.Status.values:
        rows = rows.filter(status=status)
    return rows.order_by("-created_at", "-id")


def endpoint_delivery_get(endpoint: WebhookEndpoint, pk: Any) -> Delivery:
    try:
        return Delivery.objects.select_related("event").get(pk=pk, target=endpoint.target)
    except (Delivery.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def endpoint_secrets(endpoint: WebhookEndpoint) -> list[WebhookSecret]:
    """The secrets that still sign (current first, then those in their grace period)."""
    now = timezone.now()
    return list(
        WebhookSecret.objects.filter(endpoint=endpoint).exclude(expires_at__lte=now).order_by("-created_at", "-id")
    )


def endpoint_history(endpoint: WebhookEndpoint) -> list[Any]:
    return audit_for(endpoint, limit=50)
