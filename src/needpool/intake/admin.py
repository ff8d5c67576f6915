"""Django admin for intake. Channel settings saved here go through the services (validation and audit
row); tokens and access codes are issued on the staff page (/portal/staff/channels/), which shows a new
secret exactly once. Submissions, messages and keys are read-only records."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from needpool.accounts.models import acting_user
from needpool.intake.channels.services import CHANNEL_FIELDS, channel_create, channel_update
from needpool.intake.models import (
    ChannelAccessCode,
    IdempotencyRecord,
    IntakeChannel,
    PortalMessage,
    Submission,
    SubmissionAttachment,
)


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(IntakeChannel)
class IntakeChannelAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "kind", "feedback_channel", "access_mode", "is_active", "token_prefix")
    list_filter = ("kind", "access_mode", "is_active")
    search_fields = ("name", "slug")
    fields = (*CHANNEL_FIELDS, "token_prefix", "token_created_at", "token_last_used_at")
    readonly_fields = ("token_prefix", "token_created_at", "token_last_used_at")

    def save_model(self, request: HttpRequest, obj: IntakeChannel, form: Any, change: bool) -> None:
        data = {name: form.cleaned_data[name] for name in CHANNEL_FIELDS if name in form.cleaned_data}
        if change:
            saved = channel_update(actor=acting_user(request.user), channel=obj, **data)
        else:
            saved = channel_create(actor=acting_user(request.user), **data)
        obj.pk = saved.pk

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ChannelAccessCode)
class ChannelAccessCodeAdmin(_ReadOnly):
    list_display = ("channel", "customer", "hint", "is_active", "created_at", "last_used_at")
    list_filter = ("channel", "is_active")


class SubmissionAttachmentInline(admin.TabularInline):
    model = SubmissionAttachment
    fields = ("name", "size", "content_type", "uploaded_at")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Submission)
class SubmissionAdmin(_ReadOnly):
    list_display = ("id", "channel", "via", "customer_text", "contact_name", "external_id", "created_at")
    list_filter = ("channel", "via")
    search_fields = ("customer_text", "contact_name", "contact_email", "external_id")
    inlines = [SubmissionAttachmentInline]


@admin.register(PortalMessage)
class PortalMessageAdmin(_ReadOnly):
    list_display = ("submission", "author", "emailed", "created_at")


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(_ReadOnly):
    list_display = ("scope", "key", "status_code", "created_at", "expires_at")
    search_fields = ("key",)
