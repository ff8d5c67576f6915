"""Request body caps: a body over the cap of its path is refused with 413 and never reaches the view.

``settings.NEEDPOOL_BODY_LIMITS`` is the one table: path prefix → the most bytes a request body there may
carry (the longest matching prefix wins; a path no prefix matches has no cap of its own). Two guards use it:

- ``UploadLimitMiddleware`` refuses a declared ``Content-Length`` over the cap before anything reads the
  body (neither ``request.body`` nor ``request.POST`` is touched), answering in the user's language: an HTML
  page, or JSON under /api/.
- ``BodyCapUploadHandler`` (first in ``FILE_UPLOAD_HANDLERS``) counts the file bytes while a multipart body
  streams in and stops reading once the cap is passed, for a body whose length was not declared truthfully
  (a server that hands Django more than ``Content-Length`` says, as the ASGI handler does). The middleware
  parses a capped multipart body itself, so that refusal is the same 413 and the view never runs on a
  half-read form (which would save a submission without the attachment that was cut off).

A multipart body that ends before its closing boundary (the client stopped sending, or sent less than it
declared) is refused with 400 the same way: Django's parser would hand the view the cut file as if whole.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import IO, Any

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.http import parse_header_parameters, url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

# Set on the request by the upload handler when it cuts a body off; the value is the cap in bytes.
TOO_LARGE_ATTR = "_needpool_body_too_large"
API_PREFIX = "/api/"


def body_limit(path: str, limits: Mapping[str, int] | None = None) -> int | None:
    """The cap in bytes for a request to ``path``: the longest matching prefix's, or None when none matches."""
    table = getattr(settings, "NEEDPOOL_BODY_LIMITS", {}) if limits is None else limits
    best: str | None = None
    for prefix in table:
        if path.startswith(prefix) and (best is None or len(prefix) > len(best)):
            best = prefix
    return None if best is None else int(table[best])


def declared_length(meta: Mapping[str, Any]) -> int | None:
    """The request's Content-Length as Django reads it (``int()``); None when absent or not a number.

    Django reads nothing of a body whose length it cannot read, so such a request needs no refusal here.
    """
    try:
        return int(meta.get("CONTENT_LENGTH") or "")
    except (TypeError, ValueError):
        return None


def size_label(limit: int) -> str:
    """A cap as people read it: 10 MB, 1.5 MB, 800 KB."""
    if limit >= 1024 * 1024:
        return f"{round(limit / 1024 / 1024, 1):g} MB"
    if limit >= 1024:
        return f"{round(limit / 1024, 1):g} KB"
    return f"{limit} B"


def _back_url(request: HttpRequest) -> str:
    referer = request.META.get("HTTP_REFERER", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return referer
    return "/"


def _refusal(request: HttpRequest, *, status: int, title: str, message: str, **extra: Any) -> HttpResponse:
    if request.path_info.startswith(API_PREFIX):
        return JsonResponse({"detail": message, **extra}, status=status)
    context = {"title": title, "message": message, "back_url": _back_url(request)}
    return render(request, "core/request_too_large.html", context, status=status)


def too_large_response(request: HttpRequest, limit: int) -> HttpResponse:
    """413 in the user's language: JSON under /api/, else a small page with a way back to the form."""
    message = _("上传的内容过大：这里一次最多可以提交 %(size)s。请减小或拆分文件后重试。") % {"size": size_label(limit)}
    return _refusal(request, status=413, title=_("上传的内容过大"), message=message, max_bytes=limit)


def incomplete_response(request: HttpRequest) -> HttpResponse:
    """400: the body ended before its closing boundary, so a file in it may be cut short."""
    message = _("上传的内容没有完整收到（连接可能中断了），这次提交没有保存。请重新提交。")
    return _refusal(request, status=400, title=_("上传没有完整收到"), message=message)


class _ClosingWatch:
    """Wraps the request's body stream and notes whether the multipart closing delimiter went past.

    The delimiter cannot occur inside a part (that is what the boundary guarantees), so seeing it anywhere
    means the body was whole; the parser reads to the end of a body it does not stop early.
    """

    def __init__(self, stream: Any, boundary: bytes) -> None:
        self._stream = stream
        self._marker = b"--" + boundary + b"--"
        self._tail = b""
        self.closed = False

    def _see(self, chunk: bytes) -> bytes:
        if chunk and not self.closed:
            window = self._tail + chunk
            self.closed = self._marker in window
            self._tail = window[-len(self._marker) :]
        return chunk

    def read(self, *args: Any, **kwargs: Any) -> bytes:
        return self._see(self._stream.read(*args, **kwargs))

    def readline(self, *args: Any, **kwargs: Any) -> bytes:
        return self._see(self._stream.readline(*args, **kwargs))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _boundary(request: HttpRequest) -> bytes | None:
    _type, params = parse_header_parameters(str(request.META.get("CONTENT_TYPE", "")))
    boundary = params.get("boundary", "")
    try:
        return boundary.encode("ascii") if boundary else None
    except UnicodeEncodeError:
        return None


def _is_multipart(request: HttpRequest) -> bool:
    return str(request.META.get("CONTENT_TYPE", "")).lower().startswith("multipart/")


class UploadLimitMiddleware:
    """Refuses a request body over the cap of its path (``NEEDPOOL_BODY_LIMITS``) with 413."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = body_limit(request.path_info)
        if limit is None:
            return self.get_response(request)
        length = declared_length(request.META)
        if length is not None and length > limit:
            return too_large_response(request, limit)
        boundary = _boundary(request) if _is_multipart(request) else None
        if request.method == "POST" and boundary and length:
            # Parse now, through BodyCapUploadHandler: a body longer than it claimed stops at the cap and the
            # view never sees the part that was read. The parse would happen anyway (the CSRF check reads
            # request.POST); request.body stays unread, files still stream to their handlers.
            watch = _ClosingWatch(request._stream, boundary)
            request._stream = watch  # type: ignore[assignment]  # the parser only reads
            request.POST  # noqa: B018 - evaluated for its side effect: the capped parse
            cut_at = getattr(request, TOO_LARGE_ATTR, None)
            if cut_at is not None:
                return too_large_response(request, int(cut_at))
            if not watch.closed:
                return incomplete_response(request)
        return self.get_response(request)


class BodyCapUploadHandler(FileUploadHandler):
    """Stops a multipart upload once its file bytes pass the cap of the request's path.

    Placed first in ``FILE_UPLOAD_HANDLERS``, so a chunk past the cap never reaches memory or the temporary
    file of the handlers after it. It marks the request (``TOO_LARGE_ATTR``) for the middleware's 413 and
    stops reading with ``StopUpload(connection_reset=True)``: the rest of the body is not drained.
    """

    def __init__(self, request: HttpRequest | None = None) -> None:
        super().__init__(request)
        self.limit: int | None = None
        self.received = 0

    def handle_raw_input(
        self,
        input_data: IO[bytes],
        META: dict[str, str],
        content_length: int,
        boundary: str,
        encoding: str | None = None,
    ) -> None:
        self.limit = body_limit(self.request.path_info) if self.request is not None else None
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received += len(raw_data)
        if self.limit is not None and self.received > self.limit:
            if self.request is not None:
                setattr(self.request, TOO_LARGE_ATTR, self.limit)
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None
