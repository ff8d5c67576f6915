"""Options and statuses: read-only discovery of the keys the other endpoints take."""

from __future__ import annotations

import pytest

from needpool.requirements.models import ClassOption
from tests.conftest import ALL_ROLES


@pytest.mark.parametrize("role", ALL_ROLES)
def test_every_role_lists_options_and_statuses(api, users, role):
    client = api(users[role])
    options = client.get("/api/v1/options/")
    statuses = client.get("/api/v1/statuses/")
    assert options.status_code == 200 and statuses.status_code == 200
    assert {"function", "urgent", "latent"} <= {o["key"] for o in options.json()["results"]}
    assert [s["key"] for s in statuses.json()["results"]][:2] == ["new", "in_progress"]


@pytest.mark.parametrize("role", ALL_ROLES)
@pytest.mark.parametrize("url", ["/api/v1/options/", "/api/v1/statuses/"])
def test_discovery_is_read_only(api, users, role, url):
    assert api(users[role]).post(url, {"key": "x"}, format="json").status_code == 405


def test_options_filtered_by_dimension(api, users):
    client = api(users["viewer"])
    every = client.get("/api/v1/options/", {"page_size": 100}).json()
    assert every["count"] == ClassOption.objects.filter(is_active=True).count()
    urgency = client.get("/api/v1/options/", {"dimension": "urgency"}).json()["results"]
    assert [(o["key"], o["label"], o["sla_hours"]) for o in urgency] == [
        ("urgent", "紧急", 24),
        ("important", "重要", 72),
        ("normal", "一般", None),
    ]
    types = client.get("/api/v1/options/", {"dimension": "type"}).json()["results"]
    improvement = next(o for o in types if o["key"] == "function_improvement")
    assert improvement["parent"] == "function"
    assert {o["dimension"] for o in types} == {"type"}


def test_inactive_options_are_hidden(api, users):
    ClassOption.objects.filter(dimension="tag", key="price_inquiry").update(is_active=False)
    tags = api(users["viewer"]).get("/api/v1/options/", {"dimension": "tag"}).json()["results"]
    assert "price_inquiry" not in {o["key"] for o in tags}


def test_unknown_dimension_is_400(api, users):
    response = api(users["viewer"]).get("/api/v1/options/", {"dimension": "colour"})
    assert response.status_code == 400
    assert list(response.json()) == ["dimension"]


def test_labels_follow_the_language(api, users):
    client = api(users["viewer"])
    response = client.get("/api/v1/options/", {"dimension": "urgency"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.json()["results"][0]["label"] == "Urgent"
    assert response.json()["results"][0]["name"] == "紧急"


def test_statuses_of_the_active_flow_with_their_targets(api, users):
    body = api(users["viewer"]).get("/api/v1/statuses/").json()
    statuses = {s["key"]: s for s in body["results"]}
    assert [s["key"] for s in body["results"]][:5] == ["new", "in_progress", "testing", "launched", "closed"]
    assert statuses["new"]["is_initial"] is True
    assert statuses["new"]["label"] == "待处理"
    assert statuses["new"]["targets"] == ["in_progress", "deferred", "rejected"]
    assert statuses["closed"]["targets"] == []
    assert statuses["rejected"]["category"] == "rejected"


def test_statuses_follow_the_active_flow(api, users):
    from needpool.requirements.models import Workflow
    from needpool.requirements.services import workflow_activate

    workflow_activate(actor=users["admin"], workflow=Workflow.objects.get(key="reviewed"))
    keys = [s["key"] for s in api(users["viewer"]).get("/api/v1/statuses/").json()["results"]]
    assert keys[0] == "to_analyse"
    assert "in_review" in keys


def test_api_root_lists_the_resources(api, users):
    body = api(users["viewer"]).get("/api/v1/").json()
    assert set(body) == {
        "customers",
        "contacts",
        "interactions",
        "feedback",
        "requirements",
        "options",
        "statuses",
        "analysis/projects",
    }
