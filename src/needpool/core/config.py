"""Read the site configuration row (created on first use)."""

from __future__ import annotations

import copy

from django.conf import settings

from needpool.core.models import SiteConfig
from needpool.core.txcache import forget_on_change, transaction_cached

SITE_CONFIG_KEY = "core.site_config"
forget_on_change(SiteConfig, SITE_CONFIG_KEY)


def site_config() -> SiteConfig:
    """The configuration row, read once per transaction (``core.txcache``); each caller gets its own copy."""
    return copy.copy(transaction_cached(SITE_CONFIG_KEY, _read_site_config))


def _read_site_config() -> SiteConfig:
    config = SiteConfig.objects.filter(pk=1).first()
    if config is None:
        config, _created = SiteConfig.objects.get_or_create(
            pk=1,
            defaults={
                "interaction_late_hours": settings.NEEDPOOL_INTERACTION_LATE_HOURS,
                "value_tier_high": settings.NEEDPOOL_VALUE_TIER_HIGH,
                "value_tier_medium": settings.NEEDPOOL_VALUE_TIER_MEDIUM,
            },
        )
    return config


def personal_email_domains() -> set[str]:
    configured = site_config().personal_email_domains
    lines = [line.strip().lower().lstrip("@") for line in configured.splitlines() if line.strip()]
    return set(lines or (d.lower() for d in settings.NEEDPOOL_PERSONAL_EMAIL_DOMAINS))
