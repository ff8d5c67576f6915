"""The priority model settings and the recompute job over the API."""

from __future__ import annotations

import pytest

from needpool.analysis import services
from needpool.analysis.models import AnalysisSettings
from needpool.core.models import AuditEntry, BackgroundJob
from tests.analysis.api.conftest import ANALYSTS, NON_ANALYSTS, req_url
from tests.conftest import ALL_ROLES

SETTINGS = "/api/v1/analysis/settings/"


def job_url(pk):
    return f"/api/v1/analysis/jobs/{pk}/"


@pytest.fixture
def scored(api, users, requirement):
    """The fixture requirement scored P0 on the default urgency × importance matrix."""
    body = api(users["product_manager"]).patch(
        req_url(requirement), {"urgency_score": 5, "importance_score": 5}, format="json"
    )
    assert body.json()["priority"] == "P0"
    return requirement


@pytest.mark.parametrize("role", ALL_ROLES)
def test_every_role_reads_the_settings(api, users, role):
    response = api(users[role]).get(SETTINGS)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["active_model"] == "matrix"
    assert body["active_model_label"] == "紧急 × 重要矩阵"
    assert body["matrix_cutoff"] == 3
    assert [c["key"] for c in body["criteria"]] == ["customer_value", "strategic_fit", "revenue", "risk"]
    assert body["require_whys_for_review"] is True
    assert body["job"] is None


@pytest.mark.parametrize("role", ANALYSTS)
def test_analysts_switch_the_model_and_priorities_follow(api, users, scored, role):
    client = api(users[role])
    response = client.patch(SETTINGS, {"active_model": "value_cost"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["active_model"] == "value_cost"
    assert body["version"] == 2
    assert body["job"] is None  # a small pool is recomputed inline
    analysis = client.get(req_url(scored)).json()
    assert analysis["computed_model"] == "value_cost"
    assert analysis["computed_priority"] == ""
    assert analysis["computed_error"].startswith("value")
    scored.refresh_from_db()
    assert scored.priority == ""


def test_weights_and_thresholds_round_trip(api, users, scored):
    client = api(users["manager"])
    payload = {
        "active_model": "weighted",
        "criteria": [{"key": "revenue", "label": "收入", "weight": 60}, {"key": "risk", "weight": 40}],
        "thresholds": {"weighted": [80, 60, 20]},
        "weights_3d": {"importance": 50, "urgency": 30, "cost": 20},
    }
    body = client.patch(SETTINGS, payload, format="json").json()
    assert body["criteria"] == [
        {"key": "revenue", "label": "收入", "weight": 60.0},
        {"key": "risk", "label": "risk", "weight": 40.0},
    ]
    assert body["thresholds"] == {"weighted": [80.0, 60.0, 20.0]}
    assert body["weights_3d"] == {"importance": 50.0, "urgency": 30.0, "cost": 20.0}
    analysis = client.patch(req_url(scored), {"criteria_scores": {"revenue": 10, "risk": 5}}, format="json").json()
    assert analysis["computed_score"] == 80.0
    assert analysis["computed_priority"] == "P0"
    assert analysis["computed_parts"] == {"revenue": 60.0, "risk": 20.0}


@pytest.mark.parametrize("role", NON_ANALYSTS)
def test_other_roles_may_not_change_the_model(api, users, role):
    audits = AuditEntry.objects.count()
    response = api(users[role]).patch(SETTINGS, {"active_model": "rice"}, format="json")
    assert response.status_code == 403, response.content
    assert services.analysis_settings().active_model == "matrix"
    assert AuditEntry.objects.count() == audits


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"criteria": [{"key": "a", "weight": 0}, {"key": "b", "weight": 0}]}, "criteria"),
        ({"criteria": [{"key": "a", "weight": -5}, {"key": "b", "weight": 10}]}, "criteria"),
        ({"criteria": [{"key": "a", "weight": 1}, {"key": "a", "weight": 1}]}, "criteria"),
        ({"criteria": [{"key": "a", "weight": "重"}]}, "criteria"),
        ({"weights_3d": {"importance": 0, "urgency": 0, "cost": 0}}, "weights_3d"),
        ({"weights_3d": {"speed": 1}}, "weights_3d"),
        ({"matrix_cutoff": 9}, "matrix_cutoff"),
        ({"active_model": "magic"}, "active_model"),
        ({"thresholds": {"rice": [10, 30, 100]}}, "thresholds"),
        ({"thresholds": {"matrix": [3, 2, 1]}}, "thresholds"),
        ({"version": 7}, "version"),
    ],
)
def test_bad_settings_are_400_naming_the_field_and_write_nothing(api, users, scored, payload, field):
    audits = AuditEntry.objects.count()
    before = AnalysisSettings.objects.values().get()
    response = api(users["product_manager"]).patch(SETTINGS, payload, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert AnalysisSettings.objects.values().get() == before
    assert AuditEntry.objects.count() == audits


def test_zero_weights_message(api, users):
    response = api(users["product_manager"]).patch(SETTINGS, {"criteria": [{"key": "a", "weight": 0}]}, format="json")
    assert response.json() == {"criteria": ["权重不能为负，且总和必须大于 0。"]}


def test_big_pool_change_queues_a_job_that_finishes(
    api, users, scored, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(services.settings, "INLINE_RECOMPUTE_LIMIT", 0)
    client = api(users["product_manager"])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.patch(SETTINGS, {"active_model": "moscow"}, format="json")
    assert response.status_code == 200, response.content
    # One job queued (the notification of the priorities it changed is dispatched after commit too).
    assert len([c for c in callbacks if c.__module__ != "needpool.notify.services"]) == 1
    job = response.json()["job"]
    assert job["kind"] == "priority_recompute"
    assert job["status"] == "queued"
    assert job["total"] == 1
    assert job["percent"] == 0
    assert job["url"] == f"http://testserver{job_url(job['id'])}"

    done = client.get(job_url(job["id"])).json()
    assert done["status"] == "done"
    assert done["done"] == done["total"] == 1
    assert done["percent"] == 100
    assert done["finished_at"]
    assert client.get(req_url(scored)).json()["computed_model"] == "moscow"
    scored.refresh_from_db()
    assert scored.priority == ""


def test_settings_show_an_unfinished_job(api, users):
    job = BackgroundJob.objects.create(kind="priority_recompute", total=10, done=4, created_by=users["manager"])
    body = api(users["product_manager"]).get(SETTINGS).json()
    assert body["job"]["id"] == job.pk
    assert body["job"]["percent"] == 40
    assert api(users["viewer"]).get(SETTINGS).json()["job"] is None


@pytest.mark.parametrize(("role", "code"), [(r, 200) for r in ANALYSTS] + [(r, 404) for r in NON_ANALYSTS])
def test_job_is_for_its_creator_and_analysts(api, users, make_user, role, code):
    creator = make_user("engineer", username="job-creator")
    job = BackgroundJob.objects.create(kind="priority_recompute", total=5, created_by=creator)
    assert api(users[role]).get(job_url(job.pk)).status_code == code
    assert api(creator).get(job_url(job.pk)).status_code == 200


def test_other_kinds_of_job_and_unknown_jobs_are_404(api, users):
    other = BackgroundJob.objects.create(kind="import", total=5, created_by=users["manager"])
    client = api(users["manager"])
    assert client.get(job_url(other.pk)).status_code == 404
    assert client.get(job_url(other.pk + 100)).status_code == 404
