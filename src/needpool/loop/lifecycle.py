"""What the loop app contributes to a requirement's life (gates, facts, listeners, sections), registered from
its AppConfig.ready()."""

from __future__ import annotations


def register() -> None:
    """Register this app's gates, facts, status listeners and requirement sections (idempotent)."""
