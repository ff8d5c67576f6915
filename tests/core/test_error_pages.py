"""Error pages a person reads: 400, 403, 404, 414, 500 and the CSRF failure are in the user's language, in the
app's frame (the navigation when signed in) and offer a way back; under /api/ they stay JSON. The 500 page is
drawn without a request and without the database."""

from __future__ import annotations

import socket
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.urls import include, path

from needpool.core import errors
from needpool.requirements.models import Requirement

pytestmark = pytest.mark.django_db


def _boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("boom")


# Used as ROOT_URLCONF by the 500 tests: the site's routes plus two that fail.
urlpatterns = [
    path("boom/", _boom),
    path("api/boom/", _boom),
    path("", include("needpool.urls")),
]
handler500 = "needpool.core.errors.server_error"


def _html(response: Any) -> str:
    return response.content.decode()


def _signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _assert_framed(html: str, *, signed_in: bool) -> None:
    assert 'id="error-page"' in html and 'id="error-back"' in html
    assert ('id="navbar-menu"' in html) is signed_in  # the navigation only for a signed-in user
    assert "DEBUG" not in html and "Django" not in html


# ---------------------------------------------------------------- 404


def test_404_is_chinese_in_the_frame_with_a_way_back(users):
    response = _signed_in(users["viewer"]).get("/requirements/999999/", HTTP_REFERER="http://testserver/requirements/")
    html = _html(response)
    assert response.status_code == 404
    _assert_framed(html, signed_in=True)
    assert "页面不存在" in html and '<html lang="zh-hans">' in html
    assert 'href="http://testserver/requirements/" id="error-back"' in html  # back to where the user came from
    assert 'href="/" id="error-home"' in html


def test_404_in_english(users):
    client = _signed_in(users["viewer"])
    client.cookies["django_language"] = "en"
    html = _html(client.get("/no-such-page/"))
    assert '<html lang="en">' in html
    _assert_framed(html, signed_in=True)
    assert "Go back" in html and "Home" in html  # the frame and the way back in English


def test_404_for_a_portal_visitor_has_the_public_frame_and_leads_back_to_the_portal(db):
    response = Client().get("/portal/no-such-page/")
    html = _html(response)
    assert response.status_code == 404
    _assert_framed(html, signed_in=False)
    assert 'href="/portal/" id="error-home"' in html


def test_a_referer_from_another_site_is_not_offered_as_the_way_back(users):
    html = _html(_signed_in(users["viewer"]).get("/no-such-page/", HTTP_REFERER="https://evil.example/x"))
    assert "evil.example" not in html
    assert 'href="/" id="error-back"' in html


def test_api_404_stays_json(users, api):
    response = api(users["viewer"]).get("/api/v1/requirements/99999999999999999999/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json") and "detail" in response.json()


# ---------------------------------------------------------------- 403


def test_403_shows_the_reason_in_the_frame(users):
    response = _signed_in(users["viewer"]).get("/requirements/new/")
    html = _html(response)
    assert response.status_code == 403
    _assert_framed(html, signed_in=True)
    assert "没有权限" in html and "您没有创建需求的权限。" in html


def test_403_in_english_has_the_english_frame(users):
    response = _signed_in(users["viewer"]).get("/requirements/new/", HTTP_ACCEPT_LANGUAGE="en")
    html = _html(response)
    assert response.status_code == 403 and '<html lang="en">' in html and "Go back" in html


def test_403_without_a_message_explains_itself():
    request = RequestFactory().get("/x/")
    html = _html(errors.permission_denied(request, None))
    assert "您没有查看此页面或执行此操作的权限" in html


def test_403_under_api_is_json():
    response = errors.permission_denied(RequestFactory().get("/api/v1/x/"), PermissionError("不行"))
    assert response.status_code == 403 and response["Content-Type"] == "application/json"


# ---------------------------------------------------------------- 400 and 414


def test_400_for_a_forged_host_is_chinese_and_leads_home(db):
    response = Client().get("/", HTTP_HOST="evil.example")
    html = _html(response)
    assert response.status_code == 400
    assert "请求无法处理" in html and "没有保存任何内容" in html
    assert "evil.example" not in html


def test_400_under_api_is_json(db):
    response = Client().get("/api/v1/requirements/", HTTP_HOST="evil.example")
    assert response.status_code == 400 and "detail" in response.json()


def test_an_oversized_address_is_414_in_the_frame(users):
    client = _signed_in(users["product_manager"])
    response = client.get("/requirements/", {"q": "长" * 1500})  # 1500 × 9 bytes once percent-encoded
    html = _html(response)
    assert response.status_code == 414
    _assert_framed(html, signed_in=True)
    assert "地址太长" in html and str(errors.REQUEST_LINE_MAX) in html


def test_an_address_just_under_the_limit_is_served(users):
    client = _signed_in(users["product_manager"])
    query = "a" * (errors.REQUEST_LINE_MAX - len("/requirements/?q="))
    assert client.get("/requirements/", {"q": query}).status_code == 200


def test_an_oversized_api_address_is_json_414(users, api):
    response = api(users["product_manager"]).get("/api/v1/requirements/similar/", {"text": "长" * 1500})
    assert response.status_code == 414 and "detail" in response.json()


def test_an_oversized_address_writes_nothing(users):
    client = _signed_in(users["product_manager"])
    before = Requirement.objects.count()
    response = client.post("/requirements/new/?" + "x=" + "y" * 5000, {"title": "不该保存"})
    assert response.status_code == 414 and Requirement.objects.count() == before


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_real_oversized_request_line_gets_the_page(live_server):
    """A request line sent over a socket, as a browser would: the server hands it to the app, which answers 414."""
    host, port = urlsplit(live_server.url).netloc.split(":")
    target = "/portal/?q=" + "%E9%95%BF" * 600  # 5400 bytes: over the app's limit, under the server's
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(f"GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode())
        received = b""
        while chunk := conn.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 414")
    assert "地址太长".encode() in body and b'id="error-back"' in body


def test_the_web_server_lets_long_addresses_reach_the_app(monkeypatch):
    from needpool.core.management.commands import np_serve

    seen: list[list[str]] = []
    monkeypatch.setattr(np_serve.os, "execvp", lambda _exe, argv: seen.append(argv))
    np_serve.Command().handle(port="1", host="127.0.0.1", workers="1", threads="2", dev=False)
    argv = seen[0]
    limit = int(argv[argv.index("--limit-request-line") + 1])
    assert limit == errors.SERVER_REQUEST_LINE_LIMIT > errors.REQUEST_LINE_MAX


def test_the_web_server_runs_two_threads_a_worker_unless_told_otherwise(monkeypatch):
    from needpool.core.management.commands import np_serve

    def argv_of(*args: str) -> list[str]:
        seen: list[list[str]] = []
        monkeypatch.setattr(np_serve.os, "execvp", lambda _exe, argv: seen.append(argv))
        command = np_serve.Command()
        options = vars(command.create_parser("needpool", "np_serve").parse_args(list(args)))
        command.handle(**options)
        return seen[0]

    monkeypatch.delenv("NEEDPOOL_WEB_THREADS", raising=False)
    argv = argv_of()
    assert argv[argv.index("--threads") + 1] == "2"
    argv = argv_of("--threads", "1")
    assert argv[argv.index("--threads") + 1] == "1"
    monkeypatch.setenv("NEEDPOOL_WEB_THREADS", "3")
    argv = argv_of()
    assert argv[argv.index("--threads") + 1] == "3"


# ---------------------------------------------------------------- 500


def test_500_is_static_and_needs_no_database(users, settings, django_assert_num_queries):
    settings.ROOT_URLCONF = __name__
    client = _signed_in(users["viewer"])
    client.raise_request_exception = False
    with django_assert_num_queries(0):
        html = _html(response := errors.server_error(RequestFactory().get("/boom/")))
    assert response.status_code == 500 and "服务器出错了" in html
    response = client.get("/boom/")
    assert response.status_code == 500
    assert "服务器出错了" in _html(response) and "boom" not in _html(response)
    assert 'id="navbar-menu"' not in _html(response)


def test_500_in_english_keeps_the_language(users, settings):
    settings.ROOT_URLCONF = __name__
    client = _signed_in(users["viewer"])
    client.raise_request_exception = False
    assert '<html lang="en">' in _html(client.get("/boom/", HTTP_ACCEPT_LANGUAGE="en"))


def test_500_under_api_is_json(users, settings):
    settings.ROOT_URLCONF = __name__
    client = _signed_in(users["viewer"])
    client.raise_request_exception = False
    response = client.get("/api/boom/")
    assert response.status_code == 500 and "detail" in response.json()


def test_a_frame_that_cannot_be_drawn_falls_back_to_the_static_page(users, monkeypatch):
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("database gone")

    request = RequestFactory().get("/x/")
    request.user = users["viewer"]
    real = errors.loader.get_template

    def get_template(name: str) -> Any:
        template = real(name)
        if name != "500.html":
            monkeypatch.setattr(template, "render", broken)
        return template

    monkeypatch.setattr(errors.loader, "get_template", get_template)
    response = errors.page_not_found(request, None)
    assert response.status_code == 500 and "服务器出错了" in _html(response)


# ---------------------------------------------------------------- CSRF


def test_csrf_failure_is_chinese_and_never_mentions_debug(users):
    client = Client(enforce_csrf_checks=True)
    client.force_login(users["product_manager"])
    before = Requirement.objects.count()
    response = client.post("/requirements/new/", {"title": "跨站"}, HTTP_REFERER="http://testserver/requirements/new/")
    html = _html(response)
    assert response.status_code == 403 and Requirement.objects.count() == before
    _assert_framed(html, signed_in=True)
    assert "页面已过期" in html and 'id="csrf-hint"' in html
    assert "CSRF verification failed" not in html


def test_csrf_failure_in_english(users):
    client = Client(enforce_csrf_checks=True)
    client.force_login(users["product_manager"])
    client.cookies["django_language"] = "en"
    html = _html(client.post("/requirements/new/", {"title": "跨站"}))
    assert '<html lang="en">' in html and "Go back" in html and "DEBUG" not in html


def test_csrf_failure_signed_out_uses_the_public_frame(db):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": "x", "password": "y"})
    html = _html(response)
    assert response.status_code == 403
    _assert_framed(html, signed_in=False)
    assert 'href="/accounts/login/" id="error-home"' in html


def test_csrf_failure_under_api_is_json():
    response = errors.csrf_failure(RequestFactory().post("/api/v1/requirements/"), "no token")
    assert response.status_code == 403 and "detail" in response.content.decode()
