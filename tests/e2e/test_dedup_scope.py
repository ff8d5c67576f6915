"""A sales rep meets a duplicate where they create it: 转为反馈 on a customer's key ask shows the similar panel
right there, naming a strong match of another owner's customer (code, title, status, 属于其他客户) that takes
the feedback with one click. Long words reach the create form's panel (POST), and a failed lookup says so."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from needpool.accounts.models import Team
from needpool.accounts.roles import Role
from needpool.requirements.dedup import index as dedup
from needpool.requirements.models import Feedback
from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in
from tests.e2e.helpers import assert_no_horizontal_overflow, screenshot

SIZES = [pytest.param((390, 844), id="phone"), pytest.param((1366, 768), id="laptop")]


@pytest.fixture(autouse=True)
def _fresh_index():
    dedup.reset_index()
    yield
    dedup.get_index().wait_for_embeddings(timeout=60)
    dedup.reset_index()


@pytest.fixture
def rep(make_user):
    """A sales rep of another team: none of the ``sales`` user's customers or requirements are theirs."""
    return make_user(Role.SALES, username="rep-east", team=Team.objects.create(name="华东销售部"))


@pytest.fixture
def rep_interaction(rep, requirement):
    from needpool.customers.services import customer_create, interaction_create

    mine = customer_create(actor=rep, name="东方物流集团", industry="物流", owner=rep)
    return interaction_create(
        actor=rep,
        customer=mine,
        channel="visit",
        occurred_at=timezone.now() - dt.timedelta(hours=2),
        key_content="季度拜访，沟通批量采购",
        key_asks=f"{requirement.title}\n希望发票按月合并开具",
    )


@pytest.mark.parametrize("size", SIZES)
def test_ask_to_feedback_then_link_to_another_customers_requirement(page, rep, rep_interaction, requirement, size):
    width, height = size
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, "rep-east", PASSWORD)
    # The index is built before the click (the live server shares it), so a loaded machine answers in time;
    # the click waits for htmx, so it is the panel's request and not a plain form post.
    index = dedup.get_index()
    index.ensure_fresh()
    assert index.wait_for_embeddings(timeout=60)
    page.goto(page.base_url + f"/customers/{rep_interaction.customer_id}/")
    page.wait_for_load_state("networkidle")
    page.wait_for_function("typeof window.htmx === 'object'")
    ask = page.locator(f"#ask-{rep_interaction.pk}-0")
    ask.get_by_role("button", name="转为反馈").click()
    expect(ask).to_contain_text("已转为反馈", timeout=30_000)

    feedback = Feedback.objects.get(interaction=rep_interaction)
    expect(ask.get_by_role("link", name=f"已转为反馈 #{feedback.pk}")).to_have_attribute(
        "href", f"/requirements/feedback/{feedback.pk}/"
    )
    item = ask.locator(f'.similar-item[data-id="{requirement.pk}"]')
    expect(item).to_contain_text(requirement.code, timeout=15_000)
    expect(item).to_contain_text(requirement.title)
    expect(item.locator(".similar-other")).to_have_text("属于其他客户")
    expect(item.locator(".similar-status")).to_have_text(requirement.status.label)
    expect(item.locator("a")).to_have_count(0)  # nothing to open: the page would refuse them
    expect(ask.get_by_role("link", name="新建需求")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("A科技公司")
    expect(page.locator("body")).not_to_contain_text(requirement.description)
    assert page.request.get(page.base_url + f"/requirements/{requirement.pk}/").status == 404  # still closed
    button = item.get_by_role("button", name="关联到此需求")
    button.scroll_into_view_if_needed()
    expect(button).to_be_in_viewport()
    assert_no_horizontal_overflow(page, width)
    screenshot(page, f"dedup_scope_ask_panel_{width}")

    button.click()
    done = ask.locator(".similar-attached")
    expect(done).to_contain_text(f"已关联到需求 {requirement.code}")
    expect(done.locator("a")).to_have_count(0)
    feedback.refresh_from_db()
    assert feedback.requirement_id == requirement.pk
    assert page.request.get(page.base_url + f"/requirements/{requirement.pk}/").status == 404  # a vote opens nothing
    expect(page.locator("body")).not_to_contain_text("A科技公司")
    assert_no_horizontal_overflow(page, width)
    screenshot(page, f"dedup_scope_ask_linked_{width}")


@pytest.mark.parametrize("size", SIZES)
def test_long_words_reach_the_panels_and_a_failed_lookup_says_so(page, users, requirement, size):
    width, height = size
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, "sales", PASSWORD)
    page.goto(page.base_url + "/requirements/new/")
    panel = page.locator("#similar-panel")
    long_words = (
        requirement.title + "。" + "客户希望按等级自动计算批量下单折扣，减少销售手工改价。" * 30
    )  # ~800 characters
    page.locator("#id_description").fill(long_words)
    page.locator("#id_description").press("End")
    page.locator("#id_description").type("。")
    expect(panel.locator(f'.similar-item[data-id="{requirement.pk}"]')).to_be_visible(timeout=15_000)
    expect(page.locator("#suggest-hint .lookup-error")).to_have_count(0)
    screenshot(page, f"dedup_scope_long_text_{width}")

    page.route("**/requirements/similar/", lambda route: route.fulfill(status=500, body="boom"))
    page.locator("#id_title").fill("批量折扣")
    page.locator("#id_title").type("规则")
    expect(panel.locator(".lookup-error")).to_have_text("暂时无法查找相似需求，请稍后再试。", timeout=15_000)
    assert_no_horizontal_overflow(page, width)
    screenshot(page, f"dedup_scope_lookup_failed_{width}")
