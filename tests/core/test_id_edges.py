"""Ids and dates out of range never make a 500: every URL pattern and every filter of every FilterSet is fed
huge, negative and non-numeric ids and dates of year 4 or 9999, found by introspection (not a hand list), so a
route or filter added later is covered by the same test."""

from __future__ import annotations

import datetime as dt
import importlib
import pkgutil
import re
from collections.abc import Iterator
from typing import Any

import django_filters
import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework import serializers

import needpool

HUGE = "99999999999999999999"
OVER = str(2**63)
UNDER = str(-(2**63) - 1)
BAD_IDS = [HUGE, OVER, UNDER, "0", "-1", "abc", "1.5", "1e30", "²", "٣"]
BAD_DATES = ["0004-01-01", "0001-01-01", "9999-12-31", "1899-12-31", "2201-01-01", "20240-01-01", "2024-13-45"]

# Route parameters that are not ids, with a value the route accepts (a new one must be named here).
NAMED_PARAMS = {
    "kind": "requirement",
    "action": "accept",
    "token": "x" * 20,
    "slug": "web",
    "layout": "standard",
    "fmt": "csv",
    "format": "json",
    "index": "0",
    "step": "evaluate",
    "dimension": "urgency",
    "month": "2026-11",
    "key": "new",  # a status of the flow (the board's columns)
}
ID_PARAM = re.compile(r"^(pk|id|sid|.*_pk)$")
SKIP_PREFIXES = ("admin/", "static/", "media/", "i18n/")

_ROUTE_PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")
_REGEX_PARAM = re.compile(r"\(\?P<(?P<name>\w+)>[^)]*\)")


def _walk(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for entry in patterns:
        pattern = entry.pattern
        if isinstance(pattern, RoutePattern):
            piece = str(pattern._route)
        else:
            assert isinstance(pattern, RegexPattern)
            piece = pattern._regex.lstrip("^").removesuffix("$")
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + piece)
        else:
            yield prefix + piece, entry


def _params(route: str) -> list[str]:
    return [m["name"] for m in _ROUTE_PARAM.finditer(route)] + [m["name"] for m in _REGEX_PARAM.finditer(route)]


def _fill(route: str, values: dict[str, str]) -> str:
    path = _ROUTE_PARAM.sub(lambda m: values[m["name"]], route)
    path = _REGEX_PARAM.sub(lambda m: values[m["name"]], path)
    path = path.replace("\\.", ".").replace("/?", "/")
    return "/" + path


def routes() -> list[str]:
    """Every route of the site (format-suffix duplicates and Django's own admin aside)."""
    found = []
    for route, _entry in _walk(get_resolver().url_patterns):
        if route.startswith(SKIP_PREFIXES) or "format" in _params(route):
            continue
        found.append(route)
    return sorted(set(found))


def id_routes() -> list[str]:
    return [r for r in routes() if any(ID_PARAM.match(p) for p in _params(r))]


def test_every_route_parameter_is_an_id_or_named() -> None:
    for route in routes():
        for name in _params(route):
            assert ID_PARAM.match(name) or name in NAMED_PARAMS, (route, name)
    assert len(id_routes()) > 50


def _id_paths(route: str, bad: str) -> list[str]:
    """The route with every id at ``bad``, and, with several ids, each one alone at ``bad`` (the others 1)."""
    names = _params(route)
    ids = [n for n in names if ID_PARAM.match(n)]
    base = {n: NAMED_PARAMS.get(n, "1") for n in names}
    paths = [_fill(route, {**base, **dict.fromkeys(ids, bad)})]
    if len(ids) > 1:
        paths += [_fill(route, {**base, name: bad}) for name in ids]
    return paths


@pytest.fixture
def signed_in(client: Any, admin_user: Any, pool: dict[str, Any]) -> Any:
    client.force_login(admin_user)
    return client


@pytest.mark.parametrize("route", id_routes())
def test_route_ids_out_of_range_are_not_a_server_error(signed_in: Any, route: str) -> None:
    for bad in BAD_IDS:
        for path in _id_paths(route, bad):
            for method in ("get", "post", "patch", "put"):
                response = getattr(signed_in, method)(path, content_type="application/json", data={})
                assert response.status_code < 500, (method, path, response.status_code)
                if method == "get" and bad in (HUGE, OVER, UNDER):
                    # Not a stream cut short: the whole answer is there, and it is a refusal.
                    assert response.status_code in (301, 302, 400, 404, 405), (path, response.status_code)


# ---------------------------------------------------------------- every filter of every FilterSet


def _import_all() -> None:
    for module in pkgutil.walk_packages(needpool.__path__, "needpool."):
        if module.name.endswith((".filters", ".api", ".discovery")) or ".api." in module.name:
            importlib.import_module(module.name)


def filtersets() -> list[type[django_filters.FilterSet]]:
    _import_all()
    found: list[type[django_filters.FilterSet]] = []
    todo = list(django_filters.FilterSet.__subclasses__())
    while todo:
        cls = todo.pop()
        todo += cls.__subclasses__()
        if cls.__module__.startswith("needpool.") and cls._meta.model is not None:
            found.append(cls)
    return sorted(set(found), key=lambda c: f"{c.__module__}.{c.__qualname__}")


def _is_date(f: Any) -> bool:
    return isinstance(f, django_filters.DateFilter | django_filters.DateTimeFilter)


def filter_cases() -> list[tuple[type[django_filters.FilterSet], str]]:
    return [(fs, name) for fs in filtersets() for name in fs.base_filters]


def test_filtersets_are_found() -> None:
    names = {fs.__name__ for fs in filtersets()}
    assert {"RequirementFilter", "FeedbackFilter", "CustomerFilter", "ContactFilter", "ProjectFilter"} <= names


@pytest.mark.parametrize(("filterset", "name"), filter_cases(), ids=[f"{fs.__name__}.{n}" for fs, n in filter_cases()])
def test_every_filter_refuses_out_of_range_input_or_runs(pool: dict[str, Any], filterset: Any, name: str) -> None:
    flt = filterset.base_filters[name]
    values = BAD_DATES if _is_date(flt) else BAD_IDS
    for value in values:
        fs = filterset({name: value}, queryset=filterset._meta.model._default_manager.all())
        if fs.is_valid():
            list(fs.qs[:5])  # the database accepts what the form let through
            if _is_date(flt):
                pytest.fail(f"{filterset.__name__}.{name} accepted the date {value}")
        else:
            message = " ".join(str(m) for m in fs.errors.get(name, []))
            assert message and re.search(r"[\u4e00-\u9fff]", message), (name, value, fs.errors)


# ---------------------------------------------------------------- list pages and endpoints, by query string


def _query_names() -> list[str]:
    names = {name for fs, name in filter_cases() if not isinstance(fs.base_filters[name], django_filters.ChoiceFilter)}
    # Query-string ids the pages read without a FilterSet.
    return sorted(names | {"exclude", "feedback", "ids", "customer", "requirement", "survivor", "merged"})


# The OpenAPI document and its viewer read no query (and the document takes a second to build).
NO_QUERY = ("api/schema/", "api/docs/")


def list_routes() -> list[str]:
    """Routes without an id (their other parameters named), e.g. the lists and the exports."""
    return [r for r in routes() if not any(ID_PARAM.match(p) for p in _params(r)) and r not in NO_QUERY]


@pytest.mark.parametrize("route", list_routes())
def test_query_string_ids_and_dates_are_not_a_server_error(signed_in: Any, route: str) -> None:
    dates = {name for fs, name in filter_cases() if _is_date(fs.base_filters[name])}
    path = _fill(route, NAMED_PARAMS)
    for name in _query_names():
        bad = BAD_DATES[:1] if name in dates else [HUGE, UNDER]
        for value in bad:
            response = signed_in.get(path, {name: value})
            assert response.status_code < 500, (route, name, value, response.status_code)
            if response.status_code == 200 and response.streaming:
                b"".join(response.streaming_content)  # an export runs to its end
    for value in (HUGE, "²"):  # a form posting ids: every id-ish field at once
        form = dict.fromkeys([*_query_names(), "id", "remove", "index", "expected"], value)
        assert signed_in.post(path, form).status_code < 500, (route, value)


@given(value=st.integers(min_value=-(2**80), max_value=2**80))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_integer_as_a_requirement_id_is_refused_or_found(api: Any, admin_user: Any, value: int) -> None:
    client = api(admin_user)
    for path in (f"/api/v1/requirements/{value}/", f"/api/v1/requirements/?owner={value}&customer={value}"):
        assert client.get(path).status_code in (200, 400, 404)


@given(text=st.one_of(st.integers(min_value=-(2**70), max_value=2**70).map(str), st.text(max_size=25)))
@settings(max_examples=300)
def test_parse_id_takes_ascii_digits_in_range_and_nothing_else(text: str) -> None:
    from needpool.core.validation import ID_MAX, parse_id

    found = parse_id(text)
    if found is None:
        stripped = text.strip()
        assert not (stripped.isascii() and stripped.isdigit() and 1 <= int(stripped) <= ID_MAX)
    else:
        assert 1 <= found <= ID_MAX
        assert str(found) == text.strip().lstrip("0")


@given(day=st.dates())
@settings(max_examples=300)
def test_a_date_is_taken_only_within_the_one_range(day: dt.date) -> None:
    from needpool.core.validation import DATE_MAX, DATE_MIN, DateField

    inside = DATE_MIN <= day <= DATE_MAX
    try:
        DateField().run_validation(day.isoformat())
    except serializers.ValidationError as exc:
        assert not inside
        assert "1900-01-01" in str(exc.detail[0])
    else:
        assert inside
