"""Content-Security-Policy: every HTML response carries the policy, and every script on the page carries its nonce."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from needpool.intake.channels.services import channel_create

pytestmark = pytest.mark.django_db

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "needpool" / "templates"
SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
STYLE_TAG = re.compile(r"<style\b([^>]*)>", re.IGNORECASE)
NONCE_ATTR = re.compile(r"""\bnonce=["']([^"']+)["']""")
DATA_SCRIPT = re.compile(r"""\btype=["']application/(?:ld\+)?json["']""", re.IGNORECASE)


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives: dict[str, list[str]] = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


def header_nonce(response) -> str:
    nonces = [v[len("'nonce-") : -1] for v in policy(response)["script-src"] if v.startswith("'nonce-")]
    assert len(nonces) == 1, (response.request["PATH_INFO"], response["Content-Security-Policy"])
    return nonces[0]


def assert_scripts_carry_the_nonce(response) -> None:
    """Every executable <script> and every <style> element of the page has the header's nonce.

    Django's admin writes no inline script or style: its scripts are files of this site ('self'), no nonce.
    """
    html = response.content.decode()
    path = response.request["PATH_INFO"]
    scripts = [attrs for attrs in SCRIPT_TAG.findall(html) if not DATA_SCRIPT.search(attrs)]
    assert scripts, (path, "the page has no script at all")
    if path.startswith("/admin/"):
        for attrs in scripts:
            assert re.search(r"""\bsrc=["'](/static/|/admin/jsi18n/)""", attrs), (path, attrs)
        assert not STYLE_TAG.search(html), path
    else:
        nonce = header_nonce(response)
        for attrs in scripts + STYLE_TAG.findall(html):
            found = NONCE_ATTR.search(attrs)
            assert found and found.group(1) == nonce, (path, attrs)
    assert not re.search(r"""\son[a-z]+\s*=\s*["']""", html), "inline event handler"
    assert "javascript:" not in html.lower()


@pytest.fixture
def admin_client(users) -> Client:
    client = Client()
    client.force_login(users["admin"])
    return client


@pytest.fixture
def page_urls(requirement, customer, users) -> list[str]:
    channel_create(actor=users["admin"], name="官网表单", slug="site", kind="portal")
    return [
        "/",
        "/requirements/",
        f"/requirements/{requirement.pk}/",
        "/requirements/board/",
        f"/requirements/merge/?ids={requirement.pk}",
        "/requirements/feedback/",
        "/customers/",
        f"/customers/{customer.pk}/",
        "/analysis/",
        "/analysis/ranked/",
        "/analysis/projects/",
        f"/analysis/requirements/{requirement.pk}/",
        "/intake/import/",
        "/portal/staff/",
        "/api/docs/",
        "/admin/",
        "/admin/requirements/workflow/",
        "/admin/requirements/workflow/add/",
    ]


def test_every_main_page_carries_the_policy_and_the_nonce_of_its_scripts(admin_client, page_urls):
    for url in page_urls:
        response = admin_client.get(url)
        assert response.status_code == 200, url
        assert response["Content-Type"].startswith("text/html"), url
        assert_scripts_carry_the_nonce(response)


def test_public_pages_carry_the_policy_and_the_nonce_too(client, users):
    channel_create(actor=users["admin"], name="官网表单", slug="site", kind="portal")
    for url in ("/accounts/login/", "/portal/site/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_scripts_carry_the_nonce(response)


def test_the_policy_says_what_the_issue_asks(client):
    response = client.get("/accounts/login/")
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]
    directives = policy(response)
    assert directives["default-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["base-uri"] == ["'self'"]
    assert directives["form-action"] == ["'self'"]
    assert "data:" in directives["img-src"]
    for name in ("script-src", "style-src"):
        assert directives[name][0] == "'self'"
        assert [v for v in directives[name] if v.startswith("'nonce-")]
        # No way around the nonce for script or a <style> element.
        assert not {"'unsafe-inline'", "'unsafe-eval'", "*", "data:", "http:", "https:"} & set(directives[name])


def test_each_response_gets_a_fresh_nonce(client):
    first = header_nonce(client.get("/accounts/login/"))
    second = header_nonce(client.get("/accounts/login/"))
    assert first != second and len(first) >= 16


def test_htmx_is_told_not_to_write_its_indicator_style(admin_client):
    html = admin_client.get("/").content.decode()
    assert """<meta name="htmx-config" content='{"includeIndicatorStyles": false}'>""" in html


def test_no_template_writes_inline_script_style_or_handlers_without_the_nonce():
    """Static check of every template: no inline handler, javascript: URL, style attribute, or bare <script>/<style>."""
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text()
        assert not re.search(r"""\son[a-z]+\s*=\s*["']""", text), path
        assert "javascript:" not in text.lower(), path
        assert not re.search(r"""\sstyle\s*=\s*["']""", text), path
        for attrs in SCRIPT_TAG.findall(text) + STYLE_TAG.findall(text):
            if DATA_SCRIPT.search(attrs):
                continue
            assert 'nonce="{{ request.csp_nonce }}"' in attrs, (path, attrs)


# Paths a visitor may ask for: real pages, unknown ones, odd spellings. Each answer has the policy.
PATHS = st.one_of(
    st.sampled_from(["/", "/accounts/login/", "/portal/", "/api/v1/", "/healthz", "/admin/login/", "/static/x"]),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_/.%", min_size=0, max_size=30).map(lambda s: "/" + s),
)


@given(path=PATHS)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_property_any_answer_carries_the_policy(client, path):
    response = client.get(path)
    assert "Content-Security-Policy" in response, (path, response.status_code)
    directives = policy(response)
    assert directives["frame-ancestors"] == ["'none'"] and directives["object-src"] == ["'none'"]
    if response["Content-Type"].startswith("text/html") and SCRIPT_TAG.search(response.content.decode()):
        assert_scripts_carry_the_nonce(response)
