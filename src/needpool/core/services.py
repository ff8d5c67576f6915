"""Write use-cases shared by every app (notifications, site settings)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from needpool.core.audit import audit_record, diff, snapshot
from needpool.core.codes import CodePatternError, validate_pattern
from needpool.core.config import site_config
from needpool.core.models import AuditEntry, Notification, SiteConfig
from needpool.core.permissions import CONFIGURE, require

SITE_CONFIG_FIELDS = (
    "requirement_code_pattern",
    "customer_code_pattern",
    "personal_email_domains",
    "interaction_late_hours",
    "api_docs_public",
    "value_tier_high",
    "value_tier_medium",
)
_CODE_PATTERNS = ("requirement_code_pattern", "customer_code_pattern")


@transaction.atomic
def notifications_mark_read(*, actor: Any, ids: Iterable[int] | None = None) -> int:
    """Mark the actor's unread notifications (all, or only ``ids``) as read; returns how many changed."""
    if not (actor and actor.is_authenticated):
        raise PermissionDenied(_("请先登录。"))
    qs = Notification.objects.filter(recipient=actor, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs.update(read_at=timezone.now())


@transaction.atomic
def site_config_update(*, actor: Any, **fields: Any) -> SiteConfig:
    """Change site settings (admins with 维护分类、流程、编号规则); one audit row lists what changed."""
    require(actor, CONFIGURE)
    unknown = set(fields) - set(SITE_CONFIG_FIELDS)
    if unknown:
        raise ValidationError({name: _("未知字段。") for name in sorted(unknown)})
    errors = {}
    for name in _CODE_PATTERNS:
        if name in fields:
            try:
                validate_pattern(fields[name])
            except CodePatternError as exc:
                errors[name] = str(exc)
    if errors:
        raise ValidationError(errors)
    config = SiteConfig.objects.select_for_update().get(pk=site_config().pk)
    before = snapshot(config, fields)
    for name, value in fields.items():
        setattr(config, name, value)
    config.full_clean()
    config.save(update_fields=list(fields))
    changes = diff(before, snapshot(config, fields))
    if changes:
        audit_record(actor=actor, obj=config, action=AuditEntry.Action.UPDATE, changes=changes)
    return config
