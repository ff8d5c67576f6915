"""Constants and text helpers the handlers share: how asks, titles, moments and users read in a sheet."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from django.db.models import F, QuerySet
from django.utils.translation import gettext as _

from needpool.accounts.models import User
from needpool.customers.choices import FollowStatus, InteractionChannel
from needpool.customers.models import Interaction
from needpool.intake.transfer.imports.values import (
    display,
    local_moment,
    normalize,
)
from needpool.requirements.choices import Channel
from needpool.requirements.models import Feedback

IMPLICIT_PREFIX = "隐性："
IMPLICIT_SOURCE = "implicit"  # the 需求来源 option of an implicit need
LIST_JOIN = "/"
ASKS_JOIN = "；"
TITLE_LENGTH = 60

# Free-text sources ("客户A电话反馈", "销售部门提案") → channel, first match wins (internal before sales).
CHANNEL_KEYWORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (Channel.INTERNAL, ("内部", "部门", "提案", "internal")),
    (Channel.AFTER_SALES, ("售后", "after-sales", "aftersales")),
    (Channel.TICKET, ("工单", "客服", "ticket")),
    (Channel.WEBSITE_FORM, ("官网", "网站", "表单", "website")),
    (Channel.APP_FEEDBACK, ("app", "反馈入口", "小程序")),
    (Channel.SOCIAL_MEDIA, ("社交", "微博", "微信", "抖音", "小红书", "社群", "social")),
    (Channel.ECOMMERCE_REVIEW, ("电商", "评价", "淘宝", "京东", "review")),
    (Channel.INTERVIEW, ("访谈", "interview")),
    (Channel.FOCUS_GROUP, ("焦点小组", "focus")),
    (Channel.SURVEY, ("问卷", "调研", "调查", "survey")),
    (Channel.INDUSTRY_EVENT, ("展会", "行业活动", "行业会议", "峰会", "event")),
    (Channel.USAGE_DATA, ("使用数据", "埋点", "usage")),
    (Channel.SALES, ("销售", "电话", "拜访", "面谈", "sales", "phone", "call")),
)
INTERACTION_SYNONYMS = {
    InteractionChannel.PHONE: ("电话沟通", "电话联系", "致电", "Phone call", "Call"),
    InteractionChannel.VISIT: ("线下会议", "上门拜访", "面谈", "拜访客户", "现场", "Meeting", "On-site visit"),
    InteractionChannel.ONLINE_MEETING: ("视频会议", "在线会议", "腾讯会议", "Video call", "Online meeting"),
    InteractionChannel.EMAIL: ("电子邮件", "Email", "E-mail"),
    InteractionChannel.IM: ("微信", "企业微信", "钉钉", "飞书", "WeChat", "IM", "Chat"),
    InteractionChannel.EVENT: ("展会", "行业会议", "Event"),
}
FOLLOW_SYNONYMS = {
    FollowStatus.TODO: ("待处理", "To follow up", "To do", "Pending"),
    FollowStatus.ONGOING: ("处理中", "进行中", "In progress", "Ongoing"),
    FollowStatus.RESOLVED: ("已完成", "已关闭", "Resolved", "Done", "Closed"),
    FollowStatus.PAUSED: ("暂缓", "Paused", "On hold"),
}
URGENCY_SYNONYMS = {"normal": ("常规", "普通", "Regular"), "urgent": ("加急",), "important": ()}
NEED_PRIORITY = ((3, ("高", "High", "H")), (2, ("中", "Medium", "Mid", "M")), (1, ("低", "Low", "L")))


def need_priority_label(importance: int | None) -> str:
    if importance is None:
        return ""
    return {3: _("高"), 2: _("中")}.get(importance, _("低"))


def title_from(text: str) -> str:
    """A requirement title from its description: the first line, at most 60 characters."""
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return first[:TITLE_LENGTH]


def split_asks(key_asks: str, implicit_lines: Collection[str] = ()) -> tuple[list[str], list[str]]:
    """An interaction's key asks as (explicit, implicit) needs: implicit lines carry IMPLICIT_PREFIX or are
    among ``implicit_lines`` (see ``interaction_asks``)."""
    explicit: list[str] = []
    implicit: list[str] = []
    for line in key_asks.splitlines():
        line = line.strip()
        if not line:
            continue
        bare = normalize(line)
        if bare.startswith(("隐性:", "隐性：")):
            implicit.append(line[3:].strip())
        elif line in implicit_lines:
            implicit.append(line)
        else:
            explicit.append(line)
    return explicit, implicit


def with_requirement_source(feedback: QuerySet[Feedback]) -> QuerySet[Feedback]:
    """Feedback with ``requirement_source``: the 需求来源 key of the requirement it went into."""
    return feedback.annotate(requirement_source=F("requirement__source__key"))


def interaction_asks(interaction: Interaction) -> tuple[list[str], list[str]]:
    """The key asks as (explicit, implicit) needs. An ask is implicit when written with IMPLICIT_PREFIX,
    or when its feedback went into a requirement whose 需求来源 is 隐性 (the export prefetches the
    feedback as ``export_feedback``, with ``requirement_source``)."""
    items = getattr(interaction, "export_feedback", None)
    if items is None:
        items = list(with_requirement_source(interaction.feedback.only("id", "raw_text")))
    implicit = {f.raw_text.strip() for f in items if getattr(f, "requirement_source", None) == IMPLICIT_SOURCE}
    return split_asks(interaction.key_asks, implicit)


def clean(text: str | None) -> str:
    """Stored text as a sheet cell shows it (line ends unified, trimmed)."""
    return (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def same_moment(sheet: dt.datetime | None, record: dt.datetime | None) -> bool:
    """Equal to the second; a sheet value without a time of day only has to match the record's date."""
    if sheet is None:
        return True
    sheet_local, record_local = local_moment(sheet), local_moment(record)
    if sheet_local is None or record_local is None:
        return sheet_local == record_local
    if sheet_local.time() == dt.time():
        return sheet_local.date() == record_local.date()
    return sheet_local == record_local


def user_label(user: User | None) -> str:
    return str(user) if user is not None else ""


def when_text(value: dt.datetime | None) -> str:
    return display(local_moment(value)) if value else ""
