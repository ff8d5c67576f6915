"""Every notification endpoint answers OPTIONS (API clients and the schema checks ask it) without an error."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/notify/preferences/",
        "/api/v1/notifications/",
        "/api/v1/notifications/unread-count/",
        "/api/v1/notifications/mark-read/",
    ],
)
def test_options_describes_the_endpoint(api: Any, users: Any, path: str) -> None:
    response = api(users["sales"]).options(path)
    assert response.status_code == 200, response.content
    assert response.json()["name"]
