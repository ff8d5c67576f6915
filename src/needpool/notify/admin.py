"""The notification log in Django's admin: read-only (events and deliveries are written by the layer itself)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from needpool.notify.models import Delivery, DigestRun, Event, Preference


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "kind", "key", "actor"]
    list_filter = ["kind"]
    search_fields = ["key"]
    date_hierarchy = "created_at"


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "target", "status", "attempts", "latency_ms", "response_status", "error"]
    list_filter = ["status"]
    search_fields = ["target"]
    list_select_related = ["event"]


@admin.register(Preference)
class PreferenceAdmin(ReadOnlyAdmin):
    """Changed on the preferences page (管理用户与团队 may open anyone's: /notify/preferences/?user=<id>)."""

    list_display = ["user", "kind", "channels"]
    list_filter = ["kind"]
    search_fields = ["user__username"]
    list_select_related = ["user"]


@admin.register(DigestRun)
class DigestRunAdmin(ReadOnlyAdmin):
    list_display = ["day", "user", "status", "attempts", "sent_at", "error"]
    list_filter = ["status", "day"]
    list_select_related = ["user"]
