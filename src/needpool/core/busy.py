"""A busy database answers 503 with Retry-After, never 500.

SQLite answers "database is locked" when another connection held the write lock for longer than the busy
timeout (an import, a backup); PostgreSQL gives up on a lock wait (``lock_timeout``: 55P03), breaks a
deadlock (40P01) or refuses a serializable transaction (40001). None of these is the user's fault, and
trying again a little later works: the page says so in the layout, the API answers JSON.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db.utils import OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
_SQLITE_BUSY = ("database is locked", "database table is locked", "database schema is locked")
_POSTGRES_BUSY = {"55P03", "40P01", "40001"}


def is_busy(exc: BaseException) -> bool:
    """True for the errors of a database too busy to answer now (see the module's docstring)."""
    if not isinstance(exc, OperationalError):
        return False
    cause = exc.__cause__
    if getattr(cause, "sqlstate", None) in _POSTGRES_BUSY:
        return True
    text = str(exc).lower()
    return any(marker in text for marker in _SQLITE_BUSY)


def busy_message() -> str:
    return _("系统正忙（数据库正在处理其他操作），请稍后几秒再试。您的操作没有生效。")


class DatabaseBusyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_busy(exception):
            return None
        logger.warning("database busy on %s %s: %s", request.method, request.path, exception)
        message = busy_message()
        response: HttpResponse
        if request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", ""):
            response = JsonResponse({"detail": message, "code": "database_busy"}, status=503)
        else:
            try:
                body: str = render_to_string("core/busy.html", {"message": message}, request=request)
            except Exception:  # the layout reads the database too; then a plain page
                body = f'<!doctype html><meta charset="utf-8"><title>503</title><p id="busy-message">{message}</p>'
            response = HttpResponse(body, status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
