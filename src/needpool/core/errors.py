"""The error pages a person sees: 400, 403, 404, 414, 500 and the CSRF failure, in the user's language, in the
app's frame (the navigation when signed in) and with a way back. Under /api/ every one of them is the JSON body
the API's other errors have (``{"detail": …}``).

``server_error`` renders ``500.html`` without a request context and without touching the database: whatever
broke the page may be the database itself. The other pages fall back to that static page when the frame
cannot be drawn.

``RequestLineLimitMiddleware`` answers a request whose path and query are longer than ``REQUEST_LINE_MAX``
bytes with 414 (a form that sent its text in the address); the web server is started with a larger limit
(``needpool serve``) so that Django, not the server, writes that page.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from rest_framework import exceptions

logger = logging.getLogger(__name__)

# The longest path + query Django takes (bytes, as sent); the web server's own limit is above it.
REQUEST_LINE_MAX = 4096
# What ``needpool serve`` tells gunicorn (its largest allowed value), so a long address reaches Django.
SERVER_REQUEST_LINE_LIMIT = 8190


def is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith("/api/")


def _back_url(request: HttpRequest) -> str:
    """The page the user came from when it is on this site, else the home page (or sign-in, signed out)."""
    referer = request.headers.get("referer", "")
    try:
        host = request.get_host()
    except DisallowedHost:  # the very reason for this 400
        return _home_url(request)
    if referer and url_has_allowed_host_and_scheme(referer, allowed_hosts={host}, require_https=request.is_secure()):
        parts = urlsplit(referer)
        if parts.path != request.path:
            return referer
    return _home_url(request)


def _home_url(request: HttpRequest) -> str:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return reverse("home:home")
    if request.path_info.startswith("/portal/"):
        return "/portal/"
    return reverse("accounts:login")


def _static_500() -> HttpResponse:
    return HttpResponse(loader.get_template("500.html").render(), status=500)


def render_error(
    request: HttpRequest, status: int, title: str, message: str, *, template: str = "core/error.html", **extra: Any
) -> HttpResponse:
    """The page for ``status`` in the app's frame, or JSON under /api/."""
    if is_api(request):
        return JsonResponse({"detail": message}, status=status)
    user = getattr(request, "user", None)
    signed_in = bool(user is not None and user.is_authenticated)
    context = {
        "frame": "base.html" if signed_in else "base_public.html",
        "signed_in": signed_in,
        "status": status,
        "title": title,
        "message": message,
        "back_url": _back_url(request),
        "home_url": _home_url(request),
        **extra,
    }
    try:
        body = loader.get_template(template).render(context, request)
    except Exception:  # the frame needs the database (the navigation); the static page does not
        logger.exception("error page %s could not be drawn in the app's frame", status)
        return _static_500()
    return HttpResponse(body, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render_error(
        request,
        400,
        _("请求无法处理"),
        _("这个请求的内容不完整或格式不对（例如地址被改动过），没有保存任何内容。请返回上一页重试。"),
        template="400.html",
    )


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    detail = str(exception) if exception is not None else ""
    return render_error(
        request,
        403,
        _("没有权限"),
        detail or _("您没有查看此页面或执行此操作的权限。如需访问，请联系管理员。"),
        template="403.html",
    )


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """``handler404``. A path the API's routes do not match (an id of 20 digits, a negative one) is answered
    here, not by DRF: with DRF's own body for a 404."""
    if is_api(request):
        return JsonResponse({"detail": str(exceptions.NotFound.default_detail)}, status=404)
    return render_error(
        request,
        404,
        _("页面不存在"),
        _("您要找的页面不存在，或者您没有查看它的权限。它可能已被删除，或者链接有误。"),
        template="404.html",
    )


def server_error(request: HttpRequest) -> HttpResponse:
    if is_api(request):
        return JsonResponse({"detail": _("服务器出错了，这次操作没有完成。请稍后重试。")}, status=500)
    return _static_500()


def uri_too_long(request: HttpRequest) -> HttpResponse:
    return render_error(
        request,
        414,
        _("地址太长"),
        _("这个请求的地址超过了 %(limit)s 字节，无法处理，没有保存任何内容。请缩短输入的文字后重试。")
        % {"limit": REQUEST_LINE_MAX},
        template="400.html",
    )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """``CSRF_FAILURE_VIEW``: the form was older than the session, or came from another site."""
    return render_error(
        request,
        403,
        _("页面已过期"),
        _(
            "为了保护您的账号，这次提交没有被接受，也没有保存任何内容。通常是因为页面打开太久、"
            "您在别处重新登录过，或浏览器禁用了 Cookie。请返回上一页，刷新后再提交一次。"
        ),
        template="core/csrf_failure.html",
    )


class RequestLineLimitMiddleware:
    """414 for a path and query longer than ``REQUEST_LINE_MAX`` bytes (the page, or JSON under /api/)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        raw_path = request.META.get("RAW_URI") or request.get_full_path()  # gunicorn keeps the line as sent
        if len(str(raw_path).encode("utf-8")) > REQUEST_LINE_MAX:
            return uri_too_long(request)
        return self.get_response(request)
