"""The loop API: notices (read), release notes, NPS campaigns and results, CSAT results."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from needpool.loop import services
from needpool.loop.models import NpsCampaign, ReleaseNote, SurveyInvitation

pytestmark = pytest.mark.django_db


@pytest.fixture
def closed(asked: Any, move: Any) -> Any:
    return move(asked, "in_progress", "testing", "launched", "closed")


def test_notices_are_scoped(api: Any, users: Any, outsider: Any, closed: Any) -> None:
    rows = api(users["sales"]).get("/api/v1/loop/notices/").json()["results"]
    assert {r["event"] for r in rows} == {"launched", "closed"} and rows[0]["requirement_code"] == closed.code
    assert api(outsider).get("/api/v1/loop/notices/").json()["results"] == []
    assert api(outsider).get(f"/api/v1/loop/notices/{rows[0]['id']}/").status_code == 404
    assert api(None).get("/api/v1/loop/notices/").status_code in (401, 403)
    assert api(users["sales"]).post("/api/v1/loop/notices/", {}).status_code == 405


def test_release_notes_edit_and_publish(api: Any, users: Any, closed: Any) -> None:
    note = ReleaseNote.objects.get(requirement=closed)
    client = api(users["product_manager"])
    url = f"/api/v1/loop/release-notes/{note.pk}/"
    assert client.patch(url, {"title": ""}, format="json").status_code == 400
    assert client.patch(url, {"nope": 1}, format="json").status_code == 400
    edited = client.patch(url, {"title": "批量折扣上线", "version": note.version}, format="json")
    assert edited.status_code == 200 and edited.json()["title"] == "批量折扣上线"
    assert client.patch(url, {"title": "旧版本", "version": note.version}, format="json").status_code in (400, 412)
    published = client.post(url + "publish/", {"publish": True}, format="json")
    assert published.status_code == 200 and published.json()["published_at"]
    assert api(users["sales"]).get("/api/v1/loop/release-notes/").status_code == 403
    assert api(users["sales"]).patch(url, {"title": "x"}, format="json").status_code == 403
    created = client.post("/api/v1/loop/release-notes/", {"title": "季度更新", "body": "多项改进"}, format="json")
    assert created.status_code == 201 and created.json()["published_at"] is None


def test_campaign_create_start_and_results(
    api: Any, users: Any, customer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    customer.segment = "high_value"
    customer.save(update_fields=["segment"])
    client = api(users["manager"])
    assert (
        client.post("/api/v1/loop/nps-campaigns/", {"name": "x", "segments": ["vip"]}, format="json").status_code == 400
    )
    made = client.post("/api/v1/loop/nps-campaigns/", {"name": "Q2 NPS", "segments": ["high_value"]}, format="json")
    assert made.status_code == 201, made.json()
    pk = made.json()["id"]
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(f"/api/v1/loop/nps-campaigns/{pk}/start/")
    assert started.status_code == 200
    assert client.post(f"/api/v1/loop/nps-campaigns/{pk}/start/").status_code == 400
    invitation = SurveyInvitation.objects.get(campaign_id=pk)
    services.survey_answer(invitation=invitation, score=3, comment="一般")
    results = client.get(f"/api/v1/loop/nps-campaigns/{pk}/results/").json()
    assert results["nps"] == -100.0 and results["detractors"] == 1 and results["comments"][0]["comment"] == "一般"
    assert api(users["sales"]).get(f"/api/v1/loop/nps-campaigns/{pk}/results/").status_code == 403
    assert NpsCampaign.objects.count() == 1


def test_csat_results(api: Any, users: Any, outsider: Any, closed: Any) -> None:
    SurveyInvitation.objects.filter(requirement=closed).update(score=4)
    rows = api(users["sales"]).get("/api/v1/loop/csat/").json()["results"]
    assert rows == [
        {
            "id": closed.pk,
            "code": closed.code,
            "title": closed.title,
            "invited": 1,
            "answered": 1,
            "satisfied_percent": 100,
            "average": 4.0,
        }
    ]
    assert api(outsider).get(f"/api/v1/loop/csat/{closed.pk}/").status_code == 404


def test_api_lists_have_bounded_queries(
    api: Any, users: Any, make_asked: Any, customer: Any, contact: Any, move: Any
) -> None:
    client = api(users["manager"])

    def count(url: str) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    move(make_asked(customer, contact, title="一"), "in_progress", "testing", "launched", "closed")
    services.nps_campaign_create(actor=users["manager"], name="NPS 0")
    urls = ["/api/v1/loop/notices/", "/api/v1/loop/csat/", "/api/v1/loop/release-notes/", "/api/v1/loop/nps-campaigns/"]
    before = {u: count(u) for u in urls}
    for i in range(3):
        move(make_asked(customer, contact, title=f"二{i}"), "in_progress", "testing", "launched", "closed")
        services.nps_campaign_create(actor=users["manager"], name=f"NPS {i}")
    assert {u: count(u) for u in urls} == before
