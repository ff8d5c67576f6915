"""The analysis endpoints are in the OpenAPI document, typed, and the document stays warning-free."""

from __future__ import annotations

from tests.conftest import docs_client

PATHS = {
    "/api/v1/requirements/{id}/analysis/": {"get", "patch"},
    "/api/v1/requirements/{id}/analysis/override/": {"post"},
    "/api/v1/requirements/{id}/analysis/feasibility/": {"put"},
    "/api/v1/requirements/{id}/analysis/compliance/": {"post"},
    "/api/v1/requirements/{id}/whys/": {"get", "put"},
    "/api/v1/requirements/{id}/fishbone/": {"get", "put"},
    "/api/v1/requirements/{id}/demand/": {"get"},
    "/api/v1/requirements/{id}/kano/": {"get", "put"},
    "/api/v1/requirements/{id}/kano/answers/": {"post"},
    "/api/v1/analysis/settings/": {"get", "patch"},
    "/api/v1/analysis/jobs/{id}/": {"get"},
    "/api/v1/analysis/ranked/": {"get"},
    "/api/v1/analysis/matrix/": {"get"},
    "/api/v1/analysis/demand/": {"get"},
    "/api/v1/analysis/projects/": {"get", "post"},
    "/api/v1/analysis/projects/{id}/": {"get", "put", "patch"},
    "/api/v1/analysis/projects/{id}/requirements/": {"get"},
    "/api/v1/analysis/projects/{id}/summary/": {"get"},
}


def schema():
    response = docs_client().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def test_every_analysis_route_is_documented_with_its_methods_only(db):
    paths = schema()["paths"]
    for path, methods in PATHS.items():
        assert path in paths, path
        assert set(paths[path]) - {"parameters"} == methods, path


def test_ranked_lists_are_paginated_and_filtered(db):
    doc = schema()
    ranked = doc["paths"]["/api/v1/analysis/ranked/"]["get"]
    names = {p["name"] for p in ranked["parameters"]}
    assert {"page", "page_size", "q", "priority", "customer", "status", "tag"} <= names
    ref = ranked["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert ref.endswith("/PaginatedRankedList")
    project_rows = doc["paths"]["/api/v1/analysis/projects/{id}/requirements/"]["get"]
    assert {p["name"] for p in project_rows["parameters"]} >= {"page", "page_size"}


def test_enums_are_named_once(db):
    components = schema()["components"]["schemas"]
    assert components["PriorityEnum"]["enum"] == ["P0", "P1", "P2", "P3"]
    assert components["FishboneCategoryEnum"]["enum"][:5] == ["people", "machine", "material", "method", "environment"]
    assert components["KanoAnswerEnum"]["enum"] == ["like", "must_be", "neutral", "live_with", "dislike"]
    assert components["ComplianceDecisionEnum"]["enum"] == ["approved", "rejected"]
    assert components["CategoryEnum"]["enum"][0] == "new"  # the workflow's category keeps its name
    analysis = components["Analysis"]["properties"]
    assert analysis["computed_priority"]["oneOf"][0]["$ref"].endswith("/PriorityEnum")


def test_api_root_lists_projects(api, users):
    assert "analysis/projects" in api(users["viewer"]).get("/api/v1/").json()
