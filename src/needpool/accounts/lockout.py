"""Sign-in lockout (django-axes): too many wrong passwords lock the user name and the client address.

Both the web sign-in page and the API token endpoint go through ``django.contrib.auth.authenticate`` with
the request, so both count against the same lockout: ``NEEDPOOL_LOGIN_FAILURE_LIMIT`` failures (default 10)
per user name and per client address (``needpool.core.client_ip.client_ip``) within
``NEEDPOOL_LOGIN_COOLOFF_MINUTES`` (default 15) lock further attempts, even with the right password, until
the cool-off has passed. A successful sign-in clears the counters. An admin can lift a lockout by deleting
its row under 访问尝试 (Axes → access attempts) or with ``needpool axes_reset_username <name>``.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


class LockoutBackend(AxesStandaloneBackend):
    """Refuses a locked-out user name or address before any password is checked.

    Every sign-in path of the product passes the request. A call without one (Django's test client
    ``login()``) has no address to count and is left to the next backend.
    """

    def authenticate(
        self, request: Any, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> Any:
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def lockout_username(request: Any, credentials: dict[str, Any] | None) -> str | None:
    """The user name a failure counts against, in the form sign-in compares (NFKC, no surrounding spaces)."""
    raw = (credentials or {}).get("username")
    if raw is None and request is not None:
        raw = request.POST.get("username") if hasattr(request, "POST") else None
    if not isinstance(raw, str):
        return None
    name = unicodedata.normalize("NFKC", raw).replace("\x00", "").strip()
    return name[:255] or None


def cooloff_minutes() -> int:
    return max(int(settings.AXES_COOLOFF_TIME.total_seconds() // 60), 1)


def lockout_message() -> str:
    return _("登录失败次数过多，该账号或当前网络地址已被暂时锁定。请 %(minutes)s 分钟后再试，或请管理员解除锁定。") % {
        "minutes": cooloff_minutes()
    }


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict[str, Any] | None = None
) -> HttpResponse:
    """What a locked-out sign-in gets: JSON for the API, the lockout page otherwise (429, Retry-After)."""
    retry_after = str(cooloff_minutes() * 60)
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": lockout_message()}, status=429)
    else:
        response = render(
            request,
            "registration/lockout.html",
            {"message": lockout_message(), "minutes": cooloff_minutes()},
            status=429,
        )
    response["Retry-After"] = retry_after
    return response
