"""Sign-in pages: the password form (with the single sign-on button when it is on) and the SSO round trip."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from needpool.accounts.oidc import SSOFailure, button_label, library_setting, provider, sso_enabled


class SignInView(auth_views.LoginView):
    """The password sign-in (kept for every user, the admin included), with the SSO button above it."""

    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        if sso_enabled():
            url = reverse("oidc_authentication_init")
            next_url = context.get("next")
            context["sso"] = {
                "label": button_label(),
                "url": f"{url}?{urlencode({'next': next_url})}" if next_url else url,
            }
        return context


def sso_refused(request: HttpRequest, message: str) -> HttpResponse:
    """Back to the sign-in page with the reason, unless the lockout answers this request itself."""
    if not getattr(request, "axes_locked_out", False):
        messages.error(request, message)
    return HttpResponseRedirect(resolve_url(settings.LOGIN_URL))


class _OnlyWhenEnabled(View):
    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not sso_enabled():
            raise Http404
        return super().dispatch(request, *args, **kwargs)


class SingleSignOnStartView(_OnlyWhenEnabled, OIDCAuthenticationRequestView):
    """``/oidc/authenticate/``: to the provider, with a fresh state, nonce and PKCE challenge in the session."""

    get_settings = staticmethod(library_setting)

    def __init__(self, **kwargs: Any) -> None:
        # The library reads its settings here; with SSO off they are absent, so read them per request in get().
        View.__init__(self, **kwargs)

    def get(self, request: HttpRequest) -> HttpResponse:
        try:
            cfg = provider()
        except SSOFailure as exc:
            return sso_refused(request, exc.message)
        self.OIDC_OP_AUTH_ENDPOINT = cfg.authorization_endpoint
        self.OIDC_RP_CLIENT_ID = cfg.client_id
        return super().get(request)


class SingleSignOnCallbackView(_OnlyWhenEnabled, OIDCAuthenticationCallbackView):
    """``/oidc/callback/``: the provider sends the browser back here; every failure ends on the sign-in page
    with its reason in the user's language."""

    get_settings = staticmethod(library_setting)

    def get(self, request: HttpRequest) -> HttpResponse:
        try:
            return super().get(request)
        except SSOFailure as exc:
            return sso_refused(request, exc.message)
        except SuspiciousOperation:  # the library's answer to a state this session did not issue (or used)
            return sso_refused(request, _("单点登录请求已失效或已被使用，请重新登录。"))

    def login_failure(self) -> HttpResponse:
        if self.request.GET.get("error"):
            return sso_refused(self.request, _("身份提供方未完成登录（已取消或被拒绝）。"))
        return sso_refused(self.request, _("单点登录失败，请重试或使用密码登录。"))
