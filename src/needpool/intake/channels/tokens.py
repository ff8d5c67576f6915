"""Channel secrets: pure helpers shared by the portal pages, the API and the services.

Secrets
- Channel API token: ``npc_`` + 40 URL-safe characters (240 bits). Shown once on creation / rotation,
  stored as SHA-256 (a fast hash is right for a random 240-bit secret: there is nothing to brute-force),
  looked up by that hash. The first 12 characters are kept in clear so staff can tell tokens apart.
- Access code: 8 characters from an alphabet without look-alikes (0/O, 1/I/L), written ``XXXX-XXXX``;
  compared case-insensitively without the dash. 32^8 ≈ 10^12 codes behind a per-address rate limit.
- Tracking token: 32 URL-safe characters (192 bits), the last part of ``/portal/track/<token>/``.

The abuse counters of the portal and the API are in ``intake.channels.ratelimits``.
"""

from __future__ import annotations

import hashlib
import secrets

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
