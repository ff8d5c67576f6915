"""Abuse counters of the portal and the channel API.

django-ratelimit keeps the counters in the shared cache (Redis or the database cache), so every web
process counts together: the portal counts every POST per client address and channel per hour
(``IntakeChannel.portal_rate_limit``); the API counts calls per channel per minute
(``IntakeChannel.api_rate_limit``). The client address is ``needpool.core.client_ip.client_ip`` (django-ratelimit's
``RATELIMIT_IP_META_KEY``): REMOTE_ADDR unless a trusted proxy's header is configured.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from django_ratelimit.core import get_usage


@dataclass(frozen=True)
class RateState:
    limited: bool
    limit: int
    seconds_left: int


def _state(usage: dict[str, int] | None) -> RateState:
    if usage is None:  # rate limiting switched off (RATELIMIT_ENABLE = False)
        return RateState(limited=False, limit=0, seconds_left=0)
    return RateState(
        limited=bool(usage["should_limit"]), limit=int(usage["limit"]), seconds_left=max(int(usage["time_left"]), 1)
    )


def portal_rate_hit(request: HttpRequest, *, channel_id: int, per_hour: int) -> RateState:
    """Count one portal POST from this address for this channel; ``limited`` once over the hourly limit."""
    usage = get_usage(
        request, group=f"portal:{channel_id}", key="ip", rate=f"{per_hour}/h", method="POST", increment=True
    )
    return _state(usage)


def api_rate_hit(request: HttpRequest, *, channel_id: int, per_minute: int) -> RateState:
    """Count one API call of this channel; ``limited`` once over the per-minute limit."""
    usage = get_usage(
        request,
        group=f"channel-api:{channel_id}",
        key=lambda _group, _request: str(channel_id),
        rate=f"{per_minute}/m",
        increment=True,
    )
    return _state(usage)
