"""Merge API: POST requirements/merge/, merges/<id>/undo/, <id>/merges/, watch / unwatch, merged detail → 307."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from needpool.requirements.merging.services import requirements_merge
from needpool.requirements.models import Requirement, RequirementMerge
from tests.conftest import docs_client
from tests.requirements.merging.conftest import state

MERGE = "/api/v1/requirements/merge/"


def _client(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def _body(pool, **extra):
    return {"survivor": pool.survivor.pk, "merged": [pool.dup_a.pk, pool.dup_b.pk], **extra}


def test_merge_returns_the_survivor(pool, users):
    response = _client(users["product_manager"]).post(MERGE, _body(pool, note="重复"), format="json")
    assert response.status_code == 200, response.json()
    data = response.json()
    assert data["id"] == pool.survivor.pk and data["merged_into"] is None
    assert {c["name"] for c in data["customers"]} == {"小客户", "大客户B", "C零售"}
    assert data["watchers_count"] == 2
    merge = RequirementMerge.objects.get()
    assert response["X-Merge-Id"] == str(merge.pk)
    assert Requirement.objects.get(pk=pool.dup_a.pk).merged_into_id == pool.survivor.pk


def test_merged_detail_redirects_and_list_leaves_it_out(pool, users):
    requirements_merge(
        actor=users["product_manager"], survivor_id=pool.survivor.pk, merged_ids=[pool.dup_a.pk, pool.dup_b.pk]
    )
    client = _client(users["viewer"])
    response = client.get(f"/api/v1/requirements/{pool.dup_a.pk}/")
    assert response.status_code == 307
    assert response["Location"].endswith(f"/api/v1/requirements/{pool.survivor.pk}/")
    assert response.json()["merged_into"] == pool.survivor.pk
    assert response.json()["detail"] == f"{pool.dup_a.code} 已合并到 {pool.survivor.code}"
    followed = client.get(response["Location"])
    assert followed.status_code == 200 and followed.json()["id"] == pool.survivor.pk
    listed = {r["id"] for r in client.get("/api/v1/requirements/", {"page_size": 100}).json()["results"]}
    assert pool.survivor.pk in listed and not listed & {pool.dup_a.pk, pool.dup_b.pk}


def test_list_query_count_with_watchers(pool, users, django_assert_max_num_queries):
    pool.other.watchers.add(users["viewer"], users["manager"])
    client = _client(users["product_manager"])
    with django_assert_max_num_queries(12):
        response = client.get("/api/v1/requirements/", {"page_size": 100})
    counts = {r["id"]: r["watchers_count"] for r in response.json()["results"]}
    assert counts[pool.other.pk] == 2 and counts[pool.dup_a.pk] == 2 and counts[pool.dup_b.pk] == 0


@pytest.mark.parametrize(
    ("role", "body", "status", "message"),
    [
        ("product_manager", {"merged": "self"}, 400, "不能把需求合并到它自己"),
        ("product_manager", {"merged": []}, 400, None),
        ("product_manager", {"merged": [999_999]}, 400, "不存在或您无权访问"),
        ("product_manager", {"note": "长" * 501}, 400, None),
        ("sales", {}, 400, "不存在或您无权访问"),  # sales cannot see dup_a / dup_b
        ("viewer", {}, 403, "您没有合并需求的权限"),
        ("engineer", {}, 403, None),
    ],
)
def test_merge_refusals_write_nothing(pool, users, role, body, status, message):
    if body.get("merged") == "self":
        body = {"merged": [pool.survivor.pk]}
    before = state()
    response = _client(users[role]).post(MERGE, _body(pool, **body), format="json")
    assert response.status_code == status, response.json()
    if message:
        assert message in str(response.json())
    assert state() == before


def test_merge_into_a_merged_requirement_is_refused(pool, users):
    client = _client(users["product_manager"])
    client.post(MERGE, {"survivor": pool.survivor.pk, "merged": [pool.dup_a.pk]}, format="json")
    before = state()
    response = client.post(MERGE, {"survivor": pool.dup_a.pk, "merged": [pool.dup_b.pk]}, format="json")
    assert response.status_code == 400
    assert "不能作为保留需求" in response.json()["survivor"][0]
    assert state() == before


def test_undo_and_merges_list(pool, users):
    merge = requirements_merge(
        actor=users["product_manager"], survivor_id=pool.survivor.pk, merged_ids=[pool.dup_a.pk, pool.dup_b.pk]
    )
    url = f"/api/v1/requirements/merges/{merge.pk}/undo/"
    assert _client(users["product_manager"]).post(url).status_code == 403
    assert _client(users["manager"]).post(url).status_code == 403
    listing = _client(users["viewer"]).get(f"/api/v1/requirements/{pool.survivor.pk}/merges/").json()
    assert listing["count"] == 1
    item = listing["results"][0]
    assert {m["code"] for m in item["merged"]} == {pool.dup_a.code, pool.dup_b.code}
    assert item["counts"]["feedback"] == 3 and item["counts"]["comments"] == 2 and item["undone_at"] is None

    response = _client(users["admin"]).post(url)
    assert response.status_code == 200
    assert response.json()["undone_at"] and response.json()["message"] == ""
    assert Requirement.objects.get(pk=pool.dup_a.pk).merged_into_id is None

    again = _client(users["admin"]).post(url)
    assert again.status_code == 400 and "不能重复撤销" in str(again.json())


def test_undo_reports_what_stayed(pool, users):
    from needpool.requirements.models import Feedback
    from needpool.requirements.services import feedback_link

    merge = requirements_merge(actor=users["product_manager"], survivor_id=pool.survivor.pk, merged_ids=[pool.dup_a.pk])
    moved = Feedback.objects.get(pk=merge.moved["feedback"][str(pool.dup_a.pk)][0])
    feedback_link(actor=users["product_manager"], feedback=moved, requirement=pool.other)
    response = _client(users["admin"]).post(f"/api/v1/requirements/merges/{merge.pk}/undo/")
    assert response.status_code == 200
    assert f"#{moved.pk}" in response.json()["message"]
    assert response.json()["moved"]["left"] == {"feedback": [moved.pk]}


def test_undo_and_merges_are_404_for_outsiders(pool, users, outsider):
    merge = requirements_merge(actor=users["product_manager"], survivor_id=pool.survivor.pk, merged_ids=[pool.dup_a.pk])
    client = _client(outsider)
    assert client.post(f"/api/v1/requirements/merges/{merge.pk}/undo/").status_code in (403, 404)
    assert client.get(f"/api/v1/requirements/{pool.survivor.pk}/merges/").status_code == 404


def test_watch_and_unwatch(pool, users, outsider):
    client = _client(users["viewer"])
    response = client.post(f"/api/v1/requirements/{pool.other.pk}/watch/")
    assert response.status_code == 200 and response.json() == {"watching": True, "watchers_count": 1}
    assert client.post(f"/api/v1/requirements/{pool.other.pk}/watch/").json()["watchers_count"] == 1
    response = client.post(f"/api/v1/requirements/{pool.other.pk}/unwatch/")
    assert response.json() == {"watching": False, "watchers_count": 0}
    assert _client(outsider).post(f"/api/v1/requirements/{pool.other.pk}/watch/").status_code == 404
    assert APIClient().post(f"/api/v1/requirements/{pool.other.pk}/watch/").status_code in (401, 403)


def test_schema_documents_the_merge_paths(db):
    paths = docs_client().get("/api/schema/", {"format": "json"}).json()["paths"]
    for path in (
        "/api/v1/requirements/merge/",
        "/api/v1/requirements/merges/{id}/undo/",
        "/api/v1/requirements/{id}/merges/",
        "/api/v1/requirements/{id}/watch/",
        "/api/v1/requirements/{id}/unwatch/",
    ):
        assert path in paths, path
    assert "307" in paths["/api/v1/requirements/{id}/"]["get"]["responses"]


def test_survivor_history_lists_the_merged_requirements_changes_with_their_code(pool, users):
    requirements_merge(
        actor=users["product_manager"], survivor_id=pool.survivor.pk, merged_ids=[pool.dup_a.pk, pool.dup_b.pk]
    )
    rows = _client(users["viewer"]).get(f"/api/v1/requirements/{pool.survivor.pk}/history/").json()["results"]
    codes = [r["requirement_code"] for r in rows]
    assert set(codes) == {pool.survivor.code, pool.dup_a.code, pool.dup_b.code}
    moved = next(r for r in rows if r["requirement_code"] == pool.dup_a.code and r["note"] == "已开始评估")
    assert moved["target"]["key"] == "in_progress"
    assert [r["at"] for r in rows] == sorted((r["at"] for r in rows), reverse=True)
