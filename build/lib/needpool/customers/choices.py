from django.db import models
from django.utils.translation import gettext_lazy as _


class ValueTier(models.TextChoices):
    HIGH = "high", _("高")
    MEDIUM = "medium", _("中")
    LOW = "low", _("低")


class Segment(models.TextChoices):
    HIGH_VALUE = "high_value", _("高价值")
    POTENTIAL = "potential", _("潜力")
    CHURN_RISK = "churn_risk", _("流失风险")
    NORMAL = "normal", _("普通")


class FollowStatus(models.TextChoices):
    TODO = "todo", _("待跟进")
    ONGOING = "ongoing", _("跟进中")
    RESOLVED = "resolved", _("已解决")
    PAUSED = "paused", _("暂停")


class DecisionRole(models.TextChoices):
    DECISION_MAKER = "decision_maker", _("决策者")
    INFLUENCER = "influencer", _("影响者")
    USER = "user", _("使用者")


class InteractionChannel(models.TextChoices):
    PHONE = "phone", _("电话")
    VISIT = "visit", _("拜访")
    ONLINE_MEETING = "online_meeting", _("线上会议")
    EMAIL = "email", _("邮件")
    IM = "im", _("即时通讯")
    EVENT = "event", _("行业活动")
    OTHER = "other", _("其他")


class Mood(models.TextChoices):
    SATISFIED = "satisfied", _("满意")
    NEUTRAL = "neutral", _("中性")
    DISSATISFIED = "dissatisfied", _("不满")
