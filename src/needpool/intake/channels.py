"""Channel secrets and abuse counters: pure helpers shared by the portal pages, the API and the services.

Secrets
- Channel API token: ``npc_`` + 40 URL-safe characters (240 bits). Shown once on creation / rotation,
  stored as SHA-256 (a fast hash is right for a random 240-bit secret: there is nothing to brute-force),
  looked up by that hash. The first 12 characters are kept in clear so staff can tell tokens apart.
- Access code: 8 characters from an alphabet without look-alikes (0/O, 1/I/L), written ``XXXX-XXXX``;
  compared case-insensitively without the dash. 32^8 ≈ 10^12 codes behind a per-address rate limit.
- Tracking token: 32 URL-safe characters (192 bits), the last part of ``/portal/track/<token>/``.

Rate limits (django-ratelimit's counters in the shared cache — Redis or the database cache — so every
web process counts together): the portal counts every POST per client address and channel per hour
(``IntakeChannel.portal_rate_limit``); the API counts calls per channel per minute
(``IntakeChannel.api_rate_limit``). The client address is REMOTE_ADDR; behind a reverse proxy set
django-ratelimit's ``RATELIMIT_IP_META_KEY`` so the real address is used.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from django.http import HttpRequest
from django_ratelimit.core import get_usage

TOKEN_PREFIX = "npc_"  # noqa: S105 -- a marker that makes leaked tokens recognisable, not a secret
TOKEN_SHOWN_CHARS = 12
ACCESS_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
ACCESS_CODE_LENGTH = 8
#: slugs that would clash with the portal's own pages
RESERVED_SLUGS = frozenset({"track", "staff", "kano", "static", "api", "admin", "new", "manage"})


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def new_channel_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(30)


def new_tracking_token() -> str:
    return secrets.token_urlsafe(24)


def new_access_code() -> str:
    raw = "".join(secrets.choice(ACCESS_CODE_ALPHABET) for _ in range(ACCESS_CODE_LENGTH))
    return f"{raw[:4]}-{raw[4:]}"


def normalize_access_code(code: str) -> str:
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())


def access_code_digest(code: str) -> str:
    return digest(normalize_access_code(code))


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
