"""A list opened with no query string opens with the user's default view of that list.

The default's address is remembered in the session (per list, "" for none), so opening a list costs no query:
it is refreshed whenever the list's view menu is drawn (which reads the views anyway) and forgotten whenever
the user changes their views in this session. A change made elsewhere is seen at the next drawing of the menu.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from needpool.savedviews.queries import LIST_URL_NAMES
from needpool.savedviews.selectors import default_view

_KIND_BY_URL_NAME = {name: kind for kind, name in LIST_URL_NAMES.items()}
SESSION_KEY = "savedviews.defaults"


def remember_default(request: Any, kind: str, address: str) -> None:
    session = getattr(request, "session", None)
    if session is None:
        return
    known = dict(session.get(SESSION_KEY) or {})
    if known.get(kind) != address:
        known[kind] = address
        session[SESSION_KEY] = known


def forget_defaults(request: Any) -> None:
    session = getattr(request, "session", None)
    if session is not None and SESSION_KEY in session:
        del session[SESSION_KEY]


def default_address(request: Any, kind: str) -> str:
    view = default_view(request, kind)
    return view_address(request.path, view.query, view.pk) if view is not None else ""


def view_address(path: str, query: str, pk: int) -> str:
    return f"{path}?{query}&view={pk}" if query else f"{path}?view={pk}"


class DefaultViewMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func: Any, args: Any, kwargs: Any) -> HttpResponse | None:
        if request.method != "GET" or request.META.get("QUERY_STRING") or request.headers.get("HX-Request"):
            return None
        match = request.resolver_match
        kind = _KIND_BY_URL_NAME.get(match.view_name) if match else None
        if kind is None or not request.user.is_authenticated:
            return None
        known = request.session.get(SESSION_KEY) or {}
        address = known.get(kind)
        if address is None:
            address = default_address(request, kind)
            remember_default(request, kind, address)
        return HttpResponseRedirect(address) if address else None
