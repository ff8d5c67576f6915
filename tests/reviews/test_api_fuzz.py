"""The reviews operations keep their OpenAPI contract with rows behind the ids: schemathesis sends generated
requests (as a signed-in admin) to /api/v1/reviews/… with every other id swapped for a meeting or agenda item
that exists, so the operations run past their 404 (the shared fuzz test has no meeting)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from tests.core.test_schema_fuzz import BASE_URL, CHECKS, _existing_ids, schema

reviews_schema = schema.include(path_regex="^/api/v1/reviews/")


@pytest.fixture
def world(users: dict[str, Any], meeting: Any, requirement: Any) -> Iterator[dict[str, Any]]:
    from rest_framework.authtoken.models import Token

    from needpool.reviews.services import agenda_add

    item = agenda_add(actor=users["admin"], meeting=meeting, requirement_ids=[requirement.pk])[0]
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield {
            "app": WSGIHandler(),
            "token": Token.objects.create(user=users["admin"]).key,
            "ids": {"meetings": meeting.pk, "items": item.pk},
        }
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@reviews_schema.parametrize()
@settings(max_examples=15, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck), database=None)
def test_reviews_api_keeps_its_contract(case: Any, world: dict[str, Any]) -> None:
    _existing_ids(case, world["ids"])
    response = case.call(app=world["app"], base_url=BASE_URL, headers={"Authorization": f"Token {world['token']}"})
    case.validate_response(response, checks=CHECKS)
