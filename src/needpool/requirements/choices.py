from django.db import models
from django.utils.translation import gettext_lazy as _


class Dimension(models.TextChoices):
    """The classification dimensions; each is an admin-editable list of options."""

    TYPE = "type", _("需求类型")
    URGENCY = "urgency", _("紧急程度")
    NATURE = "nature", _("需求性质")
    SOURCE = "source", _("需求来源（显性/隐性）")
    CATEGORY = "category", _("功能/非功能/业务")
    TAG = "tag", _("标签")


class Channel(models.TextChoices):
    WEBSITE_FORM = "website_form", _("官网表单")
    APP_FEEDBACK = "app_feedback", _("App 反馈入口")
    SOCIAL_MEDIA = "social_media", _("社交媒体评论")
    ECOMMERCE_REVIEW = "ecommerce_review", _("电商评价")
    TICKET = "ticket", _("工单系统")
    INTERVIEW = "interview", _("访谈")
    SALES = "sales", _("销售沟通")
    SURVEY = "survey", _("问卷")
    FOCUS_GROUP = "focus_group", _("焦点小组")
    INDUSTRY_EVENT = "industry_event", _("行业活动")
    AFTER_SALES = "after_sales", _("售后服务")
    USAGE_DATA = "usage_data", _("产品使用数据")
    INTERNAL = "internal", _("内部部门")


class Sentiment(models.TextChoices):
    POSITIVE = "positive", _("满意")
    NEUTRAL = "neutral", _("中性")
    NEGATIVE = "negative", _("不满")


class StatusCategory(models.TextChoices):
    """What a status means regardless of its name (for reports, SLA and the board)."""

    NEW = "new", _("未处理")
    ACTIVE = "active", _("处理中")
    DONE = "done", _("已完成")
    DEFERRED = "deferred", _("暂缓")
    REJECTED = "rejected", _("已拒绝")


class Priority(models.TextChoices):
    P0 = "P0", "P0"
    P1 = "P1", "P1"
    P2 = "P2", "P2"
    P3 = "P3", "P3"
