"""The client's address: REMOTE_ADDR unless a trusted proxy's header is configured, and then only its hop."""

from __future__ import annotations

import pytest
from django.test import RequestFactory, override_settings
from django_ratelimit.core import get_usage
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from needpool.core.client_ip import UNKNOWN_IP, AddressRateThrottle, client_ip, meta_key, normalise_ip
from tests.conftest import PASSWORD

ADDRESSES = st.ip_addresses(v=4).map(str) | st.ip_addresses(v=6).map(str)
SPOOF_HEADERS = [
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_REAL_IP",
    "HTTP_FORWARDED",
    "HTTP_CLIENT_IP",
    "HTTP_TRUE_CLIENT_IP",
    "HTTP_CF_CONNECTING_IP",
    "HTTP_X_CLIENT_IP",
]
JUNK = st.text(max_size=30).map(lambda v: v.replace("\x00", ""))
SPOOF_VALUE = st.one_of(
    ADDRESSES,
    st.lists(ADDRESSES, min_size=1, max_size=5).map(", ".join),
    ADDRESSES.map(lambda a: f'for="{a}";proto=https'),
    JUNK,
)
SPOOF = st.dictionaries(st.sampled_from(SPOOF_HEADERS), SPOOF_VALUE, max_size=len(SPOOF_HEADERS))


def request(remote: str | None = "203.0.113.5", **meta: str):
    extra = dict(meta)
    if remote is not None:
        extra["REMOTE_ADDR"] = remote
    req = RequestFactory().get("/", **extra)
    if remote is None:
        req.META.pop("REMOTE_ADDR", None)
    return req


@given(remote=ADDRESSES, spoof=SPOOF)
@hsettings(max_examples=200, deadline=None)
def test_without_a_trusted_header_nothing_a_client_sends_changes_the_key(remote, spoof):
    with override_settings(NEEDPOOL_CLIENT_IP_HEADER=""):
        assert client_ip(request(remote, **spoof)) == normalise_ip(remote)


@given(
    client_part=st.lists(SPOOF_VALUE.filter(lambda v: "," not in v), max_size=4),
    real=ADDRESSES,
    proxies=st.lists(ADDRESSES, max_size=3),
    remote=ADDRESSES,
    spoof=SPOOF,
    spelling=st.sampled_from(["X-Forwarded-For", "x-forwarded-for", "HTTP_X_FORWARDED_FOR"]),
)
@hsettings(max_examples=200, deadline=None)
def test_only_the_hop_the_outermost_trusted_proxy_added_counts(client_part, real, proxies, remote, spoof, spelling):
    """The client may put anything left of what the proxies append, and any other header: the key is the
    address the outermost of the trusted proxies saw."""
    spoof = {k: v for k, v in spoof.items() if k != "HTTP_X_FORWARDED_FOR"}
    forwarded = ", ".join([*client_part, real, *proxies])
    with override_settings(NEEDPOOL_CLIENT_IP_HEADER=spelling, NEEDPOOL_TRUSTED_PROXIES=len(proxies) + 1):
        assert client_ip(request(remote, HTTP_X_FORWARDED_FOR=forwarded, **spoof)) == normalise_ip(real)


@given(real=ADDRESSES, remote=ADDRESSES, spoof=SPOOF)
@hsettings(max_examples=100, deadline=None)
def test_a_single_address_header_is_read_as_the_proxy_set_it(real, remote, spoof):
    spoof = {k: v for k, v in spoof.items() if k != "HTTP_X_REAL_IP"}
    with override_settings(NEEDPOOL_CLIENT_IP_HEADER="X-Real-IP"):
        assert client_ip(request(remote, HTTP_X_REAL_IP=real, **spoof)) == normalise_ip(real)


@given(client_part=st.lists(ADDRESSES, max_size=3), real=ADDRESSES, remote=ADDRESSES)
@hsettings(max_examples=100, deadline=None)
def test_forwarded_header_reads_the_trusted_for_element(client_part, real, remote):
    value = ", ".join(f'for="[{a}]"' if ":" in a else f"for={a}" for a in [*client_part, real])
    with override_settings(NEEDPOOL_CLIENT_IP_HEADER="Forwarded"):
        assert client_ip(request(remote, HTTP_FORWARDED=value + ";proto=https;by=10.0.0.1")) == normalise_ip(real)


@pytest.mark.parametrize(
    ("header", "meta", "expected"),
    [
        ("X-Forwarded-For", {}, "203.0.113.5"),  # header missing: REMOTE_ADDR
        ("X-Forwarded-For", {"HTTP_X_FORWARDED_FOR": "not-an-address"}, "203.0.113.5"),
        ("X-Real-IP", {"HTTP_X_REAL_IP": "  "}, "203.0.113.5"),
        ("X-Real-IP", {"HTTP_X_REAL_IP": "198.51.100.7:51234"}, "198.51.100.7"),
        ("X-Real-IP", {"HTTP_X_REAL_IP": "[2001:db8::1]:443"}, "2001:db8::1"),
        ("X-Real-IP", {"HTTP_X_REAL_IP": "::ffff:198.51.100.8"}, "198.51.100.8"),
        ("X-Real-IP", {"HTTP_X_REAL_IP": "2001:DB8:0::1"}, "2001:db8::1"),
    ],
)
def test_edge_values(header, meta, expected):
    with override_settings(NEEDPOOL_CLIENT_IP_HEADER=header):
        assert client_ip(request(**meta)) == expected


def test_fewer_entries_than_trusted_proxies_fall_back_to_the_connection():
    with override_settings(NEEDPOOL_CLIENT_IP_HEADER="X-Forwarded-For", NEEDPOOL_TRUSTED_PROXIES=2):
        assert client_ip(request(HTTP_X_FORWARDED_FOR="198.51.100.1")) == "203.0.113.5"


def test_no_address_at_all_shares_one_key():
    assert client_ip(request(None)) == UNKNOWN_IP
    assert client_ip(request("")) == UNKNOWN_IP


def test_header_spellings():
    assert meta_key("X-Real-IP") == meta_key("x_real_ip") == meta_key("HTTP_X_REAL_IP") == "HTTP_X_REAL_IP"


@given(remote=ADDRESSES, spoof=SPOOF)
@hsettings(max_examples=50, deadline=None)
def test_drf_throttle_key_ignores_what_the_client_sends(remote, spoof):
    throttle = AddressRateThrottle()
    assert throttle.get_ident(request(remote, **spoof)) == normalise_ip(remote)


@given(spoof=st.lists(SPOOF, min_size=3, max_size=3))
@hsettings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_portal_rate_counter_ignores_what_the_client_sends(db, spoof):
    """django-ratelimit's per-address counter (the portal) counts one address however its headers change."""
    from django.core.cache import cache

    cache.clear()
    usages = [
        get_usage(request("192.0.2.44", **headers), group="t", key="ip", rate="2/h", increment=True)
        for headers in spoof
    ]
    assert [u["should_limit"] for u in usages] == [False, False, True]


def test_token_endpoint_throttle_is_not_reset_by_a_forged_forwarded_for(users, settings):
    settings.AXES_ENABLED = False  # count the throttle alone
    client = APIClient(REMOTE_ADDR="192.0.2.9")
    codes = [
        client.post(
            "/api/v1/auth/token/",
            {"username": "sales", "password": PASSWORD},
            format="json",
            HTTP_X_FORWARDED_FOR=f"10.0.{n}.1",
        ).status_code
        for n in range(21)
    ]
    assert codes[:20] == [200] * 20
    assert codes[20] == 429
