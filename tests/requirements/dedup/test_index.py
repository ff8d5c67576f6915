"""The similarity engine: paraphrases, permissions, merged and closed requirements, freshness."""

from __future__ import annotations

import numpy as np
import pytest
from django.utils import timezone

from needpool.requirements.dedup import index as dedup
from needpool.requirements.models import Requirement, WorkflowStatus
from needpool.requirements.services import requirement_create, requirement_update
from tests.conftest import option


def ids(found):
    return [c.id for c in found]


@pytest.mark.parametrize(
    ("key", "words"),
    [
        ("discount", "希望大客户批量采购能自动享受等级折扣"),
        ("export", "订单数据能下载成 excel 表格吗"),
        ("sso", "能不能用企业微信账号直接登录"),
        ("stock", "快没货的时候能不能自动提醒我们补货"),
        ("invoice", "客户想自己在线申请开发票"),
    ],
)
def test_a_paraphrase_finds_its_requirement_first(embeddings, users, pool, key, words):
    found = dedup.similar_requirements(user=users["manager"], text=words)
    assert found, words
    assert found[0].id == pool[key].pk, [(c.title, c.score) for c in found]
    assert found[0].code == pool[key].code
    assert found[0].title == pool[key].title


def test_scores_are_between_0_and_1_best_first_and_an_identical_text_scores_near_100(embeddings, users, pool):
    found = dedup.similar_requirements(user=users["manager"], text=pool["discount"].title, limit=5, min_score=0)
    scores = [c.score for c in found]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert found[0].id == pool["discount"].pk
    assert found[0].score >= 0.9
    assert found[0].percent == round(found[0].score * 100)


def test_an_unrelated_text_finds_nothing_above_the_floor(users, pool):
    assert dedup.similar_requirements(user=users["manager"], text="今天天气很好，我们去公园散步") == []


def test_the_floor_trims_the_tail_but_never_hides_the_first_results(users, pool, monkeypatch):
    """A right answer that the score curve rates low is still shown when it is among the first
    ``KEEP_TOP`` (the floor hid such answers on text the curve was not fitted on); past them the floor
    ends the list."""
    words = "订单 客户 批量 折扣 导出"
    everything = dedup.similar_requirements(user=users["manager"], text=words, min_score=0)
    assert len(everything) > dedup.KEEP_TOP == 3
    kept = dedup.similar_requirements(user=users["manager"], text=words, min_score=1.01)
    assert ids(kept) == ids(everything)[: dedup.KEEP_TOP]
    monkeypatch.setattr(dedup, "KEEP_TOP", 0)
    assert dedup.similar_requirements(user=users["manager"], text=words, min_score=1.01) == []


def test_the_first_results_kept_are_the_first_the_user_may_see(users, pool, other_sales, monkeypatch):
    words = "订单 客户 批量 折扣 导出"
    assert dedup.similar_requirements(user=other_sales, text=words, min_score=1.01) == []  # sees none of them
    monkeypatch.setattr(dedup, "KEEP_TOP", 1)
    best = dedup.similar_requirements(user=users["manager"], text=words, min_score=0)[0]
    assert ids(dedup.similar_requirements(user=users["manager"], text=words, min_score=1.01)) == [best.id]
    excluded = dedup.similar_requirements(user=users["manager"], text=words, min_score=1.01, exclude_ids=[best.id])
    assert len(excluded) == 1 and excluded[0].id != best.id


def test_limit_and_exclude(users, pool):
    everything = dedup.similar_requirements(user=users["manager"], text="订单 客户 批量 折扣 导出", min_score=0)
    assert len(everything) >= 2
    assert len(dedup.similar_requirements(user=users["manager"], text="订单 客户 批量 折扣 导出", limit=1)) == 1
    without = dedup.similar_requirements(
        user=users["manager"], text="订单 客户 批量 折扣 导出", min_score=0, exclude_ids=[everything[0].id]
    )
    assert everything[0].id not in ids(without)


def test_empty_text_and_anonymous_users_get_nothing(users, pool):
    from django.contrib.auth.models import AnonymousUser

    assert dedup.similar_requirements(user=users["manager"], text="   ") == []
    assert dedup.similar_requirements(user=AnonymousUser(), text=pool["sso"].title) == []


def test_a_sales_user_of_another_team_does_not_see_other_teams_requirements(
    users, pool, other_sales, django_capture_on_commit_callbacks
):
    text = pool["sso"].title
    assert pool["sso"].pk in ids(dedup.similar_requirements(user=users["sales"], text=text))
    assert pool["sso"].pk in ids(dedup.similar_requirements(user=users["manager"], text=text))
    assert dedup.similar_requirements(user=other_sales, text=text) == []
    # Their own requirement on the same need is found.
    with django_capture_on_commit_callbacks(execute=True):
        own = requirement_create(actor=other_sales, title="支持钉钉单点登录", submitted_at=timezone.now())
    assert ids(dedup.similar_requirements(user=other_sales, text=text)) == [own.pk]


def test_merged_requirements_are_left_out(users, pool):
    twin = requirement_create(actor=users["sales"], title=pool["stock"].title, submitted_at=timezone.now())
    found = ids(dedup.similar_requirements(user=users["manager"], text=pool["stock"].title))
    assert {twin.pk, pool["stock"].pk} <= set(found)
    Requirement.objects.filter(pk=twin.pk).update(merged_into=pool["stock"], merged_at=timezone.now())
    found = ids(dedup.similar_requirements(user=users["manager"], text=pool["stock"].title))
    assert twin.pk not in found
    assert pool["stock"].pk in found


def test_closed_requirements_are_flagged_and_can_be_left_out(users, pool):
    done = WorkflowStatus.objects.filter(workflow=pool["invoice"].status.workflow, category="done").first()
    Requirement.objects.filter(pk=pool["invoice"].pk).update(status=done)
    found = dedup.similar_requirements(user=users["manager"], text=pool["invoice"].title)
    assert found[0].id == pool["invoice"].pk
    assert found[0].is_open is False
    assert found[0].status == done.label
    assert pool["invoice"].pk not in ids(
        dedup.similar_requirements(user=users["manager"], text=pool["invoice"].title, include_closed=False)
    )


def test_a_requirement_created_after_the_index_was_built_is_found(users, pool, django_capture_on_commit_callbacks):
    index = dedup.get_index()
    assert dedup.similar_requirements(user=users["manager"], text="发票抬头自动带出客户税号") != []
    builds = index.builds
    with django_capture_on_commit_callbacks(execute=True):
        new = requirement_create(
            actor=users["pm"] if "pm" in users else users["product_manager"],
            title="开票时自动带出客户的税号和发票抬头",
            submitted_at=timezone.now(),
        )
    found = dedup.similar_requirements(user=users["manager"], text="发票抬头自动带出客户税号")
    assert found[0].id == new.pk
    assert index.builds > builds  # the cache token told the index to refresh


def test_an_edited_title_is_found_by_the_next_lookup(users, pool, django_capture_on_commit_callbacks):
    before = dedup.similar_requirements(user=users["manager"], text="移动端扫码支付")
    assert all(c.score < dedup.DEFAULT_MIN_SCORE for c in before)  # at most the first few, all weak
    with django_capture_on_commit_callbacks(execute=True):
        requirement_update(actor=users["sales"], requirement=pool["stock"], title="移动端支持扫码支付")
    assert ids(dedup.similar_requirements(user=users["manager"], text="移动端扫码支付"))[0] == pool["stock"].pk


def test_another_process_sees_the_change_through_the_cache_token(users, pool, django_capture_on_commit_callbacks):
    """A second index (another worker process) built before the write picks it up on its next lookup."""
    elsewhere = dedup.DedupIndex()
    assert all(score < 0.1 for _pk, score in elsewhere.search("会员积分兑换礼品", 5))
    with django_capture_on_commit_callbacks(execute=True):
        new = requirement_create(actor=users["sales"], title="会员积分可以兑换礼品", submitted_at=timezone.now())
    pk, score = elsewhere.search("会员积分兑换礼品", 5)[0]
    assert pk == new.pk and score > 0.5


def test_rows_written_without_the_services_are_found_after_the_recheck_interval(users, pool, monkeypatch):
    index = dedup.get_index()
    index.ensure_fresh()
    status = pool["sso"].status
    Requirement.objects.bulk_create(
        [Requirement(code="IMP0001", title="供应商门户在线对账", status=status, submitted_at=timezone.now())]
    )
    monkeypatch.setattr(dedup, "RECHECK_SECONDS", 0.0)
    found = dedup.similar_requirements(user=users["manager"], text="供应商在线对账")
    assert found and found[0].code == "IMP0001"


def test_large_indexes_refresh_through_the_delta_segment(users, pool, monkeypatch, django_capture_on_commit_callbacks):
    """Past SMALL_INDEX rows, changes go into a small delta segment instead of a full rebuild."""
    monkeypatch.setattr(dedup, "SMALL_INDEX", 0)
    index = dedup.get_index()
    index.ensure_fresh()
    with django_capture_on_commit_callbacks(execute=True):
        new = requirement_create(actor=users["sales"], title="合同到期前一个月提醒续签", submitted_at=timezone.now())
        requirement_update(
            actor=users["sales"], requirement=pool["export"], title="报表支持同比环比分析", description="按月对比"
        )
    assert ids(dedup.similar_requirements(user=users["manager"], text="合同快到期时提前提醒"))[0] == new.pk
    assert ids(dedup.similar_requirements(user=users["manager"], text="报表同比环比"))[0] == pool["export"].pk
    # The old title no longer matches: its row in the main segment is hidden by the delta.
    assert pool["export"].pk not in ids(dedup.similar_requirements(user=users["manager"], text="订单导出Excel"))
    assert index.builds == 1 and index.refreshes >= 1
    assert index.delta is not None and set(index.delta.ids.tolist()) == {new.pk, pool["export"].pk}
    # A deleted row leaves the index at the next refresh (the row count differs).
    Requirement.objects.filter(pk=new.pk).update(title=new.title)  # no-op write, then delete it
    from needpool.requirements.models import Feedback, StatusChange

    Feedback.objects.filter(requirement=new).delete()
    StatusChange.objects.filter(requirement=new).delete()
    new.delete()
    dedup.index_changed()
    assert new.pk not in [pk for pk, _s in index.search("合同快到期时提前提醒", 5)]


def test_embeddings_can_be_switched_off(settings, users, pool):
    settings.NEEDPOOL_DEDUP_EMBEDDINGS = False
    assert not dedup.embeddings_enabled()
    found = dedup.similar_requirements(user=users["manager"], text=pool["sso"].title)
    assert found[0].id == pool["sso"].pk
    index = dedup.get_index()
    assert index.main is not None and index.main.embeddings is None
    settings.NEEDPOOL_DEDUP_EMBEDDINGS = "1"
    assert dedup.embeddings_enabled()


def test_best_matches_answers_a_page_of_texts_with_one_query(users, pool, settings, django_assert_num_queries):
    dedup.get_index().ensure_fresh()
    texts = ["希望大客户批量采购能自动享受等级折扣", "今天天气很好", "能不能用企业微信账号直接登录"]
    # One visibility query for every text (plus the cache token when the cache is the database).
    with django_assert_num_queries(2 if settings.CACHES["default"]["BACKEND"].endswith("DatabaseCache") else 1):
        found = dedup.best_matches(user=users["manager"], texts=texts)
    assert [c.id if c else None for c in found] == [pool["discount"].pk, None, pool["sso"].pk]


def test_ngram_keys_are_exact_and_skip_punctuation():
    rows, keys = dedup.ngram_keys(["ＡＢ，c", "订单"])
    pairs = sorted(zip(rows.tolist(), keys.tolist(), strict=True))
    a, b, c = ord("a"), ord("b"), ord("c")
    assert pairs == sorted(
        [(0, a), (0, b), (0, c), (0, a << 21 | b), (1, ord("订")), (1, ord("单")), (1, ord("订") << 21 | ord("单"))]
    )
    assert option  # the conftest helper stays importable for the fixtures


def test_one_transaction_tells_the_other_processes_once(users, django_capture_on_commit_callbacks):
    """An import writes many requirements in one transaction: one cache write after commit, not one per row."""
    from django.db import transaction

    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        for i in range(3):
            requirement_create(actor=users["sales"], title=f"批量导入的需求{i}", submitted_at=timezone.now())
    assert [c for c in callbacks if c is dedup.index_changed] == [dedup.index_changed]


def test_fusion_lets_a_close_meaning_outrank_shared_characters_and_stays_monotone():
    # A rewording in other words (few shared characters, close meaning) above a near miss that shares
    # many characters but means something else less closely.
    rewording, near_miss = dedup.fuse(np.array([0.2, 0.6]), np.array([0.9, 0.6]))
    assert rewording > near_miss
    grid = np.linspace(0.0, 1.0, 11)
    assert np.all(np.diff(dedup.fuse(grid, np.full(11, 0.5))) > 0)
    assert np.all(np.diff(dedup.fuse(np.full(11, 0.5), grid)) > 0)
    assert dedup.fuse(np.array([1.0]), np.array([1.0]))[0] == pytest.approx(1.0)
    assert dedup.fuse(np.array([-0.1]), np.array([-0.2]))[0] == 0.0


def test_weight_one_ranks_by_the_embedding_alone():
    """``EMBED_WEIGHT`` = 1.0 is a supported setting: the lexical stage only picks the candidates."""
    lexical = np.array([0.9, 0.1, 0.5])
    semantic = np.array([0.3, 0.8, 0.6])
    assert list(np.argsort(-dedup.fuse(lexical, semantic, 1.0))) == [1, 2, 0]
    assert list(np.argsort(-dedup.fuse(lexical, semantic, 0.0))) == [0, 2, 1]


def test_the_product_answers_with_the_embedding_alone(users, pool, settings, monkeypatch):
    settings.NEEDPOOL_DEDUP_EMBEDDINGS = True
    monkeypatch.setattr(dedup, "EMBED_WEIGHT", 1.0)
    found = dedup.similar_requirements(user=users["manager"], text="能不能用企业微信账号直接登录", min_score=0)
    assert found[0].id == pool["sso"].pk
    scores = [c.score for c in found]
    assert scores == sorted(scores, reverse=True)
