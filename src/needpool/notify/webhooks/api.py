"""``/api/v1/webhooks/``: outbound webhook endpoints for admins (token or session, like the rest of the API).

Non-admins get 403 on the list and on creating, 404 on any one endpoint (not found and forbidden look the
same). The secret is in the answer to the create and to ``rotate-secret`` only; reads show it masked.

- ``GET/POST /webhooks/``, ``GET/PUT/PATCH/DELETE /webhooks/<id>/``
- ``POST /webhooks/<id>/rotate-secret/`` ``{"grace_hours": 24}`` → ``{"secret": "whsec_…", …}``
- ``POST /webhooks/<id>/ping/`` → 202, a ``webhook.ping`` event to that endpoint only
- ``GET /webhooks/<id>/deliveries/?status=failed`` (paginated), ``POST /webhooks/<id>/deliveries/<d>/resend/``
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import Http404
from django.urls import path
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from needpool.accounts.models import acting_user
from needpool.core.api import SelectorViewSet
from needpool.notify.kinds import EventKind
from needpool.notify.models import Delivery
from needpool.notify.webhooks.models import WebhookEndpoint
from needpool.notify.webhooks.permissions import can_manage_webhooks
from needpool.notify.webhooks.selectors import (
    endpoint_deliveries,
    endpoint_delivery_get,
    endpoint_list,
    endpoint_secrets,
)
from needpool.notify.webhooks.services import (
    ENDPOINT_FIELDS,
    webhook_delivery_resend,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_ping,
    webhook_endpoint_rotate_secret,
    webhook_endpoint_update,
)


class WebhookEndpointSerializer(serializers.ModelSerializer):
    url = serializers.CharField(max_length=500, help_text=gettext_lazy("接收 POST 请求的 http:// 或 https:// 地址"))
    kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=EventKind.choices),
        required=False,
        help_text=gettext_lazy("推送的事件类型；空列表表示全部类型"),
    )
    secrets = serializers.SerializerMethodField(help_text=gettext_lazy("仍在签名的密钥（只显示末四位）"))
    last_status = serializers.CharField(read_only=True, default="")
    failures_24h = serializers.IntegerField(read_only=True, default=0)

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "name",
            "url",
            "kinds",
            "active",
            "description",
            "secrets",
            "last_status",
            "failures_24h",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]

    def get_secrets(self, endpoint: WebhookEndpoint) -> list[dict[str, Any]]:
        return [
            {"masked": s.masked, "created_at": s.created_at, "expires_at": s.expires_at}
            for s in endpoint_secrets(endpoint)
        ]


class DeliverySerializer(serializers.ModelSerializer):
    event_kind = serializers.CharField(source="event.kind", read_only=True)
    event_key = serializers.CharField(source="event.key", read_only=True)

    class Meta:
        model = Delivery
        fields = [
            "id",
            "event_id",
            "event_kind",
            "event_key",
            "status",
            "attempts",
            "latency_ms",
            "response_status",
            "response_excerpt",
            "error",
            "next_attempt_at",
            "created_at",
            "sent_at",
        ]
        read_only_fields = fields


class RotateSerializer(serializers.Serializer):
    grace_hours = serializers.IntegerField(min_value=0, max_value=168, default=24)


_SECRET_ANSWER = inline_serializer("WebhookSecretAnswer", {"secret": serializers.CharField()})


@extend_schema(tags=["webhooks"])
class WebhookEndpointViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    SelectorViewSet,
):
    model = WebhookEndpoint
    serializer_class = WebhookEndpointSerializer

    def select_list(self, user: Any) -> Any:
        return endpoint_list(user=user)

    def select_one(self, user: Any, pk: Any) -> Any:
        if not can_manage_webhooks(user):
            raise Http404
        return super().select_one(user, pk)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        endpoint_list(user=request.user)  # the list's refusal (403) before anything is read
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = {f: serializer.validated_data[f] for f in ENDPOINT_FIELDS if f in serializer.validated_data}
        endpoint, secret = webhook_endpoint_create(actor=acting_user(request.user), **data)
        answer = self.respond_with(endpoint, status.HTTP_201_CREATED)
        answer.data["secret"] = secret
        answer["Cache-Control"] = "private, no-store"
        return answer

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        endpoint = self.get_object()
        serializer = self.get_serializer(endpoint, data=request.data, partial=kwargs.pop("partial", False))
        serializer.is_valid(raise_exception=True)
        data = {f: serializer.validated_data[f] for f in ENDPOINT_FIELDS if f in serializer.validated_data}
        webhook_endpoint_update(actor=acting_user(request.user), endpoint=endpoint, **data)
        return self.respond_with(endpoint)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, partial=True, **kwargs)

    def perform_destroy(self, instance: WebhookEndpoint) -> None:
        webhook_endpoint_delete(actor=acting_user(self.request.user), endpoint=instance)

    @extend_schema(request=RotateSerializer, responses={200: _SECRET_ANSWER})
    def rotate_secret(self, request: Request, pk: Any = None) -> Response:
        endpoint = self.get_object()
        serializer = RotateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        grace = dt.timedelta(hours=serializer.validated_data["grace_hours"])
        _row, secret = webhook_endpoint_rotate_secret(actor=acting_user(request.user), endpoint=endpoint, grace=grace)
        return Response({"secret": secret}, headers={"Cache-Control": "private, no-store"})

    @extend_schema(
        request=None, responses={202: inline_serializer("WebhookPing", {"event_id": serializers.IntegerField()})}
    )
    def ping(self, request: Request, pk: Any = None) -> Response:
        event = webhook_endpoint_ping(actor=acting_user(request.user), endpoint=self.get_object())
        return Response({"event_id": event.pk}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses=DeliverySerializer(many=True))
    def deliveries(self, request: Request, pk: Any = None) -> Response:
        rows = endpoint_deliveries(self.get_object(), status=request.query_params.get("status", ""))
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(DeliverySerializer(page, many=True).data)

    @extend_schema(request=None, responses=DeliverySerializer)
    def resend(self, request: Request, pk: Any = None, delivery_pk: Any = None) -> Response:
        endpoint = self.get_object()
        delivery = endpoint_delivery_get(endpoint, delivery_pk)
        delivery = webhook_delivery_resend(actor=acting_user(request.user), endpoint=endpoint, delivery=delivery)
        return Response(DeliverySerializer(delivery).data)


_list = WebhookEndpointViewSet.as_view({"get": "list", "post": "create"})
_one = WebhookEndpointViewSet.as_view(
    {"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "destroy"}
)
urlpatterns = [
    path("webhooks/", _list, name="webhook-list"),
    path("webhooks/<id:pk>/", _one, name="webhook-detail"),
    path(
        "webhooks/<id:pk>/rotate-secret/",
        WebhookEndpointViewSet.as_view({"post": "rotate_secret"}),
        name="webhook-rotate-secret",
    ),
    path("webhooks/<id:pk>/ping/", WebhookEndpointViewSet.as_view({"post": "ping"}), name="webhook-ping"),
    path(
        "webhooks/<id:pk>/deliveries/",
        WebhookEndpointViewSet.as_view({"get": "deliveries"}, serializer_class=DeliverySerializer),
        name="webhook-deliveries",
    ),
    path(
        "webhooks/<id:pk>/deliveries/<id:delivery_pk>/resend/",
        WebhookEndpointViewSet.as_view({"post": "resend"}, serializer_class=DeliverySerializer),
        name="webhook-delivery-resend",
    ),
]
