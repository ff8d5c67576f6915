"""The delivery API keeps its OpenAPI contract with rows that exist: schemathesis generates requests for every
delivery operation, half of the ids swapped for an iteration, plan, task, acceptance or change request of the
test database, and every answer must be no server error and match the document."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

EXAMPLES = 12
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
BASE_URL = "http://testserver"
D = dt.date


def _document() -> dict[str, Any]:
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    generated = SchemaGenerator().get_schema(request=None, public=True)
    document = json.loads(OpenApiJsonRenderer().render(generated))
    document["paths"] = {p: v for p, v in document["paths"].items() if p.startswith("/api/v1/delivery/")}
    return document


schema = schemathesis.openapi.from_dict(_document())


@pytest.fixture
def world(users: dict[str, Any], requirement: Any, customer: Any) -> Iterator[dict[str, Any]]:
    from rest_framework.authtoken.models import Token

    from needpool.delivery import services

    admin = users["admin"]
    iteration = services.iteration_create(actor=admin, name="迭代", start_date=D(2024, 3, 1), end_date=D(2024, 4, 30))
    plan = services.plan_create(
        actor=admin,
        requirements=[requirement],
        title="计划",
        strategy="product_iteration",
        start_date=D(2024, 3, 1),
        end_date=D(2024, 4, 30),
        metric_name="使用率",
        target_value=30,
        unit="%",
    )
    task = services.task_create(actor=admin, plan=plan, title="PRD", start_date=D(2024, 3, 1), due_date=D(2024, 3, 5))
    acceptance = services.acceptance_record(actor=admin, requirement=requirement, accepted_by_user=admin, passed=True)
    change = services.change_request_create(actor=admin, requirement=requirement, what="改", why="因")
    ids = {
        "iterations": iteration.pk,
        "plans": plan.pk,
        "tasks": task.pk,
        "acceptances": acceptance.pk,
        "changes": change.pk,
    }
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield {"app": WSGIHandler(), "token": Token.objects.create(user=admin).key, "ids": ids}
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _existing_ids(case: Any, ids: dict[str, int]) -> None:
    segments = case.operation.path.strip("/").split("/")
    for at, segment in enumerate(segments):
        name = segment.strip("{}")
        if segment.startswith("{") and name in case.path_parameters and at:
            value = case.path_parameters[name]
            if isinstance(value, int) and value % 2 == 0 and segments[at - 1] in ids:
                case.path_parameters[name] = ids[segments[at - 1]]


def test_every_delivery_operation_is_fuzzed():
    assert len(list(schema.get_all_operations())) >= 17


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_delivery_api_keeps_its_contract(case: Any, world: dict[str, Any]) -> None:
    _existing_ids(case, world["ids"])
    response = case.call(app=world["app"], base_url=BASE_URL, headers={"Authorization": f"Token {world['token']}"})
    case.validate_response(response, checks=CHECKS)
