"""The main segment of a large index on disk: written once, mapped by the next process, caught up, never trusted
blindly (another database, a restored one, a damaged file)."""

from __future__ import annotations

import datetime as dt
import threading
import time

import numpy as np
import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from needpool.requirements.dedup import index as dedup
from needpool.requirements.dedup import snapshot
from needpool.requirements.models import Requirement

pytestmark = pytest.mark.django_db

QUERIES = ["批量订单折扣", "导出Excel", "企业微信登录", "库存预警补货", "电子发票", "合同到期提醒", "供应商对账"]
TEXTS = [
    "合同到期前一个月提醒续签",
    "供应商门户在线对账",
    "订单导出成PDF文件",
    "库存低于安全线时短信提醒",
    "按部门统计发票金额",
    "钉钉扫码登录后台",
]


@pytest.fixture
def on_disk(settings, tmp_path, monkeypatch):
    """Snapshots for any index of at least 3 rows, in a data directory of the test's own; refreshes go through
    the delta (as in a large pool) and look at the database on every lookup."""
    settings.DATA_DIR = tmp_path
    settings.NEEDPOOL_DEDUP_SNAPSHOT_MIN_ROWS = 3
    settings.NEEDPOOL_DEDUP_EMBEDDINGS = False
    monkeypatch.setattr(dedup, "SMALL_INDEX", 0)
    monkeypatch.setattr(dedup, "RECHECK_SECONDS", 0.0)
    return tmp_path


def _fresh() -> dedup.DedupIndex:
    dedup.reset_index()
    index = dedup.get_index()
    index.ensure_fresh()
    return index


def _results(index: dedup.DedupIndex) -> list[list[tuple[int, float]]]:
    return index.search_many(QUERIES + TEXTS, 10)


def test_a_large_index_is_written_once_and_mapped_by_the_next_process(users, pool, on_disk):
    built = _fresh()
    assert (built.builds, built.loads) == (1, 0)
    assert list((on_disk / "cache" / "dedup").glob("*.current"))
    mapped = _fresh()
    assert (mapped.builds, mapped.loads) == (0, 1)
    assert mapped.main is not None and isinstance(mapped.main.rows, np.memmap)  # shared, read-only pages
    assert _results(mapped) == _results(built)
    assert _results(mapped)[0][0][0] == pool["discount"].pk


def test_snapshots_below_the_threshold_or_switched_off_are_neither_written_nor_read(users, pool, on_disk, settings):
    settings.NEEDPOOL_DEDUP_SNAPSHOT_MIN_ROWS = 100
    assert _fresh().builds == 1
    assert not list((on_disk / "cache" / "dedup").glob("*.current"))
    settings.NEEDPOOL_DEDUP_SNAPSHOT_MIN_ROWS = 3
    _fresh()
    settings.NEEDPOOL_DEDUP_SNAPSHOT_MIN_ROWS = 0  # off: an existing snapshot is not read either
    assert (_fresh().builds, dedup.get_index().loads) == (1, 0)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    changes=st.lists(
        st.tuples(st.sampled_from(["create", "edit", "delete"]), st.integers(0, 40), st.sampled_from(TEXTS)),
        max_size=6,
    )
)
def test_a_mapped_snapshot_caught_up_answers_as_the_index_that_stayed_in_memory(users, pool, on_disk, changes):
    """Rows created, edited and deleted after the snapshot: mapping it and catching up gives exactly what the
    process that built it and refreshed since gives."""
    snapshot.forget()
    kept = _fresh()
    status = pool["sso"].status
    for action, pick, text in changes:
        rows = list(Requirement.objects.order_by("id").values_list("id", flat=True))
        target = rows[pick % len(rows)]
        if action == "create":
            Requirement.objects.bulk_create(
                [
                    Requirement(
                        code=f"S{time.monotonic_ns() % 10**9}",
                        title=text,
                        status=status,
                        submitted_at=timezone.now(),
                    )
                ]
            )
        elif action == "edit":
            Requirement.objects.filter(pk=target).update(title=text, updated_at=timezone.now())
        elif len(rows) > 3 and not Requirement.objects.get(pk=target).feedback_items.exists():
            Requirement.objects.filter(pk=target).delete()
    dedup.index_changed()
    expected = _results(kept)
    mapped = _fresh()
    assert mapped.loads == 1 and mapped.builds == 0
    assert _delta(mapped) == _delta(kept)  # caught up as it was mapped, before any lookup
    assert _results(mapped) == expected


def _delta(index: dedup.DedupIndex) -> set[int]:
    return set() if index.delta is None else set(index.delta.ids[index.delta.alive].tolist())


def test_a_snapshot_too_far_behind_the_database_is_built_afresh(users, pool, on_disk, monkeypatch):
    """More rows changed since the snapshot than a delta may hold: the process reads the database instead."""
    monkeypatch.setattr(dedup, "DELTA_ROWS", 1)
    monkeypatch.setattr(dedup, "DELTA_SHARE", 0.0)
    _fresh()
    for key in ("sso", "stock"):
        Requirement.objects.filter(pk=pool[key].pk).update(title=TEXTS[0], updated_at=timezone.now())
    index = _fresh()
    assert (index.builds, index.loads) == (1, 0)
    assert index.delta is None


def test_a_snapshot_whose_rows_differ_from_the_database_is_not_used(users, pool, on_disk):
    """A database restored from a backup under the same name: the rows' texts changed without a newer
    ``updated_at`` (which the catch-up would see)."""
    _fresh()
    long_ago = timezone.now() - dt.timedelta(days=30)
    Requirement.objects.filter(pk=pool["stock"].pk).update(title="供应商门户在线对账", updated_at=long_ago)
    Requirement.objects.filter(updated_at__gt=long_ago).update(updated_at=long_ago)
    index = _fresh()
    assert (index.builds, index.loads) == (1, 0)
    assert index.search("供应商在线对账", 1)[0][0] == pool["stock"].pk


def test_a_snapshot_of_another_database_or_a_damaged_one_is_not_used(users, pool, on_disk, monkeypatch):
    _fresh()
    with monkeypatch.context() as patched:
        patched.setattr(snapshot, "database_key", lambda: "0123456789abcdef")
        assert snapshot.load() is None
        assert _fresh().builds == 1
    # The build above wrote nothing for this database: its own snapshot is still the current one.
    current = next((on_disk / "cache" / "dedup").glob(f"{snapshot.database_key()}.current")).read_text()
    (on_disk / "cache" / "dedup" / current / "rows.npy").write_bytes(b"\x93NUMPY broken")
    assert snapshot.load() is None
    index = _fresh()
    assert (index.builds, index.loads) == (1, 0)
    assert index.search("企业微信登录", 1)[0][0] == pool["sso"].pk


def test_a_newer_snapshot_replaces_a_rebuild_and_old_ones_are_pruned(users, pool, on_disk):
    first = _fresh()
    second = dedup.DedupIndex()
    second.ensure_fresh()  # maps the snapshot the first wrote
    assert second.loads == 1
    time.sleep(0.01)
    first._build(first.token)  # the first process rebuilds (e.g. its delta grew) and writes a newer snapshot
    second._build(second.token)  # ... the second takes that one instead of reading the database
    assert (second.builds, second.loads) == (0, 2)
    first._build(first.token)  # its own snapshot is not newer than what it has: it reads the database
    assert first.builds == 3
    kept = [p for p in (on_disk / "cache" / "dedup").iterdir() if p.is_dir()]
    assert len(kept) == snapshot.KEEP


def test_the_build_lock_lets_one_builder_at_a_time(on_disk):
    inside = threading.Event()
    release = threading.Event()
    order: list[str] = []

    def first() -> None:
        with snapshot.build_lock():
            order.append("first in")
            inside.set()
            release.wait(5)
            order.append("first out")

    def second() -> None:
        inside.wait(5)
        with snapshot.build_lock():
            order.append("second in")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    inside.wait(5)
    time.sleep(0.2)
    assert order == ["first in"]  # the second waits
    release.set()
    for thread in threads:
        thread.join(5)
    assert order == ["first in", "first out", "second in"]


def test_a_mapped_segment_reads_the_texts_it_embeds(users, pool, on_disk, settings):
    """A snapshot holds no texts: rows with no stored vector are embedded from texts read by id."""
    _fresh()
    settings.NEEDPOOL_DEDUP_EMBEDDINGS = True
    from needpool.requirements.models import RequirementEmbedding

    RequirementEmbedding.objects.all().delete()
    index = _fresh()
    assert index.loads == 1 and index.main is not None and index.main.embed_texts is None
    assert index.wait_for_embeddings(timeout=120)
    assert index.main.has_embedding.all()
    assert index.search("能不能用企业微信账号直接登录", 1)[0][0] == pool["sso"].pk
