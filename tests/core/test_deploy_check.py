"""The documented production profile passes ``needpool check --deploy``; each variable does what it says."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")

#: The production profile, as README.md's "Deployment" section lists it.
PRODUCTION = {
    "NEEDPOOL_SECRET_KEY": "",  # filled per test with a fresh random key
    "NEEDPOOL_ALLOWED_HOSTS": "needpool.example.com",
    "NEEDPOOL_CSRF_TRUSTED_ORIGINS": "https://needpool.example.com",
    "NEEDPOOL_HTTPS": "1",
    "NEEDPOOL_PROXY_SSL_HEADER": "X-Forwarded-Proto",
    "NEEDPOOL_CLIENT_IP_HEADER": "X-Forwarded-For",
    "NEEDPOOL_TRUSTED_PROXIES": "1",
}


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        # The test process's own knobs stay out (the browser tests set DJANGO_ALLOW_ASYNC_UNSAFE in-process).
        if not k.startswith("NEEDPOOL_")
        and k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE", "PYTEST_XDIST_WORKER"}
    }
    env.update(NEEDPOOL_DATA_DIR=str(tmp_path / "data"), DJANGO_SETTINGS_MODULE="needpool.settings")
    env.update(extra)
    return env


def _run(tmp_path: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "needpool.cli", *args],
        env=_env(tmp_path, **extra),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )


def _settings(tmp_path: Path, names: list[str], **extra: str) -> dict[str, Any]:
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{n: getattr(settings, n, None) for n in {names!r}}}, default=str))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=_env(tmp_path, **extra), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_every_production_variable_is_documented():
    deployment = README.split("## Deployment", 1)[1]
    for name in [*PRODUCTION, "NEEDPOOL_HSTS_SECONDS", "NEEDPOOL_HSTS_INCLUDE_SUBDOMAINS", "NEEDPOOL_HSTS_PRELOAD"]:
        assert f"`{name}`" in deployment, name
    for name in ["NEEDPOOL_LOGIN_FAILURE_LIMIT", "NEEDPOOL_LOGIN_COOLOFF_MINUTES", "NEEDPOOL_LOGIN_LOCKOUT_BY"]:
        assert f"`{name}`" in deployment, name


def test_the_documented_production_profile_passes_the_deploy_check(tmp_path):
    profile = {**PRODUCTION, "NEEDPOOL_SECRET_KEY": secrets.token_urlsafe(60)}
    done = _run(tmp_path, "check", "--deploy", "--fail-level", "WARNING", **profile)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout + done.stderr


def test_without_https_the_deploy_check_names_what_is_missing(tmp_path):
    profile = {**PRODUCTION, "NEEDPOOL_SECRET_KEY": secrets.token_urlsafe(60), "NEEDPOOL_HTTPS": "0"}
    output = _run(tmp_path, "check", "--deploy", **profile)
    text = output.stdout + output.stderr
    for check in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert check in text, check


def test_https_variables_set_the_settings(tmp_path):
    names = [
        "SECURE_SSL_REDIRECT",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_HSTS_PRELOAD",
        "SECURE_PROXY_SSL_HEADER",
        "CSRF_TRUSTED_ORIGINS",
        "ALLOWED_HOSTS",
    ]
    on = _settings(
        tmp_path,
        names,
        NEEDPOOL_HTTPS="1",
        NEEDPOOL_HSTS_SECONDS="600",
        NEEDPOOL_HSTS_INCLUDE_SUBDOMAINS="0",
        NEEDPOOL_HSTS_PRELOAD="1",
        NEEDPOOL_PROXY_SSL_HEADER="X-Scheme: on",
        NEEDPOOL_CSRF_TRUSTED_ORIGINS="https://a.example.com,https://b.example.com",
        NEEDPOOL_ALLOWED_HOSTS="a.example.com, b.example.com",
    )
    assert on == {
        "SECURE_SSL_REDIRECT": True,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_HSTS_SECONDS": 600,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": False,
        "SECURE_HSTS_PRELOAD": True,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_SCHEME", "on"],
        "CSRF_TRUSTED_ORIGINS": ["https://a.example.com", "https://b.example.com"],
        "ALLOWED_HOSTS": ["a.example.com", "b.example.com"],
    }
    default = _settings(tmp_path, names[:7], NEEDPOOL_HTTPS="1")
    assert default["SECURE_HSTS_SECONDS"] == 365 * 24 * 3600 and default["SECURE_HSTS_INCLUDE_SUBDOMAINS"]
    assert default["SECURE_PROXY_SSL_HEADER"] is None  # not trusted unless named
    off = _settings(tmp_path, names[:5])
    assert off == dict.fromkeys(names[:5], False) | {"SECURE_HSTS_SECONDS": 0}


def test_lockout_and_client_address_variables_set_the_settings(tmp_path):
    names = [
        "AXES_FAILURE_LIMIT",
        "AXES_COOLOFF_TIME",
        "AXES_LOCKOUT_PARAMETERS",
        "NEEDPOOL_CLIENT_IP_HEADER",
        "NEEDPOOL_TRUSTED_PROXIES",
    ]
    values = _settings(
        tmp_path,
        names,
        NEEDPOOL_LOGIN_FAILURE_LIMIT="5",
        NEEDPOOL_LOGIN_COOLOFF_MINUTES="30",
        NEEDPOOL_LOGIN_LOCKOUT_BY="username+ip_address",
        NEEDPOOL_CLIENT_IP_HEADER="X-Real-IP",
        NEEDPOOL_TRUSTED_PROXIES="2",
    )
    assert values == {
        "AXES_FAILURE_LIMIT": 5,
        "AXES_COOLOFF_TIME": "0:30:00",
        "AXES_LOCKOUT_PARAMETERS": [["ip_address", "username"]],
        "NEEDPOOL_CLIENT_IP_HEADER": "X-Real-IP",
        "NEEDPOOL_TRUSTED_PROXIES": 2,
    }
    defaults = _settings(tmp_path, names)
    assert defaults["AXES_FAILURE_LIMIT"] == 10 and defaults["AXES_COOLOFF_TIME"] == "0:15:00"
    assert defaults["AXES_LOCKOUT_PARAMETERS"] == [["username"], ["ip_address"]]
    assert defaults["NEEDPOOL_CLIENT_IP_HEADER"] == ""


@pytest.fixture
def https_on(settings: Any) -> None:
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    settings.SECURE_HSTS_SECONDS = 3600
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")


def test_https_redirects_plain_requests_but_not_the_health_probe(db, https_on):
    client = Client()
    response = client.get("/accounts/login/")
    assert response.status_code == 301 and response["Location"].startswith("https://")
    assert client.get("/healthz").status_code == 200
    secure = client.get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https")
    assert secure.status_code == 200 and secure["Strict-Transport-Security"].startswith("max-age=3600")
