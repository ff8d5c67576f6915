"""Webhook endpoints an admin registered, and the secrets their requests are signed with."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

SECRET_PREFIX = "whsec_"  # noqa: S105 (the Standard Webhooks prefix, not a secret)


class WebhookEndpoint(models.Model):
    """A URL that receives the events of the chosen kinds (none chosen: every kind) as signed JSON POSTs.

    Deliveries to it are ``notify.Delivery`` rows with target ``webhook:<id>``; a receiver that answers 410 Gone
    switches it off.
    """

    name = models.CharField(_("名称"), max_length=100)
    url = models.URLField(_("接收地址"), max_length=500)
    kinds = models.JSONField(_("事件类型"), default=list, blank=True)
    active = models.BooleanField(_("启用"), default=True)
    description = models.TextField(_("说明"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("Webhook 端点")
        verbose_name_plural = _("Webhook 端点")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def target(self) -> str:
        """The ``notify.Delivery.target`` of this endpoint's deliveries."""
        return f"webhook:{self.pk}"

    def wants(self, kind: str) -> bool:
        return not self.kinds or kind in self.kinds


class WebhookSecret(models.Model):
    """One signing secret of an endpoint (``whsec_`` + base64). ``expires_at`` empty: the current one; after a
    rotation the previous one keeps signing until ``expires_at`` so receivers can switch without a gap.

    Stored as is: signing needs the secret itself, not a digest.
    """

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="secrets", verbose_name=_("端点")
    )
    secret = models.CharField(_("密钥"), max_length=100)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    expires_at = models.DateTimeField(_("失效时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("Webhook 密钥")
        verbose_name_plural = _("Webhook 密钥")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint"], condition=models.Q(expires_at__isnull=True), name="webhook_secret_one_current"
            )
        ]

    def __str__(self) -> str:
        return self.masked

    @property
    def masked(self) -> str:
        """What the pages show after the secret was first shown: the prefix and the last four characters."""
        return f"{SECRET_PREFIX}…{self.secret[-4:]}"

    @property
    def is_current(self) -> bool:
        return self.expires_at is None
