"""Customers, their contacts and the interactions with them (light CRM)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from needpool.core.models import SoftDeletable, TimeStampedModel
from needpool.customers.choices import (
    DecisionRole,
    FollowStatus,
    InteractionChannel,
    Mood,
    Segment,
    ValueTier,
)


class Customer(SoftDeletable, TimeStampedModel):
    """A customer company (客户), code C{year}{seq:03d}."""

    code = models.CharField(_("客户编号"), max_length=30, unique=True)
    name = models.CharField(_("客户名称"), max_length=120, db_index=True)
    industry = models.CharField(_("所属行业"), max_length=60, blank=True, db_index=True)
    region = models.CharField(_("地区"), max_length=60, blank=True)
    employees = models.PositiveIntegerField(_("员工人数"), null=True, blank=True)
    annual_revenue = models.DecimalField(_("年营业额"), max_digits=16, decimal_places=2, null=True, blank=True)
    founded = models.DateField(_("成立时间"), null=True, blank=True)
    main_business = models.CharField(_("主营业务"), max_length=200, blank=True)
    first_cooperation = models.DateField(_("首次合作时间"), null=True, blank=True)
    products_bought = models.CharField(_("购买产品"), max_length=300, blank=True)
    total_order_amount = models.DecimalField(_("累计订单金额"), max_digits=16, decimal_places=2, default=0)
    yearly_purchase = models.DecimalField(_("年采购额"), max_digits=16, decimal_places=2, default=0)
    value_tier = models.CharField(_("客户价值"), max_length=10, choices=ValueTier.choices, default=ValueTier.LOW)
    segment = models.CharField(_("客户分层"), max_length=20, choices=Segment.choices, default=Segment.NORMAL)
    follow_status = models.CharField(
        _("跟进状态"), max_length=20, choices=FollowStatus.choices, default=FollowStatus.TODO
    )
    next_follow_up = models.DateField(_("下次跟进日期"), null=True, blank=True, db_index=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="customers",
        verbose_name=_("客户负责人"),
    )
    tags = models.CharField(_("标签"), max_length=200, blank=True)
    praise_complaint = models.TextField(_("表扬/投诉记录"), blank=True)
    notes = models.TextField(_("备注"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    version = models.PositiveIntegerField(
        _("版本"), default=1, editable=False, help_text=_("每次经服务写入本行时加一（ETag / 过期表单检查）")
    )

    class Meta:
        verbose_name = _("客户")
        verbose_name_plural = _("客户")
        ordering = ["-id"]
        indexes = [models.Index(fields=["owner", "-id"], name="customer_owner_idx")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Contact(SoftDeletable, TimeStampedModel):
    """A person at a customer; work phone and work email only (privacy rule)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts", verbose_name=_("客户"))
    name = models.CharField(_("姓名"), max_length=60)
    title = models.CharField(_("职位"), max_length=60, blank=True)
    phone = models.CharField(_("工作电话"), max_length=40, blank=True)
    email = models.EmailField(_("工作邮箱"), blank=True)
    decision_role = models.CharField(
        _("决策角色"), max_length=20, choices=DecisionRole.choices, default=DecisionRole.USER
    )
    version = models.PositiveIntegerField(
        _("版本"), default=1, editable=False, help_text=_("每次经服务写入本行时加一（ETag / 过期表单检查）")
    )

    class Meta:
        verbose_name = _("联系人")
        verbose_name_plural = _("联系人")
        ordering = ["customer_id", "id"]

    def __str__(self) -> str:
        return f"{self.name}（{self.title}）" if self.title else self.name


class Interaction(TimeStampedModel):
    """One contact with a customer (互动记录); entered more than N hours later it is flagged late."""

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="interactions", verbose_name=_("客户")
    )
    contact = models.ForeignKey(
        Contact,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="interactions",
        verbose_name=_("联系人"),
    )
    occurred_at = models.DateTimeField(_("接触时间"))
    channel = models.CharField(_("接触方式"), max_length=20, choices=InteractionChannel.choices)
    participants = models.CharField(_("参与人"), max_length=200, blank=True)
    key_content = models.TextField(_("沟通要点"))
    mood = models.CharField(_("客户情绪"), max_length=20, choices=Mood.choices, default=Mood.NEUTRAL)
    key_asks = models.TextField(_("关键诉求"), blank=True, help_text=_("每行一条诉求"))
    next_follow_up_plan = models.CharField(_("下次跟进计划"), max_length=300, blank=True)
    next_follow_up_date = models.DateField(_("下次跟进日期"), null=True, blank=True)
    is_late = models.BooleanField(_("补录超时"), default=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("记录人"),
    )

    class Meta:
        verbose_name = _("互动记录")
        verbose_name_plural = _("互动记录")
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["customer", "-occurred_at"], name="interaction_customer_idx")]

    def __str__(self) -> str:
        return f"{self.customer.name} {self.occurred_at:%Y-%m-%d}"

    def key_ask_lines(self) -> list[str]:
        return [line.strip() for line in self.key_asks.splitlines() if line.strip()]


class FollowUpCadence(models.Model):
    """How often the customers of one segment are followed up (客户分层跟进节奏), edited on the settings page.

    A segment without a row follows the defaults (``customers.cadence.DEFAULT_CADENCE``): high-value monthly
    with a quarterly senior visit, potential every two weeks, churn-risk weekly, normal quarterly.
    """

    segment = models.CharField(_("客户分层"), max_length=20, choices=Segment.choices, unique=True)
    interval_days = models.PositiveSmallIntegerField(_("跟进间隔（天）"))
    senior_visit_days = models.PositiveSmallIntegerField(_("高层拜访间隔（天）"), null=True, blank=True)
    note = models.CharField(_("跟进要点"), max_length=300, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("跟进节奏")
        verbose_name_plural = _("跟进节奏")
        ordering = ["segment"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(interval_days__gte=1, interval_days__lte=365), name="cadence_interval_1_365"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_segment_display()} · {self.interval_days}"


class FollowUpReminder(models.Model):
    """One follow-up reminder sent to a customer's owner on one day: at most one per customer and day."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+", verbose_name=_("客户"))
    on = models.DateField(_("提醒日期"))
    due = models.DateField(_("应跟进日期"))
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("跟进提醒")
        verbose_name_plural = _("跟进提醒")
        constraints = [models.UniqueConstraint(fields=["customer", "on"], name="follow_up_reminder_once_a_day")]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.on}"
