"""The suggestions API: per feedback item / interaction, accept / correct / reject, free text, training."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from needpool.core.models import BackgroundJob
from needpool.suggest.models import Outcome, Suggestion, SuggestModel
from tests.conftest import docs_client

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_feedback_suggestions(users, feedback, django_assert_max_num_queries):
    api = client_for(users["sales"])
    response = api.get(f"/api/v1/feedback/{feedback.pk}/suggestions/")
    assert response.status_code == 200
    rows = {(r["field"], r["value"]): r for r in response.json()}
    assert rows[("type", "price")]["label"] == "价格"
    assert rows[("type", "price")]["source"] == "rules" and rows[("type", "price")]["outcome"] == "pending"
    assert 0 < rows[("type", "price")]["confidence"] <= 1
    assert ("tag", "price_inquiry") in rows and ("sentiment", "negative") in rows
    with django_assert_max_num_queries(10):
        assert api.get(f"/api/v1/feedback/{feedback.pk}/suggestions/").status_code == 200


def test_accept_correct_reject(users, feedback):
    api = client_for(users["sales"])
    rows = {r["field"]: r for r in api.get(f"/api/v1/feedback/{feedback.pk}/suggestions/").json()}
    base = f"/api/v1/feedback/{feedback.pk}/suggestions"
    accepted = api.post(f"{base}/{rows['type']['id']}/accept/")
    assert accepted.status_code == 200 and accepted.json()["outcome"] == "accepted"
    corrected = api.post(f"{base}/{rows['sentiment']['id']}/correct/", {"value": "neutral"}, format="json")
    assert corrected.status_code == 200
    assert (corrected.json()["outcome"], corrected.json()["chosen"]) == ("corrected", "neutral")
    rejected = api.post(f"{base}/{rows['tag']['id']}/reject/")
    assert rejected.status_code == 200 and rejected.json()["outcome"] == "rejected"
    feedback.refresh_from_db()
    assert (feedback.type.key, feedback.sentiment, feedback.tags.count()) == ("price", "neutral", 0)
    again = api.post(f"{base}/{rows['type']['id']}/accept/")
    assert again.status_code == 400 and "已经处理" in str(again.json())


def test_bad_correction_is_400_with_nothing_written(users, feedback):
    api = client_for(users["sales"])
    row = next(r for r in api.get(f"/api/v1/feedback/{feedback.pk}/suggestions/").json() if r["field"] == "type")
    url = f"/api/v1/feedback/{feedback.pk}/suggestions/{row['id']}/correct/"
    assert api.post(url, {}, format="json").status_code == 400
    response = api.post(url, {"value": "nope"}, format="json")
    assert response.status_code == 400 and "value" in response.json()
    assert Suggestion.objects.get(pk=row["id"]).outcome == Outcome.PENDING


def test_not_found_and_forbidden(users, feedback, interaction, other_sales):
    rows = client_for(users["sales"]).get(f"/api/v1/feedback/{feedback.pk}/suggestions/").json()
    sid = rows[0]["id"]
    other = client_for(other_sales)
    assert other.get(f"/api/v1/feedback/{feedback.pk}/suggestions/").status_code == 404
    assert other.post(f"/api/v1/feedback/{feedback.pk}/suggestions/{sid}/accept/").status_code == 404
    assert other.get(f"/api/v1/interactions/{interaction.pk}/suggestions/").status_code == 404
    viewer = client_for(users["viewer"])
    assert viewer.get(f"/api/v1/feedback/{feedback.pk}/suggestions/").status_code == 200
    assert viewer.post(f"/api/v1/feedback/{feedback.pk}/suggestions/{sid}/accept/").status_code == 403
    # a suggestion of another object under this feedback's URL does not exist
    sales = client_for(users["sales"])
    mood = sales.get(f"/api/v1/interactions/{interaction.pk}/suggestions/").json()[0]["id"]
    assert sales.post(f"/api/v1/feedback/{feedback.pk}/suggestions/{mood}/accept/").status_code == 404
    assert APIClient().get(f"/api/v1/feedback/{feedback.pk}/suggestions/").status_code in (401, 403)
    feedback.refresh_from_db()
    assert feedback.type_id is None


def test_interaction_mood(users, interaction):
    api = client_for(users["service"])
    rows = api.get(f"/api/v1/interactions/{interaction.pk}/suggestions/").json()
    assert [(r["field"], r["value"], r["label"]) for r in rows] == [("mood", "dissatisfied", "不满")]
    response = api.post(
        f"/api/v1/interactions/{interaction.pk}/suggestions/{rows[0]['id']}/correct/",
        {"value": "neutral"},
        format="json",
    )
    assert response.status_code == 200
    interaction.refresh_from_db()
    assert interaction.mood == "neutral"


def test_text_endpoint(users):
    api = client_for(users["viewer"])
    response = api.post("/api/v1/suggest/", {"text": "希望支持批量导入客户，一个个录入太浪费时间"}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["type"]["value"] == "function" and body["type"]["label"] == "功能"
    assert {"bulk_operation", "efficiency"} <= {t["value"] for t in body["tags"]}
    assert body["sentiment"]["value"] in ("neutral", "negative")
    assert api.post("/api/v1/suggest/", {"text": "  "}, format="json").status_code == 400
    assert api.post("/api/v1/suggest/", {"text": "字" * 5001}, format="json").status_code == 400
    nothing = api.post("/api/v1/suggest/", {"text": "今天天气晴朗"}, format="json").json()
    assert nothing["type"] is None and nothing["tags"] == []


def test_train_and_models(users, classified_pool, django_capture_on_commit_callbacks):
    classified_pool()
    assert client_for(users["sales"]).post("/api/v1/suggest/train/").status_code == 403
    assert client_for(users["sales"]).get("/api/v1/suggest/models/").status_code == 403
    api = client_for(users["product_manager"])
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/suggest/train/")
    assert response.status_code == 202
    job = api.get(f"/api/v1/suggest/jobs/{response.json()['id']}/").json()
    assert job["status"] == BackgroundJob.Status.DONE and job["percent"] == 100
    models = api.get("/api/v1/suggest/models/").json()
    type_model = next(m for m in models if m["kind"] == "type")
    assert type_model["version"] == 1 and type_model["is_active"] and type_model["accuracy"] > 0.9
    assert type_model["samples"] == SuggestModel.objects.get(kind="type").samples
    assert client_for(users["sales"]).get(f"/api/v1/suggest/jobs/{job['id']}/").status_code == 404


def test_schema_lists_the_endpoints(db):
    paths = docs_client().get("/api/schema/", {"format": "json"}).json()["paths"]
    for path in (
        "/api/v1/feedback/{id}/suggestions/",
        "/api/v1/feedback/{id}/suggestions/{sid}/accept/",
        "/api/v1/feedback/{id}/suggestions/{sid}/correct/",
        "/api/v1/interactions/{id}/suggestions/{sid}/reject/",
        "/api/v1/suggest/",
        "/api/v1/suggest/train/",
    ):
        assert path in paths, path
