"""Reviews over the API: meetings, ETag / If-Match, agenda, decide (409 when stale), minutes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from needpool.reviews import services
from needpool.reviews.models import AgendaItem, ReviewMeeting

pytestmark = pytest.mark.django_db

BASE = "/api/v1/reviews"


def _body(pm, **extra):
    start = timezone.now() + dt.timedelta(days=5)
    return {
        "title": "API 评审",
        "starts_at": start.isoformat(),
        "ends_at": (start + dt.timedelta(hours=1)).isoformat(),
        "place": "线上",
        "link": "https://meet.example.com/abc",
        "chair": pm.pk,
        **extra,
    }


def test_create_list_retrieve_update(api, pm, users):
    client = api(pm)
    response = client.post(
        f"{BASE}/meetings/", _body(pm, attendees=[{"user": users["engineer"].pk, "role": "rd"}]), format="json"
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["attendees"][0]["role"] == "rd" and data["items"] == [] and response["ETag"] == 'W/"1"'
    url = f"{BASE}/meetings/{data['id']}/"
    listing = client.get(f"{BASE}/meetings/").json()
    assert listing["count"] == 1 and listing["results"][0]["title"] == "API 评审"
    assert client.get(url)["ETag"] == 'W/"1"'
    response = client.patch(url, {"title": "改名"}, format="json", HTTP_IF_MATCH='W/"1"')
    assert response.status_code == 200 and response.json()["title"] == "改名" and response["ETag"] == 'W/"2"'
    stale = client.patch(url, {"title": "过期"}, format="json", HTTP_IF_MATCH='W/"1"')
    assert stale.status_code == 412 and stale.json()["version"] == 2
    response = client.patch(url, {"attendees": [{"user": users["manager"].pk, "role": "product"}]}, format="json")
    assert [a["user"] for a in response.json()["attendees"]] == [users["manager"].pk]


def test_bad_input_is_400_and_nothing_written(api, pm, users):
    client = api(pm)
    cases = [
        _body(pm, title=""),
        _body(pm, chair=users["sales"].pk),
        _body(pm, ends_at="2000-01-01T00:00:00Z"),
        _body(pm, starts_at="1800-01-01T00:00:00Z"),
        _body(pm, link="javascript:alert(1)"),
        _body(pm, chair=2**63),
        _body(pm, attendees=[{"user": 999999}]),
        _body(pm, surprise=1),
    ]
    for body in cases:
        assert client.post(f"{BASE}/meetings/", body, format="json").status_code == 400, body
    assert not ReviewMeeting.objects.exists()


def test_permissions(api, pm, users, meeting, outsider):
    assert api(users["sales"]).post(f"{BASE}/meetings/", _body(pm), format="json").status_code == 403
    assert api(users["sales"]).get(f"{BASE}/meetings/{meeting.pk}/").status_code == 200  # an attendee
    assert api(outsider).get(f"{BASE}/meetings/{meeting.pk}/").status_code == 404
    assert (
        api(users["engineer"]).patch(f"{BASE}/meetings/{meeting.pk}/", {"title": "x"}, format="json").status_code == 403
    )
    assert api(None).get(f"{BASE}/meetings/").status_code in (401, 403)


def test_agenda_decide_and_minutes(api, pm, users, meeting, make_requirement, customer_b):
    a, b = make_requirement("甲"), make_requirement("乙")
    hidden = make_requirement("丙", customer=customer_b, actor=pm)
    client = api(pm)
    response = client.post(
        f"{BASE}/meetings/{meeting.pk}/agenda/", {"requirements": [a.pk, b.pk, hidden.pk]}, format="json"
    )
    assert response.status_code == 200 and len(response.json()) == 3
    bad = client.post(f"{BASE}/meetings/{meeting.pk}/agenda/", {"requirements": [999999]}, format="json")
    assert bad.status_code == 400 and "不存在或您无权查看" in str(bad.json())
    # A sales attendee reads the meeting with only the items they may see.
    seen = api(users["sales"]).get(f"{BASE}/meetings/{meeting.pk}/").json()
    assert sorted(i["requirement"] for i in seen["items"]) == sorted([a.pk, b.pk])
    item = AgendaItem.objects.get(meeting=meeting, requirement=a)
    url = f"{BASE}/items/{item.pk}/decide/"
    missing = client.post(url, {"decision": "rejected"}, format="json")
    assert missing.status_code == 400 and "note" in missing.json()
    assert client.post(url, {"decision": "pending"}, format="json").status_code == 400
    done = client.post(url, {"decision": "rejected", "note": "不做", "version": 1}, format="json")
    assert done.status_code == 200 and done.json()["decision"] == "rejected"
    assert done.json()["requirement_status"] == "rejected"
    conflict = client.post(url, {"decision": "accepted", "version": 1}, format="json")
    assert (
        conflict.status_code == 409 and conflict.json()["version"] == 2 and "已被他人处理" in conflict.json()["detail"]
    )
    assert api(users["engineer"]).post(url, {"decision": "accepted"}, format="json").status_code == 403
    minutes = f"{BASE}/meetings/{meeting.pk}/minutes/"
    read = client.get(minutes)
    assert read.status_code == 200 and len(read.json()["agenda"]) == 3
    tag = read["ETag"]
    body = {"solution": "方案 A", "items": [{"id": item.pk, "owner": users["engineer"].pk, "due_date": "2026-07-01"}]}
    saved = client.put(minutes, body, format="json", HTTP_IF_MATCH=tag)
    assert saved.status_code == 200 and saved.json()["solution"] == "方案 A"
    assert client.put(minutes, {"summary": "x"}, format="json", HTTP_IF_MATCH=tag).status_code == 412
    assert client.put(minutes, {"items": [{"id": 123456}]}, format="json").status_code == 400
    item.refresh_from_db()
    assert item.owner == users["engineer"] and item.due_date == dt.date(2026, 7, 1)


def test_list_query_count_is_bounded(api, pm, make_meeting, django_assert_max_num_queries, users):
    for i in range(12):
        make_meeting(title=f"会{i}")
    client = api(pm)
    with django_assert_max_num_queries(8):
        response = client.get(f"{BASE}/meetings/")
    assert response.json()["count"] == 12


def test_decide_through_the_gate(api, pm, meeting, in_review, reviewed_flow):
    from needpool.requirements.models import WorkflowStatus

    WorkflowStatus.objects.filter(workflow=reviewed_flow, key="developing").update(entry_gates=["review_accepted"])
    item = services.agenda_add(actor=pm, meeting=meeting, requirement_ids=[in_review.pk])[0]
    refused = api(pm).post(f"/api/v1/requirements/{in_review.pk}/transition/", {"to": "developing"}, format="json")
    assert refused.status_code == 400 and "需经评审通过" in str(refused.json())
    done = api(pm).post(f"{BASE}/items/{item.pk}/decide/", {"decision": "accepted"}, format="json")
    assert done.status_code == 200 and done.json()["requirement_status"] == "developing"
