"""requirements_merge / requirements_merge_undo / requirement_watch: what moves, what is refused, what comes back."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from needpool.core.models import AuditEntry, Notification
from needpool.notify.models import Event
from needpool.requirements.merging.selectors import survivor_of
from needpool.requirements.merging.services import (
    MERGE_ACTION,
    requirement_unwatch,
    requirement_watch,
    requirements_merge,
    requirements_merge_undo,
)
from needpool.requirements.models import Attachment, Comment, Feedback, Requirement, RequirementMerge
from needpool.requirements.selectors import requirement_list
from tests.requirements.merging.conftest import state


def _merge(pool, actor, merged=None, note=""):
    merged = merged if merged is not None else [pool.dup_a, pool.dup_b]
    return requirements_merge(actor=actor, survivor_id=pool.survivor.pk, merged_ids=[r.pk for r in merged], note=note)


def _audit(requirement):
    return list(AuditEntry.objects.filter(content_type__model="requirement", object_id=requirement.pk).order_by("-id"))


# ---------------------------------------------------------------- what moves


def test_merge_keeps_every_feedback_customer_comment_attachment_and_watcher(pool, users):
    feedback = {r: set(r.feedback_items.values_list("pk", flat=True)) for r in (pool.dup_a, pool.dup_b)}
    comments = set(Comment.objects.filter(requirement__in=[pool.dup_a, pool.dup_b]).values_list("pk", flat=True))
    attachments = set(Attachment.objects.filter(requirement=pool.dup_a).values_list("pk", flat=True))
    own_feedback = set(pool.survivor.feedback_items.values_list("pk", flat=True))
    status_a = Requirement.objects.get(pk=pool.dup_a.pk).status_id

    merge = _merge(pool, users["product_manager"], note="同一诉求")

    survivor = Requirement.objects.get(pk=pool.survivor.pk)
    assert (
        set(survivor.feedback_items.values_list("pk", flat=True))
        == own_feedback | feedback[pool.dup_a] | feedback[pool.dup_b]
    )
    customers = set(survivor.feedback_items.values_list("customer__name", flat=True))
    assert customers == {"小客户", "大客户B", "C零售"}
    assert set(survivor.comments.values_list("pk", flat=True)) == comments
    assert set(survivor.attachments.values_list("pk", flat=True)) == attachments
    assert set(survivor.watchers.values_list("username", flat=True)) == {"engineer", "viewer"}
    assert survivor.customer_value == "high"  # refreshed: 大客户B is high value
    for dup in (pool.dup_a, pool.dup_b):
        dup.refresh_from_db()
        assert dup.merged_into_id == survivor.pk and dup.merged_at is not None
        assert not dup.feedback_items.exists() and not dup.comments.exists()
        # Its own watchers stay: it still tells who cared about it.
    assert pool.dup_a.status_id == status_a  # status untouched; merged ones are hidden by merged_into
    assert set(pool.dup_a.watchers.values_list("username", flat=True)) == {"engineer", "viewer"}

    # The record says exactly what moved, per relation and per origin.
    assert merge.moved["feedback"] == {
        str(pool.dup_a.pk): sorted(feedback[pool.dup_a]),
        str(pool.dup_b.pk): sorted(feedback[pool.dup_b]),
    }
    assert {pk for ids in merge.moved["comments"].values() for pk in ids} == comments
    assert merge.moved["attachments"] == {str(pool.dup_a.pk): sorted(attachments)}
    assert merge.moved["watchers"] == [users["viewer"].pk]  # engineer already watched the survivor
    assert set(merge.merged.values_list("pk", flat=True)) == {pool.dup_a.pk, pool.dup_b.pk}
    assert merge.note == "同一诉求" and merge.actor == users["product_manager"]

    # One audit row on every requirement involved.
    assert _audit(survivor)[0].action == MERGE_ACTION
    assert pool.dup_a.code in _audit(survivor)[0].changes["merge"]
    for dup in (pool.dup_a, pool.dup_b):
        assert _audit(dup)[0].changes["merged_into"] == ["", survivor.code]


def test_merged_requirements_leave_the_list_but_stay_readable(pool, users):
    _merge(pool, users["product_manager"])
    pm = users["product_manager"]
    listed = set(requirement_list(user=pm).values_list("pk", flat=True))
    assert pool.survivor.pk in listed and pool.dup_a.pk not in listed and pool.dup_b.pk not in listed
    assert pool.dup_a.pk in set(requirement_list(user=pm, include_merged=True).values_list("pk", flat=True))
    assert survivor_of(Requirement.objects.get(pk=pool.dup_a.pk)) == pool.survivor


def test_survivor_is_found_by_the_merged_titles(pool, users):
    _merge(pool, users["product_manager"])
    found = requirement_list(user=users["product_manager"], filters={"q": "会员等级"})
    assert [r.pk for r in found] == [pool.survivor.pk]


def test_kano_answers_follow_the_feedback(pool, users, customer):
    from needpool.analysis.models import KanoResponse
    from needpool.analysis.services import kano_answer, kano_survey_create

    pm = users["product_manager"]
    survey_a = kano_survey_create(
        actor=pm, requirement=pool.dup_a, functional_question="有等级折扣？", dysfunctional_question="没有呢？"
    )
    survey_b = kano_survey_create(
        actor=pm, requirement=pool.dup_b, functional_question="自动折扣？", dysfunctional_question="没有呢？"
    )
    kano_answer(survey=survey_a, functional="like", dysfunctional="dislike", actor=pm, customer=pool.big)
    kano_answer(survey=survey_b, functional="like", dysfunctional="neutral", actor=pm, customer=pool.big)
    retail_answer = kano_answer(
        survey=survey_b, functional="must_be", dysfunctional="dislike", actor=pm, customer=pool.retail
    )

    merge = _merge(pool, pm)

    survey_a.refresh_from_db()
    assert survey_a.requirement_id == pool.survivor.pk  # the survivor had none: the first survey moves
    moved_answers = merge.moved["kano_responses"][str(pool.dup_b.pk)]
    assert moved_answers == [retail_answer.pk]  # 大客户B had already answered the survivor's survey
    assert set(KanoResponse.objects.filter(survey=survey_a).values_list("customer__name", flat=True)) == {
        "大客户B",
        "C零售",
    }

    requirements_merge_undo(actor=users["admin"], merge=merge)
    survey_a.refresh_from_db()
    assert survey_a.requirement_id == pool.dup_a.pk
    assert KanoResponse.objects.get(pk=retail_answer.pk).survey_id == survey_b.pk


def test_a_survey_left_on_a_merged_requirement_takes_no_public_answers(pool, users):
    from django.core.exceptions import ValidationError
    from django.http import Http404

    from needpool.analysis.selectors import kano_survey_by_token
    from needpool.analysis.services import kano_answer, kano_survey_create

    pm = users["product_manager"]
    kano_survey_create(
        actor=pm, requirement=pool.survivor, functional_question="有折扣？", dysfunctional_question="没有？"
    )
    left = kano_survey_create(
        actor=pm, requirement=pool.dup_b, functional_question="自动折扣？", dysfunctional_question="没有呢？"
    )
    assert kano_survey_by_token(left.token) == left
    _merge(pool, pm)
    left.refresh_from_db()
    assert left.requirement_id == pool.dup_b.pk  # the survivor has its own survey: this one stays
    with pytest.raises(Http404):
        kano_survey_by_token(left.token)
    with pytest.raises(ValidationError):
        kano_answer(survey=left, functional="like", dysfunctional="dislike")


def test_watchers_and_owners_are_notified_once_per_merge(pool, users):
    earlier = set(Notification.objects.values_list("pk", flat=True))  # the fixture's @mention
    merge = _merge(pool, users["product_manager"])
    new = Notification.objects.exclude(pk__in=earlier).filter(kind=Notification.Kind.MERGE)
    notified = set(new.values_list("recipient__username", flat=True))
    # survivor's owner (sales), watchers now on the survivor (engineer, viewer); not the actor (owner of the dups)
    assert notified == {"sales", "engineer", "viewer"}
    text = new.first().text
    assert pool.dup_a.code in text and pool.survivor.code in text
    assert new.first().url == f"/requirements/{pool.survivor.pk}/"
    assert new.first().actor == users["product_manager"]
    event = Event.objects.get(key=f"merge:{merge.pk}")
    assert event.kind == "merge" and event.subject["id"] == pool.survivor.pk


# ---------------------------------------------------------------- refusals: nothing written


def _refused(exc_type, call, match=None):
    before = state()
    with pytest.raises(exc_type, match=match):
        call()
    assert state() == before


def test_merge_into_itself_is_refused(pool, users):
    pm = users["product_manager"]
    _refused(
        ValidationError,
        lambda: requirements_merge(actor=pm, survivor_id=pool.survivor.pk, merged_ids=[pool.survivor.pk]),
        "不能把需求合并到它自己",
    )


def test_merge_into_a_merged_requirement_is_refused(pool, users):
    pm = users["product_manager"]
    requirements_merge(actor=pm, survivor_id=pool.survivor.pk, merged_ids=[pool.dup_a.pk])
    _refused(
        ValidationError,
        lambda: requirements_merge(actor=pm, survivor_id=pool.dup_a.pk, merged_ids=[pool.dup_b.pk]),
        f"{pool.dup_a.code} 已合并到 {pool.survivor.code}，不能作为保留需求",
    )
    _refused(
        ValidationError,
        lambda: requirements_merge(actor=pm, survivor_id=pool.other.pk, merged_ids=[pool.dup_a.pk]),
        f"{pool.dup_a.code} 已合并到 {pool.survivor.code}",
    )


def test_merge_of_an_invisible_requirement_is_refused_as_not_found(pool, users, outsider):
    sales = users["sales"]
    # sales sees its own survivor but not dup_a (customer 大客户B belongs to the product manager)
    _refused(
        ValidationError,
        lambda: requirements_merge(actor=sales, survivor_id=pool.survivor.pk, merged_ids=[pool.dup_a.pk]),
        f"需求 #{pool.dup_a.pk} 不存在或您无权访问",
    )
    _refused(
        ValidationError,
        lambda: requirements_merge(actor=outsider, survivor_id=pool.survivor.pk, merged_ids=[pool.dup_a.pk]),
        "不存在或您无权访问",
    )
    _refused(
        ValidationError,
        lambda: requirements_merge(actor=sales, survivor_id=pool.survivor.pk, merged_ids=[999_999]),
        "不存在或您无权访问",
    )


def test_merge_needs_edit_rights_on_every_requirement(pool, users):
    from needpool.requirements.services import feedback_create

    sales = users["sales"]
    # make dup_b visible to sales (a customer of theirs) without making it theirs
    feedback_create(
        actor=users["product_manager"], raw_text="也要", channel="sales", customer=pool.small, requirement=pool.dup_b
    )
    _refused(
        PermissionDenied,
        lambda: requirements_merge(actor=sales, survivor_id=pool.survivor.pk, merged_ids=[pool.dup_b.pk]),
        f"您没有编辑需求 {pool.dup_b.code} 的权限",
    )
    for role in ("viewer", "engineer", "compliance"):
        _refused(
            PermissionDenied,
            lambda role=role: requirements_merge(
                actor=users[role], survivor_id=pool.other.pk, merged_ids=[pool.dup_b.pk]
            ),
        )


def test_sales_may_merge_their_own_requirements(pool, users):
    from needpool.requirements.services import requirement_create

    sales = users["sales"]
    mine = requirement_create(actor=sales, customer=pool.small, title="批量折扣（重复录入）")
    requirements_merge(actor=sales, survivor_id=pool.survivor.pk, merged_ids=[mine.pk])
    mine.refresh_from_db()
    assert mine.merged_into_id == pool.survivor.pk


@pytest.mark.parametrize(
    ("survivor", "merged", "note", "message"),
    [
        (None, ["dup_a"], "", "请选择保留的需求"),
        ("survivor", [], "", "请至少选择一个"),
        ("survivor", ["x1"], "", "无效"),
        ("survivor", ["dup_a"], "长" * 501, "500"),
    ],
)
def test_bad_input_is_refused(pool, users, survivor, merged, note, message):
    ids = [getattr(pool, m).pk if hasattr(pool, m) else m for m in merged]
    survivor_id = getattr(pool, survivor).pk if survivor else None
    _refused(
        ValidationError,
        lambda: requirements_merge(actor=users["product_manager"], survivor_id=survivor_id, merged_ids=ids, note=note),
        message,
    )


def test_writes_to_a_merged_requirement_are_refused(pool, users):
    from needpool.requirements.services import feedback_link, requirement_transition, requirement_update

    pm = users["product_manager"]
    _merge(pool, pm)
    item = Feedback.objects.filter(requirement=pool.other).first()
    dup_a, dup_b = Requirement.objects.get(pk=pool.dup_a.pk), Requirement.objects.get(pk=pool.dup_b.pk)
    for call in (
        lambda: requirement_update(actor=pm, requirement=dup_a, title="改个标题"),
        lambda: requirement_transition(actor=pm, requirement=dup_b, to="in_progress"),
        lambda: feedback_link(actor=pm, feedback=item, requirement=dup_a),
    ):
        _refused(ValidationError, call, "已合并")


# ---------------------------------------------------------------- undo


def test_undo_restores_exactly_what_moved(pool, users):
    from needpool.requirements.services import feedback_create, feedback_link

    before = state()
    pm = users["product_manager"]
    merge = _merge(pool, pm)
    moved_away = Feedback.objects.get(pk=merge.moved["feedback"][str(pool.dup_b.pk)][0])
    feedback_link(actor=pm, feedback=moved_away, requirement=pool.other)  # re-linked elsewhere since
    later = feedback_create(actor=pm, raw_text="合并后新反馈", channel="sales", requirement=pool.survivor)

    undone = requirements_merge_undo(actor=users["admin"], merge=merge)

    after = state()
    expected = dict(before["feedback"])
    expected[moved_away.pk] = pool.other.pk
    expected[later.pk] = pool.survivor.pk  # linked to the survivor after the merge: stays
    assert after["feedback"] == expected
    assert after["comments"] == before["comments"]
    assert after["attachments"] == before["attachments"]
    assert after["watchers"] == before["watchers"]
    assert after["merged_into"] == before["merged_into"]
    assert undone.left == {"feedback": [moved_away.pk]}
    merge.refresh_from_db()
    assert merge.undone_at is not None and merge.undone_by == users["admin"]
    assert merge.moved["left"] == {"feedback": [moved_away.pk]}
    for requirement in (pool.survivor, pool.dup_a, pool.dup_b):
        assert _audit(requirement)[0].actor == users["admin"]
    assert _audit(pool.dup_a)[0].changes["merged_into"] == [pool.survivor.code, ""]
    assert f"#{moved_away.pk}" in _audit(pool.survivor)[0].changes["left"]
    survivor = Requirement.objects.get(pk=pool.survivor.pk)
    assert survivor.customer_value == "low"
    assert "会员" not in survivor.search_text
    assert pool.dup_a.pk in set(requirement_list(user=pm).values_list("pk", flat=True))


@pytest.mark.parametrize("role", ["product_manager", "manager", "sales", "viewer"])
def test_undo_is_for_admins_only(pool, users, role):
    merge = _merge(pool, users["product_manager"])
    _refused(PermissionDenied, lambda: requirements_merge_undo(actor=users[role], merge=merge), "管理员")


def test_undo_twice_is_refused(pool, users):
    merge = _merge(pool, users["product_manager"])
    requirements_merge_undo(actor=users["admin"], merge=merge)
    _refused(ValidationError, lambda: requirements_merge_undo(actor=users["admin"], merge=merge), "不能重复撤销")


def test_merge_of_a_merge_chains_and_undo_goes_in_reverse(pool, users):
    pm = users["product_manager"]
    first = requirements_merge(actor=pm, survivor_id=pool.dup_a.pk, merged_ids=[pool.dup_b.pk])
    second = requirements_merge(actor=pm, survivor_id=pool.survivor.pk, merged_ids=[pool.dup_a.pk])
    assert survivor_of(Requirement.objects.get(pk=pool.dup_b.pk)) == pool.survivor  # chain followed
    _refused(
        ValidationError,
        lambda: requirements_merge_undo(actor=users["admin"], merge=first),
        f"保留需求 {pool.dup_a.code} 之后又合并到了 {pool.survivor.code}",
    )
    requirements_merge_undo(actor=users["admin"], merge=second)
    requirements_merge_undo(actor=users["admin"], merge=first)
    assert set(Requirement.objects.filter(merged_into__isnull=False).values_list("pk", flat=True)) == set()
    assert RequirementMerge.objects.filter(undone_at__isnull=True).count() == 0


# ---------------------------------------------------------------- watching


def test_watch_and_unwatch(pool, users):
    viewer = users["viewer"]
    assert requirement_watch(actor=viewer, requirement=pool.other) is True
    assert requirement_watch(actor=viewer, requirement=pool.other) is False  # nothing written twice
    assert list(pool.other.watchers.all()) == [viewer]
    assert _audit(pool.other)[0].changes == {"watchers": ["", str(viewer)]}
    assert requirement_unwatch(actor=viewer, requirement=pool.other) is True
    assert requirement_unwatch(actor=viewer, requirement=pool.other) is False
    assert not pool.other.watchers.exists()


def test_watch_refused_for_invisible_or_merged(pool, users, outsider):
    _refused(PermissionDenied, lambda: requirement_watch(actor=outsider, requirement=pool.other))
    _merge(pool, users["product_manager"])
    _refused(
        ValidationError,
        lambda: requirement_watch(actor=users["manager"], requirement=Requirement.objects.get(pk=pool.dup_a.pk)),
        "请关注合并后的需求",
    )
