"""Sign-in lockout: wrong passwords lock the user name and the client address, on the page and the API alike."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import close_old_connections, connection
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token

from tests.conftest import PASSWORD, docs_client

LOGIN_URL = "/accounts/login/"
TOKEN_URL = "/api/v1/auth/token/"
LIMIT = django_settings.AXES_FAILURE_LIMIT


def web(username: str, password: str, ip: str = "203.0.113.10", **headers: str) -> Any:
    client = Client(REMOTE_ADDR=ip)
    response = client.post(LOGIN_URL, {"username": username, "password": password}, **headers)
    response.signed_in = "_auth_user_id" in client.session  # type: ignore[attr-defined]
    return response


def api(username: str, password: str, ip: str = "203.0.113.10", **headers: str) -> Any:
    response = Client(REMOTE_ADDR=ip).post(
        TOKEN_URL, {"username": username, "password": password}, content_type="application/json", **headers
    )
    response.signed_in = response.status_code == 200 and "token" in response.json()  # type: ignore[attr-defined]
    return response


def fail_times(n: int, call: Any = web, username: str = "sales", **kwargs: Any) -> list[int]:
    return [call(username, "wrong-password", **kwargs).status_code for _ in range(n)]


def test_wrong_passwords_lock_the_account_with_a_chinese_page_in_the_layout(users):
    codes = fail_times(LIMIT + 5)
    assert codes[: LIMIT - 1] == [200] * (LIMIT - 1)  # the form again, with its error
    assert set(codes[LIMIT - 1 :]) == {429}
    page = web("sales", PASSWORD)
    assert page.status_code == 429 and not page.signed_in
    html = page.content.decode()
    assert "登录已暂时锁定" in html
    assert f"请 {django_settings.AXES_COOLOFF_TIME.seconds // 60} 分钟后再试" in html
    assert "vendor/tabler.min.css" in html and 'href="/accounts/login/"' in html  # the product's layout
    assert page["Retry-After"] == str(django_settings.AXES_COOLOFF_TIME.seconds)


def test_fewer_failures_than_the_limit_still_sign_in_and_success_clears_the_count(users):
    fail_times(LIMIT - 1)
    assert web("sales", PASSWORD).signed_in
    assert not AccessAttempt.objects.filter(username="sales").exists()
    fail_times(LIMIT - 1)  # counting starts again from zero
    assert web("sales", PASSWORD).signed_in


def test_the_lock_lifts_after_the_cool_off(users):
    fail_times(LIMIT)
    assert web("sales", PASSWORD).status_code == 429
    AccessAttempt.objects.update(attempt_time=dt.datetime.now(dt.UTC) - django_settings.AXES_COOLOFF_TIME)
    assert web("sales", PASSWORD).signed_in


def test_one_address_guessing_many_names_is_locked_for_every_name(users):
    for n in range(LIMIT):
        web(f"guess-{n}", "wrong-password", ip="198.51.100.20")
    assert web("viewer", PASSWORD, ip="198.51.100.20").status_code == 429
    assert web("viewer", PASSWORD, ip="198.51.100.21").signed_in  # another address is not affected


def test_many_addresses_guessing_one_name_lock_that_name(users):
    for n in range(LIMIT):
        web("sales", "wrong-password", ip=f"198.51.100.{n + 1}")
    assert web("sales", PASSWORD, ip="192.0.2.200").status_code == 429
    assert web("viewer", PASSWORD, ip="192.0.2.200").signed_in  # another name from a fresh address is not


def test_api_failures_count_against_the_same_lock_and_get_chinese_json(users):
    codes = fail_times(LIMIT, call=api)
    assert codes[: LIMIT - 1] == [400] * (LIMIT - 1)
    assert codes[-1] == 429
    locked = api("sales", PASSWORD)
    assert locked.status_code == 429 and not Token.objects.exists()
    assert "已被暂时锁定" in locked.json()["detail"]
    assert locked["Retry-After"]
    assert web("sales", PASSWORD, ip="192.0.2.50").status_code == 429  # the page is locked too


def test_page_failures_lock_the_api(users):
    fail_times(LIMIT)
    assert api("sales", PASSWORD, ip="192.0.2.51").status_code == 429
    assert not Token.objects.exists()


def test_spoofed_forwarding_headers_do_not_reset_the_address_count(users):
    for n in range(LIMIT):
        web(f"guess-{n}", "wrong", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}", HTTP_X_REAL_IP=f"10.1.0.{n}")
    assert web("viewer", PASSWORD, HTTP_X_FORWARDED_FOR="10.9.9.9").status_code == 429


def test_the_limit_comes_from_the_settings(users, settings):
    settings.AXES_FAILURE_LIMIT = 3
    assert fail_times(3) == [200, 200, 429]


def test_force_login_and_test_client_login_still_work(users, client):
    client.force_login(users["sales"])
    assert client.get("/requirements/").status_code == 200
    assert Client().login(username="viewer", password=PASSWORD)


# ------------------------------------------------------------------ property: the ways around the lock

ADDRESSES = st.ip_addresses(v=4).map(str) | st.ip_addresses(v=6).map(str)
SPOOF = st.dictionaries(
    st.sampled_from(["HTTP_X_FORWARDED_FOR", "HTTP_X_REAL_IP", "HTTP_FORWARDED", "HTTP_CLIENT_IP"]),
    st.one_of(ADDRESSES, st.lists(ADDRESSES, min_size=1, max_size=4).map(", ".join), st.text(max_size=20)).map(
        lambda v: v.replace("\x00", "")
    ),
    max_size=4,
)
AGENTS = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40)
FULLWIDTH = {c: chr(ord(c) + 0xFEE0) for c in "sale"}


def _spelling(name: str) -> st.SearchStrategy[str]:
    """Spellings sign-in reads as the same name: padding and full-width letters (NFKC)."""
    padded = st.tuples(st.sampled_from(["", " ", "\u3000"]), st.sampled_from(["", " ", "\t"]))
    fullwidth = st.lists(st.booleans(), min_size=len(name), max_size=len(name)).map(
        lambda flags: "".join(FULLWIDTH.get(c, c) if f else c for c, f in zip(name, flags, strict=True))
    )
    return st.tuples(padded, fullwidth).map(lambda t: t[0][0] + t[1] + t[0][1])


def _reset() -> None:
    AccessAttempt.objects.all().delete()
    cache.clear()


ATTEMPT = st.tuples(st.sampled_from([web, api]), ADDRESSES, _spelling("sales"), SPOOF, AGENTS)


@given(attempts=st.lists(ATTEMPT, min_size=3, max_size=3), last=ATTEMPT)
@hsettings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_no_spelling_address_header_or_path_gets_round_the_name_lock(users, settings, attempts, last):
    """From any addresses, through either door, with any forwarding headers and agents, three failures lock
    ``sales``; the right password is then refused everywhere."""
    settings.AXES_FAILURE_LIMIT = 3
    _reset()
    for call, ip, name, spoof, agent in attempts:
        assert call(name, "wrong-password", ip=ip, HTTP_USER_AGENT=agent, **spoof).status_code in (200, 400, 429)
    call, ip, name, spoof, agent = last
    response = call("sales", PASSWORD, ip=ip, HTTP_USER_AGENT=agent, **spoof)
    assert response.status_code == 429 and not response.signed_in


NAMES = st.text(alphabet=st.characters(categories=["L", "N"]), min_size=1, max_size=20).filter(lambda s: s != "viewer")


@given(
    attempts=st.lists(st.tuples(st.sampled_from([web, api]), NAMES, SPOOF, AGENTS), min_size=3, max_size=3),
    spoof=SPOOF,
)
@hsettings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_no_name_or_header_gets_round_the_address_lock(users, settings, attempts, spoof):
    settings.AXES_FAILURE_LIMIT = 3
    _reset()
    for call, name, headers, agent in attempts:
        call(name, "wrong-password", ip="192.0.2.77", HTTP_USER_AGENT=agent, **headers)
    response = web("viewer", PASSWORD, ip="192.0.2.77", **spoof)
    assert response.status_code == 429 and not response.signed_in


# ------------------------------------------------------------------ race: failures at once all count


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_simultaneous_failures_all_count_and_none_errors(users):
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is proven on PostgreSQL (SQLite serialises every writer)")
    workers = LIMIT + 2
    barrier = threading.Barrier(workers)
    codes: list[int] = []
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            barrier.wait(timeout=10)
            call = web if n % 2 else api
            codes.append(call("sales", "wrong-password", ip="203.0.113.99").status_code)
        except BaseException as exc:
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert len(codes) == workers and set(codes) <= {200, 400, 429}
    counted = sum(a.failures_since_start for a in AccessAttempt.objects.filter(username="sales"))
    assert counted >= LIMIT
    assert web("sales", PASSWORD, ip="192.0.2.1").status_code == 429


def test_the_token_endpoint_documents_the_lockout_answer(db):
    schema = docs_client().get("/api/schema/", {"format": "json"}).json()
    locked = schema["paths"]["/api/v1/auth/token/"]["post"]["responses"]["429"]
    assert locked["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorDetail"}
