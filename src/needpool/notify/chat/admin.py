"""The admin lists chat bots read-only, with their URL keys and secrets masked; they are set on the bot pages."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from needpool.notify.chat.masking import mask_secret, mask_url
from needpool.notify.chat.models import BotEndpoint, ChatRoute, PersonalBot

_HIDDEN = ("webhook_url", "secret")
_STATUS = ("last_ok_at", "last_error", "last_error_at")


class _MaskedAdmin(admin.ModelAdmin):
    readonly_fields = ("masked_url", "masked_secret", *_STATUS)

    @admin.display(description=_("Webhook 地址"))
    def masked_url(self, obj: BotEndpoint) -> str:
        return mask_url(obj.webhook_url)

    @admin.display(description=_("签名密钥"))
    def masked_secret(self, obj: BotEndpoint) -> str:
        return mask_secret(obj.secret) or "—"

    # Read-only: routes and bots are changed on their pages, whose services check the URL and write the audit row.
    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(ChatRoute)
class ChatRouteAdmin(_MaskedAdmin):
    list_display = ("name", "platform", "team", "active", "masked_url", "last_ok_at", "last_error_at")
    list_filter = ("platform", "active")
    exclude = (*_HIDDEN, "created_by")


@admin.register(PersonalBot)
class PersonalBotAdmin(_MaskedAdmin):
    list_display = ("user", "platform", "active", "masked_url", "last_ok_at", "last_error_at")
    list_filter = ("platform", "active")
    exclude = _HIDDEN
    raw_id_fields = ("user",)
