"""The create form's live panel, the feedback inbox and the triage page (Django client)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from needpool.requirements.models import Feedback, Requirement
from tests.conftest import PASSWORD, option

INBOX = "/requirements/feedback/"
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def login(client):
    def as_user(user):
        client.force_login(user)
        return client

    return as_user


# ---------------------------------------------------------------- create form panel


def test_create_form_has_the_live_similar_panel(login, users, db):
    response = login(users["sales"]).get(reverse("requirements:create"))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="similar-panel"' in html
    assert f'hx-post="{reverse("requirements:similar_panel")}"' in html
    assert "input changed delay:400ms from:#id_title" in html
    assert 'hx-include="#id_title, #id_description, #id_concrete_ask"' in html


def test_the_panel_lists_similar_requirements_with_score_and_link(login, users, pool):
    response = login(users["sales"]).get(
        reverse("requirements:similar_panel"),
        {"title": "大客户批量采购", "description": "希望能自动享受等级折扣"},
        **HTMX,
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html  # the partial only
    assert 'id="similar-list"' in html
    assert pool["discount"].title in html
    assert reverse("requirements:detail", args=[pool["discount"].pk]) in html
    assert "%</span>" in html
    assert html.index(pool["discount"].title) < html.index("</ul>")


def test_the_panel_before_typing_and_without_matches(login, users, pool):
    client = login(users["sales"])
    empty = client.get(reverse("requirements:similar_panel"), **HTMX).content.decode()
    assert "输入标题或描述后" in empty
    none = client.get(reverse("requirements:similar_panel"), {"title": "今天天气很好"}, **HTMX).content.decode()
    assert "没有找到相似的需求" in none


def test_the_panel_is_permission_scoped(login, users, pool, other_sales):
    html = (
        login(other_sales)
        .get(reverse("requirements:similar_panel"), {"title": pool["sso"].title}, **HTMX)
        .content.decode()
    )
    # A strong match out of scope is named (tests/requirements/dedup/test_dedup_scope.py), never linked.
    assert reverse("requirements:detail", args=[pool["sso"].pk]) not in html
    weak = login(other_sales).get(reverse("requirements:similar_panel"), {"title": "企业微信"}, **HTMX)
    assert pool["sso"].title not in weak.content.decode()


# ---------------------------------------------------------------- inbox


def test_inbox_lists_unlinked_feedback_with_its_best_match(login, users, pool, make_feedback):
    loose = make_feedback("我们的VIP客户一次买很多，能不能系统自动按等级给他们算折扣")
    other = make_feedback("今天天气很好")
    html = login(users["sales"]).get(INBOX).content.decode()
    assert f'data-id="{loose.pk}"' in html
    assert f'data-id="{other.pk}"' in html
    row = html[html.index(f'data-id="{loose.pk}"') :]
    row = row[: row.index("</tr>")]
    assert pool["discount"].code in row
    assert reverse("requirements:feedback_triage", args=[loose.pk]) in row
    assert "无相似需求" in html[html.index(f'data-id="{other.pk}"') :]
    # Feedback that already belongs to a requirement (the pool's own evidence) is not in the inbox.
    linked = Feedback.objects.filter(requirement__isnull=False).first()
    assert linked is not None and f'data-id="{linked.pk}"' not in html


def test_inbox_is_permission_scoped_and_filterable(login, users, pool, make_feedback, other_sales):
    mine = make_feedback("希望支持批量导入订单")
    phone = make_feedback("电话里说希望能导出报表", channel="ticket")
    assert f'data-id="{mine.pk}"' not in login(other_sales).get(INBOX).content.decode()
    html = login(users["sales"]).get(INBOX, {"channel": "ticket"}).content.decode()
    assert f'data-id="{phone.pk}"' in html and f'data-id="{mine.pk}"' not in html


def test_inbox_query_count_does_not_grow_with_rows(login, users, pool, make_feedback, django_assert_max_num_queries):
    """Session, user, count, page, the index's cache token, one visibility query for every row's
    best match, the nav's unread count, the saved-views menu: 8, with 1 row or 25."""
    client = login(users["manager"])
    make_feedback("希望支持批量导入订单")
    client.get(INBOX)  # builds the index
    with django_assert_max_num_queries(8):
        assert client.get(INBOX).status_code == 200
    for i in range(30):
        make_feedback(f"第{i}条：希望大客户批量采购能自动享受等级折扣")
    with django_assert_max_num_queries(8):
        response = client.get(INBOX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('class="inbox-row"') == 25  # paginated
    assert html.count(pool["discount"].code) == 25


def test_nav_links_to_the_inbox(login, users, db):
    html = login(users["viewer"]).get(reverse("home:home")).content.decode()
    assert f'href="{INBOX}"' in html


# ---------------------------------------------------------------- triage


def test_triage_shows_the_words_and_the_top_5_similar(login, users, pool, make_feedback, customer):
    fb = make_feedback("能不能用企业微信账号直接登录，不想记那么多密码", channel="ticket")
    html = login(users["sales"]).get(reverse("requirements:feedback_triage", args=[fb.pk])).content.decode()
    assert "能不能用企业微信账号直接登录" in html
    assert customer.name in html
    assert "工单系统" in html
    assert html.count('class="list-group-item triage-candidate"') <= 5
    first = html.index('class="list-group-item triage-candidate"')
    assert f'data-id="{pool["sso"].pk}"' in html[first : first + 120]
    assert "关联到此需求" in html
    assert f'href="{reverse("requirements:create")}?feedback={fb.pk}"' in html
    assert "Suggestions panel" in html or "suggest" in html  # the suggestions tag is rendered


def test_triage_of_invisible_feedback_is_404(login, make_feedback, other_sales):
    fb = make_feedback("希望支持批量导入订单")
    assert login(other_sales).get(reverse("requirements:feedback_triage", args=[fb.pk])).status_code == 404


def test_link_action_links_the_feedback(login, users, pool, make_feedback):
    fb = make_feedback("希望大客户批量采购能自动享受等级折扣")
    response = login(users["sales"]).post(
        reverse("requirements:feedback_triage_link", args=[fb.pk]), {"requirement": pool["discount"].pk}
    )
    assert response.status_code == 302 and response.url == INBOX
    fb.refresh_from_db()
    assert fb.requirement_id == pool["discount"].pk
    assert f'data-id="{fb.pk}"' not in login(users["sales"]).get(INBOX).content.decode()


def test_link_needs_the_right_to_edit_the_requirement(login, users, pool, make_feedback):
    fb = make_feedback("希望大客户批量采购能自动享受等级折扣")
    response = login(users["viewer"]).post(
        reverse("requirements:feedback_triage_link", args=[fb.pk]), {"requirement": pool["discount"].pk}
    )
    assert response.status_code == 403
    fb.refresh_from_db()
    assert fb.requirement_id is None


@pytest.mark.parametrize("value", ["", "abc", "999999"])
def test_link_to_a_missing_requirement_changes_nothing(login, users, pool, make_feedback, value):
    fb = make_feedback("希望大客户批量采购能自动享受等级折扣")
    client = login(users["sales"])
    response = client.post(reverse("requirements:feedback_triage_link", args=[fb.pk]), {"requirement": value})
    assert response.status_code == 302
    fb.refresh_from_db()
    assert fb.requirement_id is None
    assert "需求不存在或您无权访问" in client.get(response.url).content.decode()


def test_link_is_post_only(login, users, pool, make_feedback):
    fb = make_feedback("希望大客户批量采购能自动享受等级折扣")
    assert login(users["sales"]).get(reverse("requirements:feedback_triage_link", args=[fb.pk])).status_code == 405


# ---------------------------------------------------------------- a new requirement from feedback


def test_create_form_is_prefilled_from_feedback(login, users, make_feedback, customer):
    fb = make_feedback("会员积分可以兑换礼品\n客户希望积分能抵扣货款", channel="ticket")
    Feedback.objects.filter(pk=fb.pk).update(type=option("type", "function"))
    fb.tags.set([option("tag", "efficiency")])
    html = login(users["sales"]).get(reverse("requirements:create"), {"feedback": fb.pk}).content.decode()
    assert 'id="source-feedback"' in html
    assert f'name="feedback" value="{fb.pk}"' in html
    assert 'value="会员积分可以兑换礼品"' in html
    assert "客户希望积分能抵扣货款" in html
    assert f'<option value="{customer.pk}" selected' in html
    assert f'<option value="{option("type", "function").pk}" selected' in html


def test_creating_from_feedback_links_it_and_takes_its_type_and_tags(login, users, make_feedback, customer):
    fb = make_feedback("会员积分可以兑换礼品", channel="ticket")
    form = {
        "feedback": fb.pk,
        "title": "会员积分兑换礼品",
        "description": fb.raw_text,
        "customer": customer.pk,
        "channel": "ticket",
        "type": option("type", "function").pk,
        "tags": [option("tag", "efficiency").pk],
    }
    response = login(users["sales"]).post(reverse("requirements:create"), form)
    assert response.status_code == 302, response.content.decode()[:2000]
    requirement = Requirement.objects.get(title="会员积分兑换礼品")
    fb.refresh_from_db()
    assert fb.requirement_id == requirement.pk
    assert list(requirement.feedback_items.all()) == [fb]  # no second feedback row with the same words


def test_create_from_invisible_feedback_is_404(login, make_feedback, other_sales):
    fb = make_feedback("希望支持批量导入订单")
    assert login(other_sales).get(reverse("requirements:create"), {"feedback": fb.pk}).status_code == 404


def test_password_constant_is_shared():
    assert PASSWORD
