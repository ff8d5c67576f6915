"""Secrets and webhook keys as pages, audit rows and the admin may show them: never in full."""

from __future__ import annotations

import urllib.parse

MASK = "••••"
_LONG = 16  # path segments and query values this long are keys (tokens, UUIDs), not names


def mask_secret(secret: str) -> str:
    """``••••`` and, for a long secret, its last four characters; empty when there is none."""
    if not secret:
        return ""
    return f"{MASK}{secret[-4:]}" if len(secret) >= _LONG else MASK


def _mask_part(part: str) -> str:
    return f"{part[:4]}{MASK}" if len(part) >= _LONG else part


def mask_url(url: str) -> str:
    """The URL with every long path segment and query value cut to its first four characters."""
    if not url:
        return ""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return MASK
    path = "/".join(_mask_part(segment) for segment in parts.path.split("/"))
    query = "&".join(
        f"{key}={_mask_part(value)}" for key, value in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    )
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, host, path, query, ""))
