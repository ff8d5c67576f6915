"""Single sign-on with OpenID Connect (mozilla-django-oidc), authorization-code flow with nonce and PKCE.

On when ``NEEDPOOL_OIDC_CLIENT_ID`` and ``NEEDPOOL_OIDC_ISSUER`` are set (``settings.NEEDPOOL_OIDC``); endpoints
left empty are read once per process from the issuer's ``/.well-known/openid-configuration``. Off, the login
page shows no button and ``/oidc/…`` answers 404.

Who signs in:
1. the user bound to the provider's identity (``iss`` + ``sub`` of the id_token), whatever mail it now has;
2. else the one user whose mail (any letter case) is the mail the provider gives *and says is verified*
   (``email_verified``; ``NEEDPOOL_OIDC_REQUIRE_VERIFIED_EMAIL``) — that user is bound from then on; two users
   with that mail are refused, as is an unverified mail that some user has;
3. else a new user with the configured default role (``NEEDPOOL_OIDC_CREATE_USERS``).
Roles, staff and superuser flags never come from the provider's claims. Superusers, inactive users and locked
user names (``accounts.lockout``) are refused; the password sign-in at ``/accounts/login/`` stays for everyone.

The id_token is checked here, not only by the library (which skips the audience): signature with the
configured algorithm (never ``none``), ``iss``, ``aud`` (and ``azp`` with several audiences), ``exp``, ``iat``,
``sub`` and the session's ``nonce``; the userinfo answer must carry the same ``sub``.

Failures never count towards the sign-in lockout (they are not password guesses, and a provider outage must not
lock an office's shared address); a locked client address or user name cannot sign in by single sign-on either.
"""

from __future__ import annotations

import logging
import threading
import unicodedata
from dataclasses import dataclass
from typing import Any

import jwt
import requests
from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import SuspiciousOperation, ValidationError
from django.core.validators import validate_email
from django.urls import reverse
from django.utils.translation import gettext as _
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import absolutify, import_from_settings

from needpool.accounts.lockout import lockout_message
from needpool.accounts.models import User
from needpool.accounts.roles import Role
from needpool.accounts.services import user_bind_sso, user_create_from_sso, user_update_from_sso

log = logging.getLogger(__name__)

SIGN_ALGOS = frozenset({"RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "HS256"})
CALLBACK_URL_NAME = "oidc_authentication_callback"
_ENDPOINTS = ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri")
_DISPLAY_NAME_MAX = 60
_CLAIM_MAX = 255


class SSOFailure(Exception):
    """A refused single sign-on, with the message shown on the sign-in page (in the user's language)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Provider:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    userinfo_endpoint: str
    jwks_uri: str
    client_id: str
    client_secret: str
    sign_algo: str
    scopes: str
    default_role: str
    create_users: bool
    require_verified_email: bool
    use_pkce: bool
    timeout: int


def options() -> dict[str, Any]:
    return dict(getattr(settings, "NEEDPOOL_OIDC", None) or {})


def sso_enabled() -> bool:
    opts = options()
    return bool(opts.get("client_id") and opts.get("issuer"))


def button_label() -> str:
    return str(options().get("button_label") or "") or _("使用单点登录")


def default_role() -> str:
    """The role new users get: the configured one, but never 管理员 (nor an unknown name) — then 只读."""
    role = str(options().get("default_role") or Role.VIEWER)
    if role not in Role.values or role == Role.ADMIN:
        log.warning("NEEDPOOL_OIDC_DEFAULT_ROLE %r is not allowed; new users get %s", role, Role.VIEWER)
        return Role.VIEWER
    return role


_discovered: dict[str, dict[str, Any]] = {}
_discovery_lock = threading.Lock()


def discovery(issuer: str, timeout: int) -> dict[str, Any]:
    """The issuer's discovery document, fetched once per process (a failed fetch is tried again next time)."""
    with _discovery_lock:
        if issuer in _discovered:
            return _discovered[issuer]
        url = issuer.rstrip("/") + "/.well-known/openid-configuration"
        try:
            response = requests.get(url, timeout=timeout)
            response.raise_for_status()
            document = response.json()
        except (requests.RequestException, ValueError) as exc:
            log.warning("OIDC discovery at %s failed: %s", url, exc)
            raise SSOFailure(_("暂时无法连接单点登录服务，请稍后再试或使用密码登录。")) from exc
        if not isinstance(document, dict) or document.get("issuer") != issuer:
            named = document.get("issuer") if isinstance(document, dict) else None
            log.warning("OIDC discovery at %s names another issuer: %r", url, named)
            raise SSOFailure(_("单点登录配置有误，请联系管理员。"))
        _discovered[issuer] = document
        return document


def forget_discovery() -> None:
    with _discovery_lock:
        _discovered.clear()


def provider() -> Provider:
    """The configured provider with every endpoint known; SSOFailure when off or not reachable."""
    opts = options()
    if not sso_enabled():
        raise SSOFailure(_("未启用单点登录。"))
    timeout = int(opts.get("timeout") or 10)
    endpoints = {name: str(opts.get(name) or "") for name in _ENDPOINTS}
    if not all(endpoints[name] for name in ("authorization_endpoint", "token_endpoint", "jwks_uri")):
        document = discovery(str(opts["issuer"]), timeout)
        for name in _ENDPOINTS:
            endpoints[name] = endpoints[name] or str(document.get(name) or "")
    algo = str(opts.get("sign_algo") or "RS256")
    if algo not in SIGN_ALGOS:
        log.warning("NEEDPOOL_OIDC_SIGN_ALGO %r is not supported", algo)
        raise SSOFailure(_("单点登录配置有误，请联系管理员。"))
    if (
        not endpoints["authorization_endpoint"]
        or not endpoints["token_endpoint"]
        or (not algo.startswith("HS") and not endpoints["jwks_uri"])
    ):
        raise SSOFailure(_("单点登录配置有误，请联系管理员。"))
    return Provider(
        issuer=str(opts["issuer"]),
        client_id=str(opts["client_id"]),
        client_secret=str(opts.get("client_secret") or ""),
        sign_algo=algo,
        scopes=str(opts.get("scopes") or "openid email profile"),
        default_role=default_role(),
        create_users=bool(opts.get("create_users", True)),
        require_verified_email=bool(opts.get("require_verified_email", True)),
        use_pkce=bool(opts.get("use_pkce", True)),
        timeout=timeout,
        **endpoints,
    )


# Settings the library reads that this product decides, whatever the Django settings say.
_FIXED: dict[str, Any] = {
    "OIDC_ALLOW_UNSECURED_JWT": False,
    "OIDC_USE_NONCE": True,
    "OIDC_RP_IDP_SIGN_KEY": None,
    "OIDC_VERIFY_SSL": True,
    "OIDC_STORE_ACCESS_TOKEN": False,
    "OIDC_STORE_ID_TOKEN": False,
    "OIDC_TOKEN_USE_BASIC_AUTH": False,
    "OIDC_AUTH_REQUEST_EXTRA_PARAMS": {},
    "OIDC_AUTHENTICATION_CALLBACK_URL": CALLBACK_URL_NAME,
    "OIDC_PKCE_CODE_CHALLENGE_METHOD": "S256",
}


def library_setting(attr: str, *default: Any) -> Any:
    """``get_settings`` of the library's classes: this product's configuration instead of ``OIDC_*`` settings."""
    if attr in _FIXED:
        return _FIXED[attr]
    if attr in {"OIDC_RP_CLIENT_ID", "OIDC_RP_SCOPES", "OIDC_USE_PKCE", "OIDC_TIMEOUT", "OIDC_CREATE_USER"}:
        cfg = provider()
        return {
            "OIDC_RP_CLIENT_ID": cfg.client_id,
            "OIDC_RP_SCOPES": cfg.scopes,
            "OIDC_USE_PKCE": cfg.use_pkce,
            "OIDC_TIMEOUT": cfg.timeout,
            "OIDC_CREATE_USER": cfg.create_users,
        }[attr]
    return import_from_settings(attr, *default)


def _true(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def _text(value: Any, limit: int) -> str:
    """A claim as one line of printable text (no control characters), at most ``limit`` characters."""
    if not isinstance(value, str):
        return ""
    text = unicodedata.normalize("NFKC", value)
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    return " ".join(text.split())[:limit]


def _email(value: Any) -> str:
    text = _text(value, 254)
    try:
        validate_email(text)
    except ValidationError:
        return ""
    return text


class SingleSignOnBackend(OIDCAuthenticationBackend):
    """Signs in the user of a completed single sign-on — and answers nothing else.

    Django offers every sign-in to every backend; this one answers only the callback request with the nonce
    the callback view took from the session, so a password sign-in (page or API) never reaches the provider.
    """

    get_settings = staticmethod(library_setting)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # The library reads its settings here; Django builds backends for every sign-in, with SSO on or off,
        # so the configuration is read only when a callback arrives.
        self.UserModel = get_user_model()
        self.request: Any = None

    def authenticate(self, request: Any, **kwargs: Any) -> User | None:
        if request is None or not sso_enabled() or set(kwargs) - {"nonce", "code_verifier"}:
            return None
        nonce = kwargs.get("nonce")
        code, state = request.GET.get("code"), request.GET.get("state")
        if not nonce or not code or not state or request.path != reverse(CALLBACK_URL_NAME):
            return None
        self.request = request
        self.provider = provider()
        try:
            return self._sign_in(request, code=code, nonce=nonce, code_verifier=kwargs.get("code_verifier"))
        except SSOFailure:
            raise
        except (requests.RequestException, jwt.PyJWTError, SuspiciousOperation, ValueError, KeyError, TypeError) as exc:
            log.warning("OIDC sign-in failed: %s", exc)
            raise SSOFailure(_("单点登录失败：身份提供方的应答无效，请重试或使用密码登录。")) from exc

    def _sign_in(self, request: Any, *, code: str, nonce: str, code_verifier: str | None) -> User:
        cfg = self.provider
        payload = {
            "client_id": cfg.client_id,
            "client_secret": cfg.client_secret,
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": absolutify(request, reverse(CALLBACK_URL_NAME)),
        }
        if code_verifier:
            payload["code_verifier"] = code_verifier
        self.OIDC_OP_TOKEN_ENDPOINT = cfg.token_endpoint
        try:
            token_info = self.get_token(payload)
        except requests.RequestException as exc:
            log.warning("OIDC token request failed: %s", exc)
            raise SSOFailure(_("身份提供方拒绝了登录凭据，请重新登录。")) from exc
        if not isinstance(token_info, dict) or not isinstance(token_info.get("id_token"), str):
            raise SSOFailure(_("单点登录失败：身份提供方的应答无效，请重试或使用密码登录。"))
        claims = self.verify_token(token_info["id_token"], nonce=nonce)
        access_token = token_info.get("access_token")
        return self.get_or_create_user(access_token if isinstance(access_token, str) else "", "", claims)

    # --- the id_token -------------------------------------------------------------------------------------

    def _keys(self, header: dict[str, Any]) -> list[Any]:
        cfg = self.provider
        if cfg.sign_algo.startswith("HS"):
            return [cfg.client_secret]
        response = requests.get(cfg.jwks_uri, timeout=cfg.timeout)
        response.raise_for_status()
        keys = []
        for jwk in response.json().get("keys", []):
            if not isinstance(jwk, dict):
                continue
            if header.get("kid") is not None and jwk.get("kid") != header["kid"]:
                continue
            if jwk.get("use", "sig") != "sig" or jwk.get("alg", cfg.sign_algo) != cfg.sign_algo:
                continue
            try:
                keys.append(jwt.PyJWK(jwk, algorithm=cfg.sign_algo))
            except jwt.PyJWTError:
                continue
        if not keys:
            raise SSOFailure(_("身份提供方的登录凭据无效（签名、受众或有效期不符）。"))
        return keys

    def _decode(self, token: str, *, require: list[str], nonce: str | None) -> dict[str, Any]:
        cfg = self.provider
        invalid = SSOFailure(_("身份提供方的登录凭据无效（签名、受众或有效期不符）。"))
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise invalid from exc
        if header.get("alg") != cfg.sign_algo:
            raise invalid
        claims: dict[str, Any] | None = None
        for key in self._keys(header):
            try:
                claims = jwt.decode(
                    token,
                    key,
                    algorithms=[cfg.sign_algo],
                    audience=cfg.client_id,
                    issuer=cfg.issuer,
                    leeway=60,
                    options={"require": require},
                )
                break
            except jwt.InvalidSignatureError:
                continue
            except jwt.PyJWTError as exc:
                log.warning("OIDC token refused: %s", exc)
                raise invalid from exc
        if claims is None:
            log.warning("OIDC token refused: no key of the provider verifies its signature")
            raise invalid
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != cfg.client_id:
            raise invalid
        if nonce is not None and claims.get("nonce") != nonce:
            raise invalid
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject.strip() or len(subject) > _CLAIM_MAX:
            raise invalid
        return claims

    def verify_token(self, token: str, **kwargs: Any) -> dict[str, Any]:
        return self._decode(token, require=["iss", "aud", "exp", "iat", "sub"], nonce=kwargs.get("nonce") or "")

    def get_userinfo(self, access_token: str, id_token: str, payload: dict[str, Any]) -> dict[str, Any]:
        """The id_token's claims, completed by the userinfo endpoint's (which must name the same ``sub``)."""
        cfg = self.provider
        claims = dict(payload)
        if not cfg.userinfo_endpoint or not access_token:
            return claims
        response = requests.get(
            cfg.userinfo_endpoint, headers={"Authorization": f"Bearer {access_token}"}, timeout=cfg.timeout
        )
        response.raise_for_status()
        if response.headers.get("content-type", "").lower().startswith("application/jwt"):
            info: Any = self._decode(response.text, require=["sub"], nonce=None)
        else:
            info = response.json()
        if not isinstance(info, dict) or info.get("sub") != payload["sub"]:
            raise SSOFailure(_("单点登录失败：身份提供方的应答无效，请重试或使用密码登录。"))
        protected = {"iss", "aud", "sub", "nonce", "exp", "iat", "azp"}
        claims.update({key: value for key, value in info.items() if key not in protected})
        return claims

    # --- who signs in -------------------------------------------------------------------------------------

    def get_or_create_user(self, access_token: str, id_token: str, payload: dict[str, Any]) -> User:
        cfg = self.provider
        claims = self.get_userinfo(access_token, id_token, payload)
        issuer, subject = str(payload["iss"]), str(payload["sub"])
        email = _email(claims.get("email"))
        verified = _true(claims.get("email_verified")) or not cfg.require_verified_email
        user = User.objects.filter(oidc_issuer=issuer, oidc_subject=subject).first()
        if user is not None:
            self._check_may_sign_in(user)
            if email and verified:
                user = user_update_from_sso(user=user, email=email)
            return user
        if email:
            matches = list(User.objects.filter(email__iexact=email).order_by("pk")[:2])
            if len(matches) > 1:
                raise SSOFailure(
                    _("有多个账号使用邮箱 %(email)s，无法确定登录哪一个。请联系管理员。") % {"email": email}
                )
            if matches and not verified:
                raise SSOFailure(
                    _("身份提供方未确认邮箱 %(email)s 已验证，不能用它登录已有账号。请先在身份提供方验证邮箱。")
                    % {"email": email}
                )
            if matches:
                existing = matches[0]
                self._check_may_sign_in(existing)
                if existing.oidc_subject:
                    raise SSOFailure(_("该邮箱的账号已绑定另一个单点登录身份。请联系管理员。"))
                return user_bind_sso(user=existing, issuer=issuer, subject=subject)
        if not cfg.create_users:
            raise SSOFailure(_("需求池中没有与该身份对应的账号，请联系管理员开通。"))
        hint = _text(claims.get("preferred_username"), 150) or (email.split("@", 1)[0] if email else "")
        user = user_create_from_sso(
            issuer=issuer,
            subject=subject,
            username_hint=hint,
            email=email if verified else "",
            display_name=_text(claims.get("name"), _DISPLAY_NAME_MAX),
            role=cfg.default_role,
        )
        self._check_may_sign_in(user)
        return user

    def _check_may_sign_in(self, user: User) -> None:
        if not user.is_active:
            raise SSOFailure(_("该账号已停用，请联系管理员。"))
        if user.is_superuser:
            raise SSOFailure(_("超级管理员只能使用用户名和密码登录。"))
        if not AxesProxyHandler.is_allowed(self.request, {"username": user.get_username()}):
            raise SSOFailure(lockout_message())

    def get_user(self, user_id: Any) -> User | None:
        """The user of a signed-in session — only while active (as Django's own backend does)."""
        user = super().get_user(user_id)
        return user if user is not None and user.is_active else None
