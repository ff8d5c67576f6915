"""Write use-cases of the outbound webhooks: endpoints, their signing secrets, the test event, resends.

Only admins (``Cap.CONFIGURE`` or a superuser) write. Every function is atomic, validates its input (nothing is
written on a refusal) and writes its audit row on the endpoint in the same transaction; a new secret is
returned once and never shown in full again (audit rows keep only its masked form).
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets as secrets_module
import uuid
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from needpool.core.audit import audit_record, diff, snapshot
from needpool.core.models import AuditEntry
from needpool.notify.kinds import EventKind
from needpool.notify.models import Delivery, Event
from needpool.notify.services import delivery_resend, emit
from needpool.notify.webhooks.models import SECRET_PREFIX, WebhookEndpoint, WebhookSecret
from needpool.notify.webhooks.permissions import can_manage_webhooks
from needpool.notify.webhooks.sending import PING_KIND

ENDPOINT_FIELDS = ("name", "url", "kinds", "active", "description")
SECRET_BYTES = 24
DEFAULT_GRACE = dt.timedelta(hours=24)
MAX_GRACE = dt.timedelta(days=7)


def _require_admin(actor: Any) -> None:
    if not can_manage_webhooks(actor):
        raise PermissionDenied(_("只有管理员可以管理 Webhook。"))


def new_secret() -> str:
    """``whsec_`` + base64 of 24 random bytes (the form the Standard Webhooks libraries read)."""
    return SECRET_PREFIX + base64.b64encode(secrets_module.token_bytes(SECRET_BYTES)).decode("ascii")


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    unknown = set(data) - set(ENDPOINT_FIELDS)
    if unknown:
        raise ValidationError({name: _("未知字段。") for name in sorted(unknown)})
    cleaned = dict(data)
    errors: dict[str, str] = {}
    if "name" in cleaned:
        cleaned["name"] = str(cleaned["name"] or "").strip()
        if not cleaned["name"]:
            errors["name"] = _("请填写名称。")
        elif len(cleaned["name"]) > 100:
            errors["name"] = _("名称最多 100 个字符。")
    if "url" in cleaned:
        url = cleaned["url"] = str(cleaned["url"] or "").strip()
        try:
            URLValidator(schemes=["http", "https"])(url)
        except ValidationError:
            errors["url"] = _("请填写以 http:// 或 https:// 开头的完整地址。")
        else:
            parts = urlsplit(url)
            if parts.username or parts.password:
                errors["url"] = _("地址中不能包含用户名或密码。")
            elif len(url) > 500:
                errors["url"] = _("地址最多 500 个字符。")
    if "kinds" in cleaned:
        kinds = cleaned["kinds"]
        if isinstance(kinds, str) or not isinstance(kinds, Iterable):
            errors["kinds"] = _("事件类型必须是列表。")
        else:
            values = [str(kind) for kind in kinds]
            wrong = sorted(set(values) - set(EventKind.values))
            if wrong:
                errors["kinds"] = _("未知的事件类型：%(kinds)s。") % {"kinds": "、".join(wrong)}
            cleaned["kinds"] = [kind for kind in EventKind.values if kind in values]
    if "active" in cleaned:
        cleaned["active"] = bool(cleaned["active"])
    if "description" in cleaned:
        cleaned["description"] = str(cleaned["description"] or "").strip()[:2000]
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def webhook_endpoint_create(
    *,
    actor: Any,
    name: str,
    url: str,
    kinds: Iterable[str] = (),
    active: bool = True,
    description: str = "",
) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint with its first secret; the secret is returned once."""
    _require_admin(actor)
    data = _clean({"name": name, "url": url, "kinds": list(kinds), "active": active, "description": description})
    endpoint = WebhookEndpoint.objects.create(**data, created_by=actor if getattr(actor, "pk", None) else None)
    secret = WebhookSecret.objects.create(endpoint=endpoint, secret=new_secret())
    audit_record(
        actor=actor,
        obj=endpoint,
        action=AuditEntry.Action.CREATE,
        changes={**snapshot(endpoint, ENDPOINT_FIELDS), "secret": secret.masked},
    )
    return endpoint, secret.secret


@transaction.atomic
def webhook_endpoint_update(*, actor: Any, endpoint: WebhookEndpoint, **data: Any) -> WebhookEndpoint:
    """Change any of ``ENDPOINT_FIELDS``; the audit row keeps what changed."""
    _require_admin(actor)
    cleaned = _clean(data)
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    before = snapshot(endpoint, ENDPOINT_FIELDS)
    for field, value in cleaned.items():
        setattr(endpoint, field, value)
    endpoint.save()
    changes = diff(before, snapshot(endpoint, ENDPOINT_FIELDS))
    if changes:
        audit_record(actor=actor, obj=endpoint, action=AuditEntry.Action.UPDATE, changes=changes)
    return endpoint


@transaction.atomic
def webhook_endpoint_delete(*, actor: Any, endpoint: WebhookEndpoint) -> None:
    """Remove an endpoint and its secrets; its deliveries stay in the notification log (and are not retried)."""
    _require_admin(actor)
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    audit_record(
        actor=actor, obj=endpoint, action=AuditEntry.Action.DELETE, changes=snapshot(endpoint, ENDPOINT_FIELDS)
    )
    Delivery.objects.filter(target=endpoint.target, status=Delivery.Status.PENDING).update(
        status=Delivery.Status.SKIPPED, next_attempt_at=None, error=_("端点已删除。")
    )
    endpoint.delete()


@transaction.atomic
def webhook_endpoint_rotate_secret(
    *, actor: Any, endpoint: WebhookEndpoint, grace: dt.timedelta = DEFAULT_GRACE
) -> tuple[WebhookSecret, str]:
    """Make a new current secret; the previous one keeps signing for ``grace`` (0: stops at once).

    Returns the new secret row and the secret itself, shown once.
    """
    _require_admin(actor)
    if grace < dt.timedelta(0) or grace > MAX_GRACE:
        raise ValidationError({"grace_hours": _("过渡期须在 0 到 168 小时之间。")})
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    now = timezone.now()
    until = now + grace
    previous = list(WebhookSecret.objects.filter(endpoint=endpoint).exclude(expires_at__lte=now))
    for row in previous:
        # An older secret already in its grace period never gets longer than it had.
        row.expires_at = until if row.expires_at is None else min(row.expires_at, until)
        row.save(update_fields=["expires_at"])
    secret = WebhookSecret.objects.create(endpoint=endpoint, secret=new_secret(), created_at=now)
    audit_record(
        actor=actor,
        obj=endpoint,
        action=AuditEntry.Action.UPDATE,
        changes={
            "secret": (", ".join(row.masked for row in previous if row.expires_at == until), secret.masked),
            "grace_hours": round(grace.total_seconds() / 3600, 2),
        },
    )
    return secret, secret.secret


@transaction.atomic
def webhook_endpoint_ping(*, actor: Any, endpoint: WebhookEndpoint) -> Event:
    """Send a ``ping`` event to this endpoint only (after commit, like every delivery)."""
    _require_admin(actor)
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    if not endpoint.active:
        raise ValidationError(_("端点已停用，请先启用再发送测试事件。"))
    event = emit(
        kind=PING_KIND,
        key=f"webhook-ping:{endpoint.pk}:{uuid.uuid4().hex}",
        message=gettext_noop("Webhook 测试事件：%(name)s"),
        params={"name": endpoint.name},
        url=reverse("notify:notify_webhooks:endpoint", args=[endpoint.pk]),
        actor=actor,
        subject={"type": "webhook_endpoint", "id": endpoint.pk, "name": endpoint.name},
        data={"endpoint": endpoint.pk},
    )
    assert event is not None  # a fresh key is never taken
    audit_record(actor=actor, obj=endpoint, action=AuditEntry.Action.UPDATE, changes={"ping": event.pk})
    return event


def webhook_delivery_resend(*, actor: Any, endpoint: WebhookEndpoint, delivery: Delivery) -> Delivery:
    """Send one of the endpoint's deliveries again now (same ``webhook-id``, so receivers can deduplicate)."""
    _require_admin(actor)
    if delivery.target != endpoint.target:
        raise ValidationError(_("该投递不属于此端点。"))
    if not WebhookEndpoint.objects.filter(pk=endpoint.pk, active=True).exists():
        raise ValidationError(_("端点已停用，请先启用再重新发送。"))
    with transaction.atomic():
        audit_record(actor=actor, obj=endpoint, action=AuditEntry.Action.UPDATE, changes={"resend": delivery.pk})
    # Outside the transaction: the send must not hold the database while the receiver answers.
    return delivery_resend(delivery=delivery)


@transaction.atomic
def webhook_endpoint_gone(*, endpoint: WebhookEndpoint, delivery: Delivery) -> None:
    """The receiver answered 410 Gone: switch the endpoint off and say so in its log."""
    updated = WebhookEndpoint.objects.filter(pk=endpoint.pk, active=True).update(
        active=False, updated_at=timezone.now()
    )
    endpoint.active = False
    if updated:
        audit_record(
            actor=None,
            obj=endpoint,
            action=AuditEntry.Action.UPDATE,
            changes={
                "active": (True, False),
                "reason": _("接收方返回 410 Gone（投递 #%(id)s），已自动停用。") % {"id": delivery.pk},
            },
        )
