from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from needpool.loop.models import CustomerNotice, NpsCampaign, ReleaseNote, SurveyInvitation


@admin.register(CustomerNotice)
class CustomerNoticeAdmin(admin.ModelAdmin):
    list_display = ["requirement", "event", "channel", "recipient", "status", "created_at"]
    list_filter = ["event", "channel", "status"]
    list_select_related = ["requirement"]
    raw_id_fields = ["requirement", "customer", "contact", "user", "mail"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ReleaseNote)
class ReleaseNoteAdmin(admin.ModelAdmin):
    list_display = ["title", "requirement", "is_public", "published_at"]
    raw_id_fields = ["requirement", "published_by"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # edited on the loop pages, where publishing checks for customer names


@admin.register(NpsCampaign)
class NpsCampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "status", "created_at"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(SurveyInvitation)
class SurveyInvitationAdmin(admin.ModelAdmin):
    list_display = ["kind", "requirement", "campaign", "email", "score", "created_at", "expires_at", "answered_at"]
    list_filter = ["kind"]
    raw_id_fields = ["requirement", "campaign", "customer", "contact", "mail"]
    exclude = ["token_hash"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
