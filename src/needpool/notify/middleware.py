"""A signed-in user who chose a language (通知设置) reads the site in it, whatever the browser or cookie says.

Runs right after ``AuthenticationMiddleware``; a user without a language keeps ``LocaleMiddleware``'s choice
(cookie from ``/i18n/setlang/``, then ``Accept-Language``). The choice is read from the user row the
authentication already loaded: no query.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation


class UserLanguageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.codes = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        language = getattr(user, "language", "") if user is not None and user.is_authenticated else ""
        if language and language in self.codes:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)
