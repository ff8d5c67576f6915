"""REST API of notifications (included under /api/v1/): the caller's own inbox and channel choices.

- ``notifications/`` the caller's notices, newest first (``unread=true``, ``kind=…``; paginated)
- ``notifications/unread-count/`` how many are unread
- ``notifications/mark-read/`` POST ``{"ids": [...]}`` or ``{"all": true}``: mark them read
- ``notify/preferences/`` GET / PUT the caller's language and channels per kind (PUT: the kinds sent are
  replaced, the others stay; unknown kinds or channels are refused and nothing is written)

Nobody reads or changes anyone else's: the scope is the caller.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.urls import path
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from needpool.accounts.models import acting_user
from needpool.core.api import SelectorViewSet
from needpool.core.models import Notification
from needpool.core.schema import NamedChoiceField
from needpool.core.selectors import notification_list
from needpool.core.services import notifications_mark_read
from needpool.core.validation import ID_MAX
from needpool.notify import selectors, services
from needpool.notify.kinds import Channel, EventKind

TAGS = ["notifications"]


class NotificationSerializer(serializers.ModelSerializer):
    kind = NamedChoiceField(EventKind.choices, enum_name="NotifyEventKindEnum", read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    actor = serializers.SerializerMethodField()
    unread = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "kind", "kind_label", "text", "url", "actor", "created_at", "read_at", "unread"]
        read_only_fields = fields

    def get_actor(self, obj: Notification) -> str:
        return str(obj.actor) if obj.actor_id and obj.actor else ""

    def get_unread(self, obj: Notification) -> bool:
        return obj.read_at is None


class NotificationFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=EventKind.choices, label=gettext_lazy("类型"))
    unread = django_filters.BooleanFilter(method="filter_unread", label=gettext_lazy("只看未读"))

    class Meta:
        model = Notification
        fields: list[str] = []

    def filter_unread(self, queryset: Any, name: str, value: bool | None) -> Any:
        if value is None:
            return queryset
        return queryset.filter(read_at__isnull=value)


@extend_schema(tags=TAGS)
class NotificationViewSet(mixins.ListModelMixin, SelectorViewSet):
    model = Notification
    serializer_class = NotificationSerializer
    filterset_class = NotificationFilter

    def select_list(self, user: Any) -> Any:
        return notification_list(user=user)


class UnreadCountSerializer(serializers.Serializer):
    count = serializers.IntegerField()


@extend_schema(tags=TAGS)
class UnreadCountView(GenericAPIView):
    serializer_class = UnreadCountSerializer
    filterset_class = None
    queryset = Notification.objects.none()

    @extend_schema(responses=UnreadCountSerializer)
    def get(self, request: Request) -> Response:
        """How many of the caller's notifications are unread."""
        return Response({"count": notification_list(user=request.user, unread=True).count()})


class MarkReadSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=ID_MAX),
        required=False,
        max_length=1000,
        help_text=gettext_lazy("通知 ID"),
    )
    all = serializers.BooleanField(required=False, default=False, help_text=gettext_lazy("全部标为已读"))

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("all") and not attrs.get("ids"):
            raise serializers.ValidationError(gettext_lazy("请给出通知 ID，或 all 为 true。"))
        return attrs


@extend_schema(tags=TAGS)
class MarkReadView(GenericAPIView):
    serializer_class = MarkReadSerializer
    filterset_class = None
    queryset = Notification.objects.none()

    @extend_schema(
        request=MarkReadSerializer,
        responses=inline_serializer("MarkReadResult", {"marked": serializers.IntegerField()}),
    )
    def post(self, request: Request) -> Response:
        """Mark the caller's notifications read (``ids``, or ``all``); others' ids are ignored."""
        serializer = MarkReadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        ids = None if data.get("all") else data["ids"]
        return Response({"marked": notifications_mark_read(actor=acting_user(request.user), ids=ids)})


class PreferenceRowSerializer(serializers.Serializer):
    kind = serializers.CharField()
    kind_label = serializers.CharField()
    description = serializers.CharField()
    channels = serializers.ListField(child=NamedChoiceField(Channel.choices, enum_name="NotifyChannelEnum"))
    defaults = serializers.ListField(child=NamedChoiceField(Channel.choices, enum_name="NotifyChannelEnum"))
    saved = serializers.BooleanField(help_text=gettext_lazy("是否为用户自己的选择（否则为默认）"))


class PreferencesSerializer(serializers.Serializer):
    language = serializers.CharField(
        allow_blank=True, required=False, max_length=10, help_text=gettext_lazy("zh-hans、en，空为网站默认")
    )
    channels = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField(max_length=40), max_length=10),
        required=False,
        help_text=gettext_lazy("类型 → 渠道列表（空列表为关闭）"),
    )
    preferences = PreferenceRowSerializer(many=True, read_only=True)


def _answer(user: Any) -> dict[str, Any]:
    return {
        "language": user.language,
        "preferences": [
            {
                "kind": row.kind,
                "kind_label": row.label,
                "description": row.help,
                "channels": list(row.channels),
                "defaults": list(row.defaults),
                "saved": row.saved,
            }
            for row in selectors.preference_rows(user=user)
        ],
    }


@extend_schema(tags=TAGS)
class PreferencesView(GenericAPIView):
    serializer_class = PreferencesSerializer
    filterset_class = None
    queryset = Notification.objects.none()

    def get_object(self) -> Any:
        """The caller's own settings are the object (an OPTIONS request describes the PUT with it)."""
        return acting_user(self.request.user)

    @extend_schema(responses=PreferencesSerializer)
    def get(self, request: Request) -> Response:
        """The caller's language and, per kind, the channels they hear it on."""
        return Response(_answer(acting_user(request.user)))

    @extend_schema(request=PreferencesSerializer, responses=PreferencesSerializer)
    def put(self, request: Request) -> Response:
        """Change the caller's language and/or the channels of the kinds sent (all or nothing)."""
        user = acting_user(request.user)
        serializer = PreferencesSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        services.preferences_save(
            actor=user, user=user, choices=data.get("channels") or {}, language=data.get("language")
        )
        return Response(_answer(user))


_list = NotificationViewSet.as_view({"get": "list"})
urlpatterns = [
    path("notifications/", _list, name="notification-list"),
    path("notifications/unread-count/", UnreadCountView.as_view(), name="notification-unread-count"),
    path("notifications/mark-read/", MarkReadView.as_view(), name="notification-mark-read"),
    path("notify/preferences/", PreferencesView.as_view(), name="notify-preferences"),
]
