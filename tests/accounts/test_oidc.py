"""Single sign-on (OpenID Connect) against a local test provider on 127.0.0.1.

The provider implements what the product calls: discovery, the token endpoint (client id and secret, the code
it issued, the redirect URI and the PKCE verifier), the JWKS endpoint and the userinfo endpoint. The browser's
visit to the provider's authorization page is played by the test: it reads the state, nonce and code challenge
from the redirect and asks the provider for a code.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import jwt
import pytest
from axes.models import AccessAttempt
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings as django_settings
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.db import close_old_connections, connection
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from needpool.accounts import services
from needpool.accounts.models import User
from needpool.accounts.oidc import forget_discovery
from needpool.accounts.roles import Role
from needpool.core.models import AuditEntry
from tests.conftest import PASSWORD

CLIENT_ID = "needpool-test"
CLIENT_SECRET = "s3cret-" + "x" * 20
LIMIT = django_settings.AXES_FAILURE_LIMIT
_subjects = itertools.count(1)


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


SIGNING_KEY = new_key()
OTHER_KEY = new_key()


class LocalProvider:
    """Just what the relying party calls; every request it answers is counted."""

    def __init__(self) -> None:
        self.codes: dict[str, dict[str, Any]] = {}
        self.access_tokens: dict[str, dict[str, Any]] = {}
        self.calls: list[str] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def jwks(self) -> dict[str, Any]:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(SIGNING_KEY.public_key()))
        return {"keys": [{**public, "kid": "k1", "use": "sig", "alg": "RS256"}]}

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "jwks_uri": f"{self.issuer}/jwks",
        }

    def issue_code(
        self,
        authorize_url: str,
        claims: dict[str, Any],
        *,
        token_claims: dict[str, Any] | None = None,
        key: Any = None,
        userinfo: dict[str, Any] | None = None,
    ) -> tuple[str, str]:
        """What the provider's login page does: returns (code, state) for the request in ``authorize_url``."""
        query = {k: v[0] for k, v in parse_qs(urlparse(authorize_url).query).items()}
        assert query["client_id"] == CLIENT_ID and query["response_type"] == "code"
        assert set(query["scope"].split()) == {"openid", "email", "profile"}
        code = secrets.token_urlsafe(16)
        self.codes[code] = {
            "nonce": query["nonce"],
            "challenge": query.get("code_challenge"),
            "redirect_uri": query["redirect_uri"],
            "claims": claims,
            "token_claims": token_claims or {},
            "key": key or SIGNING_KEY,
            "userinfo": userinfo,
        }
        return code, query["state"]

    def _token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        grant = self.codes.pop(form.get("code", ""), None)  # a code works once
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return 401, {"error": "invalid_client"}
        if grant is None or form.get("grant_type") != "authorization_code":
            return 400, {"error": "invalid_grant"}
        if form.get("redirect_uri") != grant["redirect_uri"]:
            return 400, {"error": "invalid_grant"}
        verifier = form.get("code_verifier", "")
        digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if grant["challenge"] and digest != grant["challenge"]:
            return 400, {"error": "invalid_grant"}
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": CLIENT_ID,
            "sub": grant["claims"]["sub"],
            "nonce": grant["nonce"],
            "iat": now,
            "exp": now + 300,
            **grant["token_claims"],
        }
        claims = {k: v for k, v in claims.items() if v is not None}
        id_token = jwt.encode(claims, grant["key"], algorithm="RS256", headers={"kid": "k1"})
        access = secrets.token_urlsafe(16)
        self.access_tokens[access] = grant["userinfo"] if grant["userinfo"] is not None else grant["claims"]
        return 200, {"access_token": access, "token_type": "Bearer", "expires_in": 300, "id_token": id_token}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def _send(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                provider.calls.append(self.path)
                if self.path == "/.well-known/openid-configuration":
                    self._send(200, provider.discovery())
                elif self.path == "/jwks":
                    self._send(200, provider.jwks())
                elif self.path == "/userinfo":
                    token = self.headers.get("Authorization", "").removeprefix("Bearer ")
                    info = provider.access_tokens.get(token)
                    self._send(200, info) if info is not None else self._send(401, {"error": "invalid_token"})
                else:
                    self._send(404, {})

            def do_POST(self) -> None:
                provider.calls.append(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                self._send(*provider._token(form)) if self.path == "/token" else self._send(404, {})

            def log_message(self, *args: Any) -> None:
                pass

        return Handler


@pytest.fixture
def idp(settings: Any) -> Any:
    provider = LocalProvider()
    provider.thread.start()
    settings.NEEDPOOL_OIDC = {
        "issuer": provider.issuer,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "sign_algo": "RS256",
        "scopes": "openid email profile",
        "default_role": "viewer",
        "create_users": True,
        "require_verified_email": True,
        "use_pkce": True,
        "button_label": "",
        "timeout": 5,
    }
    forget_discovery()
    yield provider
    provider.server.shutdown()
    provider.server.server_close()
    provider.thread.join(timeout=5)
    forget_discovery()


def claims_for(email: str | None = "li.lei@example.com", verified: Any = True, **extra: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {"sub": f"sub-{next(_subjects)}", **extra}
    if email is not None:
        claims["email"] = email
        claims["email_verified"] = verified
    return claims


def sso(client: Client, idp: LocalProvider, claims: dict[str, Any], **issue: Any) -> Any:
    start = client.get("/oidc/authenticate/")
    assert start.status_code == 302 and start["Location"].startswith(f"{idp.issuer}/authorize?")
    code, state = idp.issue_code(start["Location"], claims, **issue)
    response = client.get("/oidc/callback/", {"code": code, "state": state})
    response.callback_url = f"/oidc/callback/?code={code}&state={state}"  # type: ignore[attr-defined]
    return response


def signed_in(client: Client) -> User | None:
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id) if user_id else None


def me(client: Client) -> User:
    user = signed_in(client)
    assert user is not None
    return user


def refusal(client: Client, response: Any) -> str:
    """The sign-in page the refused browser lands on (the message is on it)."""
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    page = client.get(response["Location"])
    assert page.status_code == 200
    return page.content.decode()


# --- who signs in ---------------------------------------------------------------------------------------------


def test_a_new_person_gets_a_user_with_the_default_role_and_an_audit_row(idp, db):
    client = Client()
    claims = claims_for("Han.Meimei@Example.com", name="韩梅梅", preferred_username="hanmm")
    response = sso(client, idp, claims)
    assert response.status_code == 302 and response["Location"] == "/"
    user = signed_in(client)
    assert user is not None
    assert (user.username, user.email, user.display_name) == ("hanmm", "Han.Meimei@Example.com", "韩梅梅")
    assert user.role == Role.VIEWER and not user.is_staff and not user.is_superuser
    assert (user.oidc_issuer, user.oidc_subject) == (idp.issuer, claims["sub"])
    assert not user.has_usable_password()
    assert AuditEntry.objects.filter(object_id=user.pk, action=AuditEntry.Action.CREATE).exists()
    # discovery once, then token, JWKS and userinfo
    assert idp.calls == ["/.well-known/openid-configuration", "/token", "/jwks", "/userinfo"]


def test_the_configured_default_role_is_given_but_never_admin(idp, db, settings):
    settings.NEEDPOOL_OIDC = {**settings.NEEDPOOL_OIDC, "default_role": Role.SALES}
    client = Client()
    sso(client, idp, claims_for("a@example.com"))
    assert me(client).role == Role.SALES
    settings.NEEDPOOL_OIDC = {**settings.NEEDPOOL_OIDC, "default_role": Role.ADMIN}
    client = Client()
    sso(client, idp, claims_for("b@example.com"))
    assert me(client).role == Role.VIEWER


def test_an_existing_user_is_matched_by_verified_mail_in_any_case_and_bound(idp, users):
    sales = users["sales"]
    sales.email = "sales@example.com"
    sales.save()
    client = Client()
    claims = claims_for("SALES@example.COM", role="admin", is_superuser=True, groups=["admin"])
    sso(client, idp, claims)
    assert signed_in(client) == sales
    sales.refresh_from_db()
    assert sales.role == Role.SALES and not sales.is_superuser  # claims never change a role
    assert sales.oidc_subject == claims["sub"]
    assert AuditEntry.objects.filter(object_id=sales.pk, action=AuditEntry.Action.UPDATE).exists()


@pytest.mark.parametrize("verified", [False, "false", None, 0])
def test_an_unverified_mail_does_not_sign_in_the_user_who_has_it(idp, users, verified):
    users["sales"].email = "sales@example.com"
    users["sales"].save()
    client = Client()
    claims = claims_for("sales@example.com", verified=verified)
    if verified is None:
        del claims["email_verified"]
    html = refusal(client, sso(client, idp, claims))
    assert signed_in(client) is None
    assert "未确认邮箱 sales@example.com 已验证" in html
    users["sales"].refresh_from_db()
    assert users["sales"].oidc_subject == ""
    assert User.objects.filter(email__iexact="sales@example.com").count() == 1


def test_an_unverified_mail_of_nobody_creates_a_user_without_that_mail(idp, db):
    client = Client()
    sso(client, idp, claims_for("new@example.com", verified=False, preferred_username="newbie"))
    user = signed_in(client)
    assert user is not None and user.username == "newbie" and user.email == ""


def test_with_verification_not_required_an_unverified_mail_matches(idp, users, settings):
    settings.NEEDPOOL_OIDC = {**settings.NEEDPOOL_OIDC, "require_verified_email": False}
    users["sales"].email = "sales@example.com"
    users["sales"].save()
    client = Client()
    sso(client, idp, claims_for("sales@example.com", verified=False))
    assert signed_in(client) == users["sales"]


def test_two_users_with_the_mail_are_refused_with_a_clear_message(idp, users):
    User.objects.filter(username__in=["sales", "service"]).update(email="team@example.com")
    client = Client()
    html = refusal(client, sso(client, idp, claims_for("Team@example.com")))
    assert signed_in(client) is None
    assert "有多个账号使用邮箱 Team@example.com" in html


def test_the_subject_binding_survives_a_mail_change(idp, db):
    claims = claims_for("old@example.com", preferred_username="wang")
    first = Client()
    sso(first, idp, claims)
    user = me(first)
    second = Client()
    sso(second, idp, {**claims, "email": "new@example.com"})
    assert signed_in(second) == user
    user.refresh_from_db()
    assert user.email == "new@example.com"
    assert User.objects.count() == 1


def test_a_new_mail_another_user_has_is_not_taken_over(idp, users):
    users["sales"].email = "sales@example.com"
    users["sales"].save()
    claims = claims_for("mine@example.com")
    sso(Client(), idp, claims)
    client = Client()
    sso(client, idp, {**claims, "email": "sales@example.com"})
    user = signed_in(client)
    assert user is not None and user != users["sales"] and user.email == "mine@example.com"


def test_a_mail_whose_user_is_bound_to_another_identity_is_refused(idp, users):
    users["sales"].email = "sales@example.com"
    users["sales"].save()
    sso(Client(), idp, claims_for("sales@example.com"))
    client = Client()
    html = refusal(client, sso(client, idp, claims_for("sales@example.com")))  # another sub
    assert signed_in(client) is None and "已绑定另一个单点登录身份" in html


def test_user_names_stay_unique_and_valid(idp, users):
    client = Client()
    sso(client, idp, claims_for("x@example.com", preferred_username="Sales"))
    assert me(client).username == "Sales-2"
    client = Client()
    sso(client, idp, claims_for("y@example.com", preferred_username="张 三/../<script>"))
    name = me(client).username
    UnicodeUsernameValidator()(name)
    assert name == "张-三-..-script"


@pytest.mark.parametrize("where", ["matched", "bound"])
def test_an_inactive_user_is_refused(idp, users, where):
    sales = users["sales"]
    sales.email = "sales@example.com"
    claims = claims_for("sales@example.com")
    if where == "bound":
        sales.oidc_issuer, sales.oidc_subject, sales.email = idp.issuer, claims["sub"], ""
    sales.is_active = False
    sales.save()
    client = Client()
    html = refusal(client, sso(client, idp, claims))
    assert signed_in(client) is None and "该账号已停用" in html


def test_a_session_ends_when_its_user_is_deactivated(idp, db):
    client = Client()
    sso(client, idp, claims_for("a@example.com"))
    user = me(client)
    assert client.get("/").status_code == 200
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert client.get("/").status_code == 302


def test_a_superuser_keeps_the_password_sign_in_only(idp, users):
    users["admin"].email = "root@example.com"
    users["admin"].save()
    client = Client()
    html = refusal(client, sso(client, idp, claims_for("root@example.com")))
    assert signed_in(client) is None and "超级管理员只能使用用户名和密码登录" in html
    password = Client()
    password.post("/accounts/login/", {"username": "admin", "password": PASSWORD})
    assert signed_in(password) == users["admin"]


def test_without_user_creation_an_unknown_person_is_refused(idp, db, settings):
    settings.NEEDPOOL_OIDC = {**settings.NEEDPOOL_OIDC, "create_users": False}
    client = Client()
    html = refusal(client, sso(client, idp, claims_for("a@example.com")))
    assert signed_in(client) is None and "没有与该身份对应的账号" in html
    assert not User.objects.exists()


def test_next_is_kept_when_it_is_on_this_site(idp, db):
    client = Client()
    start = client.get("/oidc/authenticate/", {"next": "/requirements/"})
    code, state = idp.issue_code(start["Location"], claims_for("a@example.com"))
    assert client.get("/oidc/callback/", {"code": code, "state": state})["Location"] == "/requirements/"
    client = Client()
    start = client.get("/oidc/authenticate/", {"next": "https://evil.example/"})
    code, state = idp.issue_code(start["Location"], claims_for("b@example.com"))
    assert client.get("/oidc/callback/", {"code": code, "state": state})["Location"] == "/"


# --- tokens that must be refused ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("issue", "why"),
    [
        ({"key": OTHER_KEY}, "signed by another key"),
        ({"token_claims": {"aud": "another-client"}}, "another audience"),
        ({"token_claims": {"aud": [CLIENT_ID, "another"]}}, "several audiences without azp"),
        ({"token_claims": {"iss": "http://127.0.0.1:1"}}, "another issuer"),
        ({"token_claims": {"exp": int(time.time()) - 3600}}, "expired"),
        ({"token_claims": {"exp": None}}, "no expiry"),
        ({"token_claims": {"nonce": "not-the-sessions"}}, "another nonce"),
        ({"token_claims": {"nonce": None}}, "no nonce"),
        ({"userinfo": {"sub": "someone-else", "email": "x@example.com", "email_verified": True}}, "userinfo sub"),
    ],
)
def test_bad_tokens_are_refused_on_the_sign_in_page(idp, db, issue, why):
    client = Client()
    html = refusal(client, sso(client, idp, claims_for("a@example.com"), **issue))
    assert signed_in(client) is None, why
    assert "单点登录" in html or "登录凭据无效" in html
    assert not User.objects.exists()
    assert not AccessAttempt.objects.exists()  # SSO failures are not password guesses


def test_a_replayed_state_is_refused(idp, db):
    client = Client()
    first = sso(client, idp, claims_for("a@example.com"))
    assert signed_in(client) is not None
    token_calls = idp.calls.count("/token")
    again = client.get(first.callback_url)
    assert again.status_code == 302 and again["Location"] == "/accounts/login/"
    assert any("已失效或已被使用" in str(m) for m in get_messages(again.wsgi_request))
    stranger = Client()  # the same callback in another browser: no state in its session
    stranger.get(first.callback_url)
    assert signed_in(stranger) is None
    assert idp.calls.count("/token") == token_calls


def test_a_state_from_another_session_is_refused(idp, db):
    victim, attacker = Client(), Client()
    start = attacker.get("/oidc/authenticate/")
    code, state = idp.issue_code(start["Location"], claims_for("attacker@example.com"))
    victim.get("/oidc/authenticate/")  # the victim has states of its own
    victim.get("/oidc/callback/", {"code": code, "state": state})
    assert signed_in(victim) is None
    assert "/token" not in idp.calls


def test_a_wrong_client_secret_is_refused(idp, db, settings):
    settings.NEEDPOOL_OIDC = {**settings.NEEDPOOL_OIDC, "client_secret": "wrong"}
    client = Client()
    html = refusal(client, sso(client, idp, claims_for("a@example.com")))
    assert signed_in(client) is None and "身份提供方拒绝了登录凭据" in html


def test_the_provider_refusing_at_its_page_is_a_message(idp, db):
    client = Client()
    start = client.get("/oidc/authenticate/")
    state = parse_qs(urlparse(start["Location"]).query)["state"][0]
    html = refusal(client, client.get("/oidc/callback/", {"error": "access_denied", "state": state}))
    assert "身份提供方未完成登录" in html


def test_an_unreachable_provider_is_a_message_not_an_error(idp, db, settings):
    settings.NEEDPOOL_OIDC = {**settings.NEEDPOOL_OIDC, "issuer": "http://127.0.0.1:9"}
    forget_discovery()
    client = Client()
    html = refusal(client, client.get("/oidc/authenticate/"))
    assert "暂时无法连接单点登录服务" in html


def test_explicit_endpoints_need_no_discovery(idp, db, settings):
    settings.NEEDPOOL_OIDC = {
        **settings.NEEDPOOL_OIDC,
        "authorization_endpoint": f"{idp.issuer}/authorize",
        "token_endpoint": f"{idp.issuer}/token",
        "userinfo_endpoint": f"{idp.issuer}/userinfo",
        "jwks_uri": f"{idp.issuer}/jwks",
    }
    client = Client()
    sso(client, idp, claims_for("a@example.com"))
    assert signed_in(client) is not None
    assert "/.well-known/openid-configuration" not in idp.calls


# --- on and off -----------------------------------------------------------------------------------------------


def test_sso_off_has_no_button_and_no_routes(db, settings):
    settings.NEEDPOOL_OIDC = {"issuer": "", "client_id": ""}
    client = Client()
    assert client.get("/oidc/authenticate/").status_code == 404
    assert client.get("/oidc/callback/", {"code": "x", "state": "y"}).status_code == 404
    html = client.get("/accounts/login/").content.decode()
    assert "sso-sign-in" not in html and "/oidc/" not in html


def test_the_button_is_above_the_password_form_with_its_label(idp, db, settings):
    client = Client()
    html = client.get("/accounts/login/", {"next": "/reports/"}).content.decode()
    assert 'id="sso-sign-in"' in html and "使用单点登录" in html
    assert html.index("sso-sign-in") < html.index('name="password"')
    assert "/oidc/authenticate/?next=%2Freports%2F" in html
    settings.NEEDPOOL_OIDC = {**settings.NEEDPOOL_OIDC, "button_label": "使用企业微信登录"}
    assert "使用企业微信登录" in client.get("/accounts/login/").content.decode()


# --- claims an attacker controls ------------------------------------------------------------------------------

_odd_text = st.one_of(
    st.none(),
    st.integers(),
    st.booleans(),
    st.lists(st.text(max_size=5), max_size=3),
    st.text(max_size=400),
    st.sampled_from(["", " ", "admin", "root", "../..", "a\x00b", "名字" * 200, "\u202e\u200b", "sales"]),
)


@hsettings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    preferred_username=_odd_text,
    name=_odd_text,
    email=st.one_of(_odd_text, st.emails()),
    email_verified=st.one_of(st.booleans(), st.sampled_from(["true", "TRUE", "false", "1", "yes"]), st.none()),
    role=st.one_of(st.none(), st.sampled_from([*Role.values, "superuser"])),
)
def test_no_claim_values_crash_or_grant_more_than_the_default_role(
    idp, users, preferred_username, name, email, email_verified, role
):
    claims: dict[str, Any] = {"sub": f"sub-{next(_subjects)}"}
    for key, value in {
        "preferred_username": preferred_username,
        "name": name,
        "email": email,
        "email_verified": email_verified,
        "role": role,
        "roles": [role],
        "is_staff": True,
        "is_superuser": True,
    }.items():
        if value is not None:
            claims[key] = value
    before = {u.pk: (u.role, u.is_staff, u.is_superuser) for u in User.objects.all()}
    client = Client()
    response = sso(client, idp, claims)
    assert response.status_code == 302
    user = signed_in(client)
    if user is not None:
        assert not user.is_superuser and not user.is_staff
        if user.pk in before:
            assert before[user.pk] == (user.role, user.is_staff, user.is_superuser)
        else:
            assert user.role == Role.VIEWER
            UnicodeUsernameValidator()(user.username)
            assert len(user.display_name) <= 60 and user.username
    else:
        assert refusal(client, response)
    assert {u.pk: (u.role, u.is_staff, u.is_superuser) for u in User.objects.filter(pk__in=before)} == before


# --- the lockout covers every way in --------------------------------------------------------------------------


def _wrong_passwords(n: int, *, username: str = "sales", ip: str = "203.0.113.10", api: bool = False) -> None:
    for _ in range(n):
        if api:
            Client(REMOTE_ADDR=ip).post(
                "/api/v1/auth/token/",
                {"username": username, "password": "wrong-password"},
                content_type="application/json",
            )
        else:
            Client(REMOTE_ADDR=ip).post("/accounts/login/", {"username": username, "password": "wrong-password"})


def test_a_locked_address_cannot_sign_in_by_sso(idp, users):
    _wrong_passwords(LIMIT, username="nobody", ip="198.51.100.7")
    client = Client(REMOTE_ADDR="198.51.100.7")
    response = sso(client, idp, claims_for("a@example.com"))
    assert response.status_code == 429 and signed_in(client) is None
    assert "登录已暂时锁定" in response.content.decode()
    assert "/token" not in idp.calls


def test_a_locked_user_name_cannot_sign_in_by_sso(idp, users, settings):
    users["sales"].email = "sales@example.com"
    users["sales"].save()
    for n in range(LIMIT):  # from many addresses: only the name is locked
        _wrong_passwords(1, ip=f"192.0.2.{n + 1}")
    client = Client(REMOTE_ADDR="198.51.100.50")
    html = refusal(client, sso(client, idp, claims_for("sales@example.com")))
    assert signed_in(client) is None and "登录失败次数过多" in html


def test_a_password_sign_in_with_a_code_in_the_address_never_reaches_the_provider(idp, users):
    for _ in range(LIMIT):
        response = Client(REMOTE_ADDR="203.0.113.5").post(
            "/accounts/login/?code=stolen&state=x", {"username": "sales", "password": "wrong-password"}
        )
    assert response.status_code == 429
    assert idp.calls == []
    assert AccessAttempt.objects.filter(username="sales").exists()


def test_with_sso_on_the_page_and_the_token_endpoint_still_lock(idp, users):
    _wrong_passwords(LIMIT - 1, api=True)
    _wrong_passwords(1)
    page = Client(REMOTE_ADDR="203.0.113.10").post("/accounts/login/", {"username": "sales", "password": PASSWORD})
    assert page.status_code == 429
    token = Client(REMOTE_ADDR="203.0.113.11").post(
        "/api/v1/auth/token/", {"username": "sales", "password": PASSWORD}, content_type="application/json"
    )
    assert token.status_code == 429
    assert idp.calls == []


def test_a_successful_sso_does_not_unlock_a_locked_name(idp, users):
    users["sales"].email = "sales@example.com"
    users["sales"].save()
    _wrong_passwords(LIMIT)
    sso(Client(REMOTE_ADDR="198.51.100.60"), idp, claims_for("sales@example.com"))
    late = Client(REMOTE_ADDR="198.51.100.61")
    late.post("/accounts/login/", {"username": "sales", "password": PASSWORD})
    assert signed_in(late) is None


# --- services -------------------------------------------------------------------------------------------------


def test_the_create_service_refuses_admin_and_unknown_roles(db):
    for role in (Role.ADMIN, "superuser"):
        with pytest.raises(ValidationError):
            services.user_create_from_sso(
                issuer="https://idp", subject="s", username_hint="x", email="", display_name="", role=role
            )
    assert not User.objects.exists()


def test_unbinding_needs_the_user_manager(users):
    sales = services.user_bind_sso(user=users["sales"], issuer="https://idp", subject="s1")
    with pytest.raises(Exception):  # noqa: B017 - PermissionDenied, whatever its wording
        services.user_unbind_sso(actor=users["viewer"], user=sales)
    services.user_unbind_sso(actor=users["admin"], user=sales)
    sales.refresh_from_db()
    assert sales.oidc_subject == "" and sales.oidc_issuer == ""


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_first_sign_ins_of_one_identity_at_once_make_one_user():
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is proven on PostgreSQL (SQLite serialises every writer)")
    barrier = threading.Barrier(4)
    made: list[int] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait(timeout=10)
            user = services.user_create_from_sso(
                issuer="https://idp", subject="same", username_hint="same", email="", display_name="", role="viewer"
            )
            made.append(user.pk)
        except BaseException as exc:
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert len(set(made)) == 1 and len(made) == 4
    assert User.objects.filter(oidc_subject="same").count() == 1


def test_audit_rows_have_no_actor_for_provider_driven_changes(idp, db):
    client = Client()
    sso(client, idp, claims_for("a@example.com"))
    entry = AuditEntry.objects.get(object_id=me(client).pk, action=AuditEntry.Action.CREATE)
    assert entry.actor is None and entry.changes == {"role": Role.VIEWER, "sso": idp.issuer}


def test_an_admin_clears_a_binding_from_the_user_list(users, client):
    sales = services.user_bind_sso(user=users["sales"], issuer="https://idp", subject="s1")
    client.force_login(users["admin"])
    response = client.post(
        "/admin/accounts/user/", {"action": "unbind_sso", "_selected_action": [sales.pk]}, follow=True
    )
    assert response.status_code == 200 and "已清除所选用户的单点登录绑定" in response.content.decode()
    sales.refresh_from_db()
    assert sales.oidc_subject == ""
    assert AuditEntry.objects.filter(object_id=sales.pk, actor=users["admin"]).exists()
