"""The client's address: the one rule every per-address limit keys on.

``client_ip(request)`` is ``REMOTE_ADDR`` unless ``NEEDPOOL_CLIENT_IP_HEADER`` names a header that a
trusted reverse proxy sets. Anything else a client sends (``X-Forwarded-For``, ``X-Real-IP``,
``Forwarded``, ...) is ignored. For a list header (``X-Forwarded-For``, ``Forwarded``) each proxy appends
the address it saw, so the client's address is the entry the outermost trusted proxy added: the
``NEEDPOOL_TRUSTED_PROXIES``-th from the right (default 1, the right-most). Entries to its left came from
the client and are never read.

Used by the DRF throttles (``AddressRateThrottle``), django-ratelimit (``RATELIMIT_IP_META_KEY``) and
django-axes (``AXES_CLIENT_IP_CALLABLE``), so the login lockout, the token throttle and the portal's
abuse counters all count the same address.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from django.conf import settings
from rest_framework.throttling import AnonRateThrottle

#: The address used when none can be read (e.g. a Unix-socket proxy without a configured header): every such
#: request shares one counter, so limits fail closed rather than open.
UNKNOWN_IP = "0.0.0.0"  # noqa: S104 - a key, never bound

_LIST_HEADERS = {"HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED"}


def meta_key(header: str) -> str:
    """``X-Real-IP`` / ``x_real_ip`` / ``HTTP_X_REAL_IP`` → ``HTTP_X_REAL_IP`` (the request.META key)."""
    name = header.strip().upper().replace("-", "_")
    if not name or name == "REMOTE_ADDR" or name.startswith("HTTP_"):
        return name
    return f"HTTP_{name}"


def normalise_ip(value: str | None) -> str | None:
    """The address in canonical form, or None when ``value`` is not one (ports and brackets dropped)."""
    if not value:
        return None
    text = value.strip().strip('"').strip()
    if text.startswith("["):  # [2001:db8::1]:443
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:  # 203.0.113.7:51234
        text = text.split(":", 1)[0]
    text = text.split("%", 1)[0]  # fe80::1%eth0
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return str(address)


def _forwarded_for(value: str) -> list[str]:
    """The ``for=`` value of each element of an RFC 7239 ``Forwarded`` header, left to right."""
    found = []
    for element in value.split(","):
        node = ""
        for pair in element.split(";"):
            name, _sep, val = pair.partition("=")
            if name.strip().lower() == "for":
                node = val.strip()
        found.append(node)
    return found


def _header_ip(meta: Any, key: str, trusted_proxies: int) -> str | None:
    raw = meta.get(key)
    if not isinstance(raw, str) or not raw.strip():
        return None
    if key not in _LIST_HEADERS:
        return normalise_ip(raw)
    entries = _forwarded_for(raw) if key == "HTTP_FORWARDED" else raw.split(",")
    hops = max(trusted_proxies, 1)
    if len(entries) < hops:  # fewer entries than trusted proxies: the chain is not what was configured
        return None
    return normalise_ip(entries[-hops])


def client_ip(request: Any) -> str:
    """The client's address for per-address limits and records (see the module docstring)."""
    meta = request.META
    header = getattr(settings, "NEEDPOOL_CLIENT_IP_HEADER", "")
    if header:
        key = meta_key(header)
        found = _header_ip(meta, key, int(getattr(settings, "NEEDPOOL_TRUSTED_PROXIES", 1)))
        if found:
            return found
    return normalise_ip(meta.get("REMOTE_ADDR")) or UNKNOWN_IP


class AddressRateThrottle(AnonRateThrottle):
    """DRF's anonymous throttle keyed on ``client_ip`` instead of DRF's own reading of X-Forwarded-For."""

    def get_ident(self, request: Any) -> str:
        return client_ip(request)
