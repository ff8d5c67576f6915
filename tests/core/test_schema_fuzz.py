"""The API keeps its OpenAPI contract: schemathesis generates requests for every operation of the document
served at /api/schema/ and sends them, as a signed-in admin (token), to the WSGI application inside the test
database. Every answer must be no server error, with a status code, content type and body the document
describes. Half of the generated ids are swapped for rows that exist, so the operations run past their 404.

Bounded: EXAMPLES per operation (about a minute per database on two cores). Nothing is skipped: an
operation schemathesis cannot generate a request for fails the test.
"""

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

EXAMPLES = 10
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
BASE_URL = "http://testserver"


def _document() -> dict[str, Any]:
    """The document /api/schema/ serves (built without a request or the database, as at collection)."""
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    generated = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(generated))


schema = schemathesis.openapi.from_dict(_document())


def test_the_fuzzed_document_is_the_served_one(admin_client: Any) -> None:
    served = admin_client.get("/api/schema/", {"format": "json"})
    assert served.status_code == 200
    assert set(json.loads(served.content)["paths"]) == set(_document()["paths"])
    assert len(list(schema.get_all_operations())) >= 70


@pytest.fixture
def world(users: dict[str, Any], pool: dict[str, Any], customer: Any) -> Iterator[dict[str, Any]]:
    """Rows for the ids in paths, an admin's token, and the WSGI app serving inside the test transaction."""
    from rest_framework.authtoken.models import Token

    from needpool.analysis.services import project_create
    from needpool.customers.services import interaction_create
    from needpool.requirements.merging.services import requirements_merge
    from needpool.requirements.models import Feedback, RequirementMerge

    admin = users["admin"]
    interaction = interaction_create(
        actor=admin,
        customer=customer,
        occurred_at=dt.datetime(2024, 3, 1, 10, 0, tzinfo=dt.UTC),
        channel="visit",
        key_content="上门拜访",
        key_asks="批量导出报表\n按等级折扣",
    )
    project = project_create(
        actor=admin,
        name="折扣规则分析",
        goal="梳理批量折扣",
        leader=admin,
        start_date=dt.date(2024, 1, 1),
        end_date=dt.date(2024, 12, 31),
    )
    # A merge whose actor's account is gone: the record names no actor.
    merge = requirements_merge(actor=admin, survivor_id=pool["r2"].pk, merged_ids=[pool["r3"].pk])
    RequirementMerge.objects.filter(pk=merge.pk).update(actor=None)
    ids = {
        "requirements": pool["r1"].pk,
        "customers": customer.pk,
        "contacts": customer.contacts.first().pk,
        "interactions": interaction.pk,
        "feedback": Feedback.objects.order_by("pk").first().pk,
        "projects": project.pk,
        "merges": merge.pk,
    }
    # Django's test client keeps the test's transaction open by not closing connections around a request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield {"app": WSGIHandler(), "token": Token.objects.create(user=admin).key, "ids": ids}
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _existing_ids(case: Any, ids: dict[str, int]) -> None:
    """Swap every even generated id for a row that exists: the resource is the path segment before it."""
    segments = case.operation.path.strip("/").split("/")
    for at, segment in enumerate(segments):
        name = segment.strip("{}")
        if segment.startswith("{") and name in case.path_parameters and at:
            value = case.path_parameters[name]
            if isinstance(value, int) and value % 2 == 0 and segments[at - 1] in ids:
                case.path_parameters[name] = ids[segments[at - 1]]


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_api_keeps_its_contract(case: Any, world: dict[str, Any]) -> None:
    _existing_ids(case, world["ids"])
    response = case.call(app=world["app"], base_url=BASE_URL, headers={"Authorization": f"Token {world['token']}"})
    case.validate_response(response, checks=CHECKS)
