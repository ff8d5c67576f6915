"""Absolute links for mails and invitations (a mail has no request to build them from)."""

from __future__ import annotations

from django.conf import settings


def site_url() -> str:
    """NEEDPOOL_SITE_URL, else the first trusted origin, else the development address."""
    base = str(getattr(settings, "NEEDPOOL_SITE_URL", "") or "").strip()
    if not base:
        origins = list(getattr(settings, "CSRF_TRUSTED_ORIGINS", []) or [])
        base = origins[0] if origins else "http://localhost:8000"
    return base.rstrip("/")


def absolute(path: str) -> str:
    """``path`` (e.g. from ``reverse``) as a link a mail reader can follow; absolute URLs pass through."""
    if path.startswith(("http://", "https://")):
        return path
    return site_url() + (path if path.startswith("/") else f"/{path}")
