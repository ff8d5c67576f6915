"""The kinds of events and the channels a user can hear of them on, with the defaults a new user gets."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from needpool.core.models import Notification

EventKind = Notification.Kind


class Channel(models.TextChoices):
    """Where one user hears of an event. No channel chosen = off."""

    INAPP = "inapp", _("站内通知")
    MAIL = "mail", _("邮件")
    IM = "im", _("即时通讯")
    DIGEST = "digest", _("每日摘要")


_IMMEDIATE = (Channel.INAPP, Channel.MAIL)
_QUIET = (Channel.INAPP, Channel.DIGEST)

#: What a user hears of each kind until they choose otherwise: what needs them now by mail too, what merely
#: moved on in-app and in the daily digest. IM needs a personal bot, so it is never a default.
DEFAULT_CHANNELS: dict[str, tuple[str, ...]] = {
    EventKind.ASSIGNED: _IMMEDIATE,
    EventKind.STATUS: _QUIET,
    EventKind.PRIORITY: _QUIET,
    EventKind.OWNER: _QUIET,
    EventKind.COMMENT: _QUIET,
    EventKind.MENTION: _IMMEDIATE,
    EventKind.SLA: _IMMEDIATE,
    EventKind.TASK: _IMMEDIATE,
    EventKind.REVIEW: _IMMEDIATE,
    EventKind.REVIEW_DECISION: _IMMEDIATE,
    EventKind.FOLLOW_UP: _IMMEDIATE,
    EventKind.MERGE: (Channel.INAPP,),
    EventKind.IMPORT: (Channel.INAPP,),
    EventKind.IMPORT_FAILED: _IMMEDIATE,
    EventKind.LOW_SCORE: _IMMEDIATE,
    EventKind.CLOSE_LOOP: (Channel.INAPP,),
    EventKind.EVALUATION: _IMMEDIATE,
}


def default_channels(kind: str) -> tuple[str, ...]:
    return DEFAULT_CHANNELS.get(kind, (Channel.INAPP,))
