"""Analysis API helpers: the API clients and fixtures of tests/api, role groups, URLs, query counting."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import *  # noqa: F403  (api, other_sales, customer_b, pool, the throttle reset)
from tests.conftest import ALL_ROLES

#: Cap.ANALYSE
ANALYSTS = ["admin", "manager", "product_manager"]
NON_ANALYSTS = [r for r in ALL_ROLES if r not in ANALYSTS]
#: Cap.ESTIMATE
ESTIMATORS = [*ANALYSTS, "engineer"]
NON_ESTIMATORS = [r for r in ALL_ROLES if r not in ESTIMATORS]
#: Cap.COMPLIANCE_SIGN: the compliance role only, not even the superuser
NON_SIGNERS = [r for r in ALL_ROLES if r != "compliance"]
#: Cap.FEEDBACK_WRITE
FEEDBACK_WRITERS = ["admin", "manager", "product_manager", "sales", "service"]
NON_FEEDBACK_WRITERS = [r for r in ALL_ROLES if r not in FEEDBACK_WRITERS]


def req_url(requirement: Any, tail: str = "analysis/") -> str:
    return f"/api/v1/requirements/{requirement.pk}/{tail}"


def count_queries(client: Any, url: str, params: dict[str, Any] | None = None) -> tuple[int, Any]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {})
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries), response.json()


def assert_constant_queries(
    client: Any,
    url: str,
    add: Callable[[int], None],
    rows: Callable[[Any], int],
    *,
    small: int = 2,
    large: int = 7,
    params: dict[str, Any] | None = None,
) -> int:
    """Add ``small`` rows, count queries, add up to ``large``, count again: the counts must match."""
    add(small)
    few, body = count_queries(client, url, params)
    assert rows(body) >= small, body
    add(large - small)
    many, body = count_queries(client, url, params)
    assert rows(body) >= large, body
    assert many == few, f"{url}: {few} queries for {small} rows, {many} for {large}"
    return many
