"""The kinds of events and the channels a user can hear of them on, with the defaults a new user gets."""

from __future__ import annotations

from django.db import models
from django.utils.functional import Promise
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


#: What each kind is about, one line on the preferences page.
KIND_HELP: dict[str, str | Promise] = {
    EventKind.ASSIGNED: _("有需求、任务或工作指派给你"),
    EventKind.STATUS: _("你负责或关注的需求状态有变化"),
    EventKind.PRIORITY: _("你负责或关注的需求优先级有变化"),
    EventKind.OWNER: _("你负责或关注的需求换了负责人"),
    EventKind.COMMENT: _("你负责或关注的需求有新评论"),
    EventKind.MENTION: _("有人在评论中 @ 了你"),
    EventKind.SLA: _("你负责的需求即将或已经超过处理时限"),
    EventKind.TASK: _("分配给你的任务新建、到期或有变化"),
    EventKind.REVIEW: _("你被邀请参加评审，或评审会议有变化"),
    EventKind.REVIEW_DECISION: _("你提出或负责的需求有了评审结论"),
    EventKind.FOLLOW_UP: _("客户跟进提醒到期"),
    EventKind.MERGE: _("你负责或关注的需求被合并"),
    EventKind.IMPORT: _("你发起的导入已完成"),
    EventKind.IMPORT_FAILED: _("你发起的导入失败"),
    EventKind.LOW_SCORE: _("客户给出了低满意度或低 NPS 评分"),
    EventKind.CLOSE_LOOP: _("你提交的需求已上线并通知客户"),
    EventKind.EVALUATION: _("需求上线后的效果评估到期或有结论"),
}

#: Where a role's defaults differ from ``DEFAULT_CHANNELS``: sales and service act on customers' reactions and
#: closed loops, so they get those by mail; engineers and compliance do not act on them, so they read them in
#: the digest; viewers act on nothing and get no mail at all (see ``default_channels``).
ROLE_CHANNELS: dict[str, dict[str, tuple[str, ...]]] = {
    "sales": {
        EventKind.LOW_SCORE: _IMMEDIATE,
        EventKind.FOLLOW_UP: _IMMEDIATE,
        EventKind.CLOSE_LOOP: _IMMEDIATE,
    },
    "service": {
        EventKind.LOW_SCORE: _IMMEDIATE,
        EventKind.FOLLOW_UP: _IMMEDIATE,
        EventKind.CLOSE_LOOP: _IMMEDIATE,
    },
    "engineer": {EventKind.LOW_SCORE: _QUIET, EventKind.FOLLOW_UP: _QUIET, EventKind.EVALUATION: _QUIET},
    "compliance": {EventKind.LOW_SCORE: _QUIET, EventKind.FOLLOW_UP: _QUIET, EventKind.EVALUATION: _QUIET},
}

#: Roles that get nothing by mail unless they choose it: what would have been a mail goes to the digest.
NO_MAIL_ROLES = frozenset({"viewer"})


def default_channels(kind: str, role: str | None = None) -> tuple[str, ...]:
    """What a user of ``role`` hears of ``kind`` until they choose (no role: the site-wide default)."""
    chosen = ROLE_CHANNELS.get(role or "", {}).get(kind) or DEFAULT_CHANNELS.get(kind, (Channel.INAPP,))
    if role in NO_MAIL_ROLES and Channel.MAIL in chosen:
        chosen = tuple(dict.fromkeys([c for c in chosen if c != Channel.MAIL] + [Channel.DIGEST]))
    return tuple(chosen)
