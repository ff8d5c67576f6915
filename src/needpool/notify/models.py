"""Events, each user's channel choices, and one delivery row per event × target (the send log)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from needpool.notify.kinds import EventKind


class Event(models.Model):
    """One thing that happened that people should hear of, stored once per occurrence (``key``).

    ``message`` is the untranslated sentence (a gettext msgid with ``%(name)s`` placeholders) and ``params``
    its values, so every recipient reads it in their own language; ``recipients`` are the users concerned
    (the actor already left out), ``teams`` the teams whose IM routes may carry it.
    """

    key = models.CharField(_("去重键"), max_length=200, unique=True)
    kind = models.CharField(_("类型"), max_length=20, choices=EventKind.choices)
    message = models.CharField(_("内容"), max_length=500)
    params = models.JSONField(default=dict, blank=True)
    url = models.CharField(_("链接"), max_length=300, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    recipients = models.JSONField(default=list, blank=True)
    # Recipients who have this occurrence in a mail of its own already (a meeting's calendar invitation): the
    # event reaches them in the app and in chat, not in a second mail.
    mailed = models.JSONField(default=list, blank=True)
    teams = models.JSONField(default=list, blank=True)
    # What it is about, for webhooks and filters: {"type": "requirement", "id": 7, "code": "DEM…", "title": …}
    subject = models.JSONField(default=dict, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("通知事件")
        verbose_name_plural = _("通知事件")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind}:{self.key}"


class Preference(models.Model):
    """The channels one user chose for one kind of event (an empty list: off)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notify_preferences", verbose_name=_("用户")
    )
    kind = models.CharField(_("类型"), max_length=20, choices=EventKind.choices)
    channels = models.JSONField(_("渠道"), default=list, blank=True)

    class Meta:
        verbose_name = _("通知偏好")
        verbose_name_plural = _("通知偏好")
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="notify_preference_unique")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.kind}={','.join(self.channels)}"


class Delivery(models.Model):
    """One send of one event to one target (``mail:<user>``, ``im:<user>``, ``chat:<route>``, ``webhook:<id>``).

    Unique per event × target, so an event is never delivered twice to the same place; failed sends are retried
    with backoff (``next_attempt_at``) and every attempt's outcome is kept for the settings pages.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("发送失败")
        SKIPPED = "skipped", _("已跳过")

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("事件"))
    target = models.CharField(_("目标"), max_length=60)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试"), null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(_("响应状态码"), null=True, blank=True)
    response_excerpt = models.CharField(_("响应摘录"), max_length=500, blank=True)
    latency_ms = models.PositiveIntegerField(_("耗时（毫秒）"), null=True, blank=True)
    error = models.CharField(_("错误"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("通知投递")
        verbose_name_plural = _("通知投递")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["event", "target"], name="notify_delivery_unique")]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="notify_delivery_due_idx"),
            models.Index(fields=["target", "created_at"], name="notify_delivery_target_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id}→{self.target} {self.status}"

    @property
    def target_kind(self) -> str:
        return self.target.split(":", 1)[0]

    @property
    def target_id(self) -> str:
        return self.target.split(":", 1)[1] if ":" in self.target else ""


class DigestRun(models.Model):
    """One user's daily digest of one day (unique per user × site date): a rerun finds it and sends nothing twice.

    ``since``–``until`` is the window of events it covered, so the next digest starts where this one ended.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("发送失败")
        SKIPPED = "skipped", _("已跳过")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notify_digests", verbose_name=_("用户")
    )
    day = models.DateField(_("日期"))
    since = models.DateTimeField(_("起始时间"))
    until = models.DateTimeField(_("截止时间"))
    events = models.JSONField(default=list, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试"), null=True, blank=True)
    error = models.CharField(_("错误"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("每日摘要")
        verbose_name_plural = _("每日摘要")
        ordering = ["-day", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "day"], name="notify_digest_unique")]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="notify_digest_due_idx")]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.day} {self.status}"
