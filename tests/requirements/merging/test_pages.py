"""Merge pages: list selection, the merge page, redirects of merged requirements, the survivor's page, undo, watch."""

from __future__ import annotations

import re

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from needpool.requirements.merging.services import requirements_merge
from needpool.requirements.models import Requirement, RequirementMerge
from tests.conftest import count_queries
from tests.requirements.merging.conftest import state


def _html(response):
    return response.content.decode()


def _detail(requirement):
    return reverse("requirements:detail", args=[requirement.pk])


def _merge(pool, users, merged=None):
    merged = merged if merged is not None else [pool.dup_a, pool.dup_b]
    return requirements_merge(
        actor=users["product_manager"], survivor_id=pool.survivor.pk, merged_ids=[r.pk for r in merged]
    )


def _messages(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


# ---------------------------------------------------------------- list


def test_list_offers_selection_and_hides_merged(client, pool, users):
    client.force_login(users["product_manager"])
    html = _html(client.get(reverse("requirements:list")))
    assert 'id="merge-select-form"' in html and 'id="merge-selected"' in html
    assert f'name="ids" value="{pool.dup_a.pk}"' in html
    _merge(pool, users)
    html = _html(client.get(reverse("requirements:list")))
    assert pool.survivor.code in html
    assert pool.dup_a.code not in html and pool.dup_b.code not in html


def test_list_has_no_selection_for_viewer(client, pool, users):
    client.force_login(users["viewer"])
    html = _html(client.get(reverse("requirements:list")))
    assert "merge-select-form" not in html and "merge-select" not in html


# ---------------------------------------------------------------- merge page


def test_merge_page_previews_what_moves(client, pool, users):
    client.force_login(users["product_manager"])
    url = reverse("requirements:merge") + f"?ids={pool.survivor.pk},{pool.dup_a.pk}&ids={pool.dup_b.pk}"
    response = client.get(url)
    assert response.status_code == 200
    rows = {r.pk: r for r in response.context["rows"]}
    assert list(rows) == [pool.survivor.pk, pool.dup_a.pk, pool.dup_b.pk]
    assert rows[pool.dup_a.pk].feedback_count == 1
    assert rows[pool.dup_a.pk].comment_count == 1
    assert rows[pool.dup_a.pk].attachment_count == 1
    assert rows[pool.dup_a.pk].watcher_count == 2
    assert rows[pool.dup_b.pk].feedback_count == 2 and rows[pool.dup_b.pk].customer_count == 2
    assert response.context["survivor_pk"] == pool.dup_b.pk  # the most evidence is the default survivor
    html = _html(response)
    assert 'id="merge-confirm"' in html and "disabled" not in html.split('id="merge-confirm"')[1][:20]
    assert re.search(rf'value="{pool.dup_b.pk}"\s+id="survivor-{pool.dup_b.pk}"\s+checked', html)


def test_merge_page_into_code_preselects_the_survivor(client, pool, users):
    client.force_login(users["product_manager"])
    response = client.get(reverse("requirements:merge"), {"ids": pool.dup_a.pk, "into": pool.survivor.code})
    assert [r.pk for r in response.context["rows"]] == [pool.dup_a.pk, pool.survivor.pk]
    assert response.context["survivor_pk"] == pool.survivor.pk


def test_merge_page_add_by_code_and_bad_input(client, pool, users, outsider):
    client.force_login(users["product_manager"])
    response = client.get(reverse("requirements:merge"), {"ids": f"{pool.dup_a.pk},abc", "add": "NOPE-1"})
    html = _html(response)
    assert "需求编号“abc”无效" in html
    assert "需求 NOPE-1 不存在或您无权访问" in html
    assert "请至少选择两个需求" in html
    assert 'id="merge-confirm"' in html and 'id="merge-confirm" disabled' in html


def test_merge_page_hides_invisible_requirements(client, pool, users):
    client.force_login(users["sales"])
    response = client.get(reverse("requirements:merge"), {"ids": f"{pool.survivor.pk},{pool.dup_a.pk}"})
    assert [r.pk for r in response.context["rows"]] == [pool.survivor.pk]
    html = _html(response)
    assert pool.dup_a.code not in html and pool.dup_a.title not in html
    assert f"#{pool.dup_a.pk} 不存在或您无权访问" in html


def test_merge_page_is_403_for_roles_that_cannot_edit(client, pool, users):
    for role in ("viewer", "engineer", "compliance"):
        client.force_login(users[role])
        assert client.get(reverse("requirements:merge"), {"ids": pool.dup_a.pk}).status_code == 403
        assert (
            client.post(
                reverse("requirements:merge"), {"ids": [pool.dup_a.pk, pool.dup_b.pk], "survivor": pool.dup_a.pk}
            ).status_code
            == 403
        )


def test_merge_via_page_lands_on_the_survivor(client, pool, users):
    client.force_login(users["product_manager"])
    response = client.post(
        reverse("requirements:merge"),
        {"ids": [pool.survivor.pk, pool.dup_a.pk, pool.dup_b.pk], "survivor": pool.survivor.pk, "note": "重复"},
    )
    assert response.status_code == 302 and response["Location"] == _detail(pool.survivor)
    message = _messages(response)[0]
    assert pool.dup_a.code in message and pool.dup_b.code in message and f"合并到 {pool.survivor.code}" in message
    merge = RequirementMerge.objects.get()
    assert merge.note == "重复" and set(merge.merged.values_list("pk", flat=True)) == {pool.dup_a.pk, pool.dup_b.pk}


def test_merge_via_page_refusal_writes_nothing(client, pool, users):
    _merge(pool, users, merged=[pool.dup_a])
    client.force_login(users["product_manager"])
    before = state()
    response = client.post(
        reverse("requirements:merge"), {"ids": [pool.dup_a.pk, pool.dup_b.pk], "survivor": pool.dup_a.pk}
    )
    assert response.status_code == 400
    assert "不能作为保留需求" in _html(response)
    assert state() == before
    response = client.post(reverse("requirements:merge"), {"ids": [pool.dup_b.pk], "survivor": ""})
    assert response.status_code == 400 and "请选择保留的需求" in _html(response)
    assert state() == before


# ---------------------------------------------------------------- redirects


def test_merged_requirement_page_redirects_to_the_survivor(client, pool, users):
    _merge(pool, users)
    client.force_login(users["product_manager"])
    response = client.get(_detail(pool.dup_a))
    assert response.status_code == 302 and response["Location"] == _detail(pool.survivor)
    assert _messages(response) == [f"{pool.dup_a.code} 已合并到 {pool.survivor.code}"]
    followed = client.get(_detail(pool.dup_a), follow=True)
    assert f"{pool.dup_a.code} 已合并到 {pool.survivor.code}" in _html(followed)


def test_redirect_follows_a_merge_of_a_merge(client, pool, users):
    pm = users["product_manager"]
    requirements_merge(actor=pm, survivor_id=pool.dup_a.pk, merged_ids=[pool.dup_b.pk])
    requirements_merge(actor=pm, survivor_id=pool.survivor.pk, merged_ids=[pool.dup_a.pk])
    client.force_login(pm)
    response = client.get(_detail(pool.dup_b))
    assert response["Location"] == _detail(pool.survivor)


def test_merged_record_stays_readable_and_read_only(client, pool, users):
    _merge(pool, users)
    client.force_login(users["product_manager"])
    response = client.get(_detail(pool.dup_a) + "?merged=1")
    assert response.status_code == 200
    html = _html(response)
    assert 'id="merged-notice"' in html and pool.survivor.code in html
    assert 'id="merge-into-form"' not in html and 'id="watch-form"' not in html
    for control in ('id="edit-requirement"', 'id="transition-form"', 'id="comment-form"', 'id="link-feedback-form"'):
        assert control not in html, control


def test_merged_requirement_of_hidden_survivor_is_not_redirected(client, pool, users):
    """Sales sees the merged one (they submitted it) but not the survivor: no redirect to a 404."""
    from needpool.requirements.services import requirement_create

    sales = users["sales"]
    mine = requirement_create(actor=sales, title="销售自己录入的重复需求")
    requirements_merge(actor=users["product_manager"], survivor_id=pool.other.pk, merged_ids=[mine.pk])
    client.force_login(sales)
    response = client.get(_detail(mine))
    assert response.status_code == 200 and 'id="merged-notice"' in _html(response)


def test_redirect_is_404_for_outsiders(client, pool, users, outsider):
    _merge(pool, users)
    client.force_login(outsider)
    assert client.get(_detail(pool.dup_a)).status_code == 404


# ---------------------------------------------------------------- the survivor's page


def test_survivor_page_shows_merged_from_history_and_merge_record(client, pool, users):
    _merge(pool, users)
    client.force_login(users["admin"])
    response = client.get(_detail(pool.survivor))
    html = _html(response)
    assert 'id="merged-from"' in html
    assert f'href="{_detail(pool.dup_a)}?merged=1"' in html
    # dup_a's status history (→ 处理中, note 已开始评估) shows on the survivor, tagged with its code
    changes = response.context["status_changes"]
    assert any(getattr(c, "merged_code", "") == pool.dup_a.code and c.note == "已开始评估" for c in changes)
    assert f'merged-origin">{pool.dup_a.code}</span>已开始评估' in html
    # and its audit rows (the comment on dup_a), marked "来自需求"
    history = response.context["history"]
    foreign = [h for h in history if h["rows"] and h["rows"][0]["label"] == "来自需求"]
    assert {h["rows"][0]["new"] for h in foreign} == {pool.dup_a.code, pool.dup_b.code}
    assert "技术上可以复用价格引擎" in html
    assert 'id="merge-history"' in html and "撤销合并" in html
    # the evidence and customers moved
    assert "大客户B" in html and "C零售" in html and "折扣规则.txt" in html


def test_undo_button_only_for_admins(client, pool, users):
    merge = _merge(pool, users)
    client.force_login(users["product_manager"])
    html = _html(client.get(_detail(pool.survivor)))
    assert 'id="merge-history"' in html and "merge-undo-form" not in html
    assert client.post(reverse("requirements:merge_undo", args=[merge.pk])).status_code == 403
    assert RequirementMerge.objects.get().undone_at is None


def test_undo_via_page(client, pool, users):
    merge = _merge(pool, users)
    client.force_login(users["admin"])
    response = client.post(reverse("requirements:merge_undo", args=[merge.pk]))
    assert response["Location"] == _detail(pool.survivor) + "#merge-history"
    assert "已撤销合并" in _messages(response)[0]
    assert Requirement.objects.get(pk=pool.dup_a.pk).merged_into_id is None
    response = client.post(reverse("requirements:merge_undo", args=[merge.pk]), follow=True)
    assert "不能重复撤销" in _html(response)
    html = _html(client.get(_detail(pool.survivor)))
    assert "merge-undone" in html


def test_undo_of_invisible_merge_is_404(client, pool, users, outsider):
    merge = _merge(pool, users)
    client.force_login(outsider)
    assert client.post(reverse("requirements:merge_undo", args=[merge.pk])).status_code == 404


# The page itself (its comments, attachments and watchers read only when it has some), the sections of reviews,
# delivery, evaluation and the loop (one probe for all, then a fixed number each for those with something recorded;
# planners see an empty delivery section), 4 for the customer profile (customers, contacts, interactions, needs)
SURVIVOR_DETAIL_QUERIES = 28


@pytest.mark.parametrize("merged_count", [1, 4])
def test_survivor_detail_query_count_does_not_grow_with_merges(
    client, pool, users, make_requirements, merged_count, django_assert_num_queries
):
    extra = make_requirements(3)
    merged = [pool.dup_a, pool.dup_b, *extra][:merged_count]
    _merge(pool, users, merged=merged)
    client.force_login(users["admin"])
    client.get(_detail(pool.survivor))  # warm the per-process caches (content types, site settings)
    # The same exact budget for one merged requirement or four: a query per merged one would break it.
    with django_assert_num_queries(SURVIVOR_DETAIL_QUERIES):
        response = client.get(_detail(pool.survivor))
    assert response.status_code == 200


def test_survivor_detail_query_count_is_the_same_for_one_or_many_merged(client, pool, users, make_requirements):
    client.force_login(users["admin"])
    _merge(pool, users, merged=[pool.dup_a])
    few = count_queries(client, _detail(pool.survivor))
    more = make_requirements(4)
    requirements_merge(
        actor=users["product_manager"], survivor_id=pool.survivor.pk, merged_ids=[pool.dup_b.pk, *[r.pk for r in more]]
    )
    many = count_queries(client, _detail(pool.survivor))
    assert many == few


# ---------------------------------------------------------------- watch


def test_watch_and_unwatch_buttons(client, pool, users):
    client.force_login(users["viewer"])
    html = _html(client.get(_detail(pool.other)))
    assert 'id="watch-form"' in html and "0 人关注" in html
    response = client.post(reverse("requirements:watch", args=[pool.other.pk]))
    assert response.status_code == 302
    html = _html(client.get(_detail(pool.other)))
    assert 'id="unwatch-form"' in html and "1 人关注" in html
    client.post(reverse("requirements:unwatch", args=[pool.other.pk]))
    assert not pool.other.watchers.exists()


def test_watch_is_post_only_and_404_for_outsiders(client, pool, users, outsider):
    client.force_login(users["viewer"])
    assert client.get(reverse("requirements:watch", args=[pool.other.pk])).status_code == 405
    client.force_login(outsider)
    assert client.post(reverse("requirements:watch", args=[pool.other.pk])).status_code == 404
    assert not pool.other.watchers.exists()


def test_merge_into_form_on_detail_page(client, pool, users):
    client.force_login(users["product_manager"])
    html = _html(client.get(_detail(pool.dup_a)))
    assert 'id="merge-into-form"' in html and f'name="ids" value="{pool.dup_a.pk}"' in html
    client.force_login(users["viewer"])
    assert 'id="merge-into-form"' not in _html(client.get(_detail(pool.dup_a)))
