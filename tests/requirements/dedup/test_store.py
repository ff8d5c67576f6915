"""Stored embeddings: computed once, then loaded by every other process (and after a restart)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
from django.db import DatabaseError

from needpool.requirements.dedup import index as dedup
from needpool.requirements.models import Feedback, Requirement, RequirementEmbedding, StatusChange
from needpool.requirements.services import requirement_update

# Data written by the index's own threads (own connections) must be committed to be seen.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture(autouse=True)
def _empty_store() -> None:
    """Start from an empty store (other tests' lookups may have stored vectors of rows since rolled back)."""
    RequirementEmbedding.objects.all().delete()


@pytest.fixture
def encoded(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every requirement text the encoder is asked to embed (query texts are not counted)."""
    seen: list[str] = []
    queries: set[str] = set()
    original = dedup._Encoder.encode

    def encode(self: dedup._Encoder, texts: Sequence[str]) -> np.ndarray | None:
        seen.extend(t for t in texts if t not in queries)
        return original(self, texts)

    monkeypatch.setattr(dedup._Encoder, "encode", encode)
    seen_queries = dedup.DedupIndex.search_many

    def search_many(self: dedup.DedupIndex, texts: Sequence[str], limit: int) -> Any:
        queries.update(t[: dedup.EMBED_CHARS] for t in texts)
        return seen_queries(self, texts, limit)

    monkeypatch.setattr(dedup.DedupIndex, "search_many", search_many)
    return seen


@pytest.fixture(params=["small", "background"])
def path(request: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """Small indexes load and embed on the lookup; large ones in the background thread."""
    if request.param == "background":
        monkeypatch.setattr(dedup, "SYNC_EMBED_ROWS", 0)
        monkeypatch.setattr(dedup, "SMALL_INDEX", 0)
    return str(request.param)


def built(index: dedup.DedupIndex | None = None) -> dedup.DedupIndex:
    """An index as a freshly started process builds it, with its embeddings (loaded or computed)."""
    index = index or dedup.DedupIndex()
    index.ensure_fresh()
    assert index.wait_for_embeddings(timeout=120)
    return index


def stored() -> dict[int, tuple[int, bytes]]:
    rows = RequirementEmbedding.objects.values_list("pk", "text_hash", "vector")
    return {pk: (digest, bytes(v)) for pk, digest, v in rows}


def expected_hash(requirement: Requirement) -> int:
    requirement.refresh_from_db()
    return dedup.text_hash(dedup.embedded_text(requirement.title, requirement.description, requirement.concrete_ask))


def test_vectors_are_computed_once_and_another_process_loads_them(settings, path, users, pool, encoded):
    settings.NEEDPOOL_DEDUP_EMBEDDINGS = True
    first = built()
    assert len(encoded) == len(pool)
    rows = stored()
    assert set(rows) == {r.pk for r in pool.values()}
    assert all(digest == expected_hash(pool_row) for pool_row in pool.values() for digest in [rows[pool_row.pk][0]])
    assert all(len(vector) == 2 * dedup.EMBED_DIM for _d, vector in rows.values())

    encoded.clear()
    second = built()  # another worker, or the same one after a restart
    assert encoded == []
    assert second.main is not None and second.main.fully_embedded
    assert first.main is not None and first.main.embeddings is not None and second.main.embeddings is not None
    assert np.array_equal(first.main.embeddings, second.main.embeddings)
    assert second.search(pool["sso"].title, 5) == first.search(pool["sso"].title, 5)
    found = dedup.similar_requirements(user=users["manager"], text="能不能用企业微信账号直接登录")
    assert found[0].id == pool["sso"].pk
    assert encoded == []


def test_an_edited_requirement_gets_a_new_vector(settings, path, users, pool, encoded):
    settings.NEEDPOOL_DEDUP_EMBEDDINGS = True
    built()
    before = stored()[pool["stock"].pk]
    requirement_update(actor=users["sales"], requirement=pool["stock"], title="移动端支持扫码支付")
    encoded.clear()
    built()
    stock = pool["stock"]
    assert encoded == [dedup.embedded_text("移动端支持扫码支付", stock.description)]  # only the edited row
    after = stored()[pool["stock"].pk]
    assert after[0] == expected_hash(pool["stock"]) != before[0]
    assert after[1] != before[1]
    encoded.clear()
    built()
    assert encoded == []


def test_deleted_merged_and_damaged_rows_do_not_break_loading(settings, users, pool, encoded):
    settings.NEEDPOOL_DEDUP_EMBEDDINGS = True
    built()
    gone = pool["invoice"]
    Feedback.objects.filter(requirement=gone).delete()
    StatusChange.objects.filter(requirement=gone).delete()
    gone_pk = gone.pk
    gone.delete()  # its stored vector stays behind
    Requirement.objects.filter(pk=pool["export"].pk).update(merged_into=pool["discount"])
    RequirementEmbedding.objects.filter(pk=pool["sso"].pk).update(vector=b"\x00" * 10)  # wrong length
    assert gone_pk in stored()
    encoded.clear()
    index = built()
    assert encoded == [dedup.embedded_text(pool["sso"].title, pool["sso"].description)]  # only the damaged row
    assert index.main is not None and gone_pk not in index.main.ids.tolist()
    assert len(stored()[pool["sso"].pk][1]) == 2 * dedup.EMBED_DIM
    found = dedup.similar_requirements(user=users["manager"], text="能不能用企业微信账号直接登录")
    assert found[0].id == pool["sso"].pk


def test_the_background_pass_deletes_vectors_of_deleted_requirements(settings, users, pool, monkeypatch):
    settings.NEEDPOOL_DEDUP_EMBEDDINGS = True
    built()
    RequirementEmbedding.objects.create(requirement_id=10**9, text_hash=1, vector=b"\x00" * 1024)
    monkeypatch.setattr(dedup, "SYNC_EMBED_ROWS", 0)
    monkeypatch.setattr(dedup, "SMALL_INDEX", 0)
    RequirementEmbedding.objects.filter(pk=pool["sso"].pk).delete()  # one row to compute: a background pass
    built()
    assert set(stored()) == {r.pk for r in pool.values()}


def test_a_failing_store_or_load_leaves_the_lookup_working(settings, users, pool, monkeypatch, encoded):
    settings.NEEDPOOL_DEDUP_EMBEDDINGS = True

    def fail(*args: Any, **kwargs: Any) -> Any:
        raise DatabaseError("the database is away")

    monkeypatch.setattr(RequirementEmbedding.objects, "bulk_create", fail)
    monkeypatch.setattr(dedup, "load_vectors", fail)
    index = built()
    assert index.main is not None and index.main.fully_embedded
    assert RequirementEmbedding.objects.count() == 0
    found = dedup.similar_requirements(user=users["manager"], text="能不能用企业微信账号直接登录")
    assert found[0].id == pool["sso"].pk


def test_nothing_is_stored_or_read_when_embeddings_are_off(settings, users, pool):
    settings.NEEDPOOL_DEDUP_EMBEDDINGS = False
    RequirementEmbedding.objects.create(requirement_id=pool["sso"].pk, text_hash=1, vector=b"\x00" * 1024)
    index = built()
    assert index.main is not None and index.main.embeddings is None
    assert set(stored()) == {pool["sso"].pk}


def test_many_new_rows_are_embedded_in_the_background_and_the_api_says_so(
    settings, users, pool, encoded, monkeypatch, api
):
    """An import's new rows are not embedded on a lookup's path: meanwhile they are ranked by their words and the
    API's ranking header says "lexical"; once the background pass has them, "hybrid"."""
    import threading

    from needpool.requirements.services import NewRequirement, requirements_create_many

    settings.NEEDPOOL_DEDUP_EMBEDDINGS = True
    monkeypatch.setattr(dedup, "SMALL_INDEX", 0)  # the delta path of a large index
    monkeypatch.setattr(dedup, "SYNC_EMBED_ROWS", 2)
    built(dedup.get_index())
    go = threading.Event()
    fill = dedup.DedupIndex._fill

    def held(self: dedup.DedupIndex, segment: Any) -> None:
        go.wait(60)
        fill(self, segment)

    monkeypatch.setattr(dedup.DedupIndex, "_fill", held)
    texts = ["移动端扫码签到", "合同到期自动提醒", "报表按部门汇总", "客户生日短信祝福"]
    made = requirements_create_many(
        actor=users["sales"], drafts=[NewRequirement(title=t, description=t + "，客户提出。") for t in texts]
    )
    encoded.clear()
    client = api(users["manager"])
    answer = client.get("/api/v1/requirements/similar/", {"text": "合同快到期时提醒销售"})
    assert answer.status_code == 200
    assert answer["X-Needpool-Ranking"] == "lexical"
    assert encoded == []  # nothing of the new rows computed on the lookup's path
    assert made[1].pk in [row["id"] for row in answer.json()]  # found by its words meanwhile
    go.set()
    assert dedup.get_index().wait_for_embeddings(timeout=120)
    assert sorted(encoded) == sorted(dedup.embedded_text(t, t + "，客户提出。") for t in texts)
    assert client.get("/api/v1/requirements/similar/", {"text": "合同快到期"})["X-Needpool-Ranking"] == "hybrid"


def test_the_job_after_an_import_stores_the_new_rows_vectors(settings, users, pool, encoded):
    """``dedup_embeddings_job`` (queued when an import created requirements) computes and stores what is missing,
    so the web processes load the vectors instead of computing them."""
    from needpool.requirements.tasks import dedup_embeddings_job

    settings.NEEDPOOL_DEDUP_EMBEDDINGS = True
    assert not stored()
    assert dedup_embeddings_job.call_local()
    assert set(stored()) == {r.pk for r in pool.values()}
    encoded.clear()
    dedup.reset_index()
    built(dedup.get_index())
    assert encoded == []


def test_an_import_that_created_requirements_queues_the_embeddings(monkeypatch):
    from needpool.core.models import BackgroundJob
    from needpool.intake.transfer import tasks

    calls: list[int] = []
    job = BackgroundJob(status=BackgroundJob.Status.DONE, total=3, params={"result": {"counts": {"create": 3}}})
    monkeypatch.setattr(tasks, "import_run", lambda job_id: job)
    monkeypatch.setattr(tasks, "dedup_embeddings_job", lambda: calls.append(1))
    tasks.import_run_job.call_local(1)
    job.params = {"result": {"counts": {"create": 0, "update": 3}}}
    tasks.import_run_job.call_local(1)
    assert calls == [1]
