"""Choices of the delivery app, with Chinese labels."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Strategy(models.TextChoices):
    """满足策略: how a plan meets the requirement."""

    PRODUCT_ITERATION = "product_iteration", _("产品迭代")
    PROCESS_SIMPLIFICATION = "process_simplification", _("流程简化")
    SERVICE_STANDARD = "service_standard", _("服务标准升级")
    CUSTOMER_CARE = "customer_care", _("客户关怀")
    PILOT_SERVICE = "pilot_service", _("试点服务")
    MARKET_EDUCATION = "market_education", _("市场教育")


class Comparator(models.TextChoices):
    GE = "ge", "≥"
    LE = "le", "≤"
    EQ = "eq", "="


class TaskStatus(models.TextChoices):
    TODO = "todo", _("未开始")
    DOING = "doing", _("进行中")
    DONE = "done", _("已完成")
    BLOCKED = "blocked", _("受阻")


class ChangeStatus(models.TextChoices):
    """A change request's steps, in order; ``approved`` and ``rejected`` are the two decisions."""

    REQUESTED = "requested", _("已提出")
    EVALUATED = "evaluated", _("已评估影响")
    APPROVED = "approved", _("已批准")
    REJECTED = "rejected", _("已驳回")
    IMPLEMENTED = "implemented", _("已实施")
    TOLD = "told", _("已告知")
