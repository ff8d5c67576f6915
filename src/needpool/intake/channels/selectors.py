"""Reads of the channel settings pages (admin only; "not found" and "not allowed" look the same)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, QuerySet
from django.http import Http404

from needpool.accounts.models import User
from needpool.accounts.roles import Cap
from needpool.core.permissions import require
from needpool.intake.channels.permissions import can_manage_channels
from needpool.intake.models import (
    ChannelAccessCode,
    IntakeChannel,
)


def channel_list(*, user: User | AnonymousUser) -> QuerySet[IntakeChannel]:
    require(user, Cap.CONFIGURE)
    return IntakeChannel.objects.annotate(submission_count=Count("submissions")).order_by("name", "id")


def channel_get(*, user: User | AnonymousUser, pk: Any) -> IntakeChannel:
    if not can_manage_channels(user):
        raise Http404
    try:
        return IntakeChannel.objects.get(pk=pk)
    except (IntakeChannel.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def channel_access_codes(channel: IntakeChannel) -> QuerySet[ChannelAccessCode]:
    return channel.access_codes.select_related("customer").order_by("-created_at", "-id")
