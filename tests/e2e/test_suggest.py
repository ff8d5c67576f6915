"""Suggestions in the browser: accepting or correcting is one click, and nothing is set before it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from playwright.sync_api import expect

from needpool.suggest.models import Outcome, Suggestion, SuggestModel
from tests.conftest import PASSWORD
from tests.e2e.conftest import ARTIFACTS, sign_in
from tests.e2e.helpers import screenshot
from tests.suggest.conftest import classified_pool  # noqa: F401 - a fixture


@pytest.fixture
def feedback(users, customer):
    from needpool.requirements.services import feedback_create

    return feedback_create(
        actor=users["sales"],
        customer=customer,
        channel="ticket",
        raw_text="你们的报价太贵了，续费能不能打个折？再不降价我们明年就考虑换系统了。",
    )


def triage_url(pk: int) -> str:
    """The feedback triage page (which shows the suggestions panel), else the suggestions' own page."""
    try:
        return reverse("requirements:feedback_triage", args=[pk])
    except NoReverseMatch:
        return reverse("suggest:feedback", args=[pk])


def test_accept_type_and_correct_sentiment_on_a_feedback_item(page, users, feedback):
    sign_in(page, "sales", PASSWORD)
    page.goto(page.base_url + triage_url(feedback.pk))
    panel = page.locator(f"#suggest-panel-feedback-{feedback.pk}")
    type_row = panel.locator('.suggest-row[data-field="type"]')
    expect(type_row.locator(".suggest-value")).to_have_text("价格")
    expect(type_row.locator(".suggest-current")).to_have_text("—")
    feedback.refresh_from_db()
    assert feedback.type_id is None  # shown, not applied

    type_row.get_by_role("button", name="采纳").click()
    expect(type_row.locator(".suggest-outcome")).to_have_text("已采纳")
    expect(
        page.locator(f"#suggest-panel-feedback-{feedback.pk} .suggest-row[data-field='type'] .suggest-current")
    ).to_have_text("价格")
    feedback.refresh_from_db()
    assert feedback.type.key == "price"
    expect(page.locator("#feedback-type")).to_have_text("价格")  # the feedback card follows without a reload

    # Correct the sentiment: open the small menu, one click on the right value.
    sentiment = page.locator(f"#suggest-panel-feedback-{feedback.pk} .suggest-row[data-field='sentiment']")
    expect(sentiment.locator(".suggest-value")).to_have_text("不满")
    sentiment.get_by_role("button", name="更正").click()
    sentiment.get_by_role("button", name="中性").click()
    sentiment = page.locator(f"#suggest-panel-feedback-{feedback.pk} .suggest-row[data-field='sentiment']")
    expect(sentiment.locator(".suggest-outcome")).to_have_text("已更正：中性")
    expect(sentiment.locator(".suggest-current")).to_have_text("中性")
    feedback.refresh_from_db()
    assert feedback.sentiment == "neutral"
    expect(page.locator("#feedback-sentiment")).to_have_text("中性")
    assert Suggestion.objects.get(feedback=feedback, field="sentiment").outcome == Outcome.CORRECTED
    screenshot(page, "suggest_feedback_panel")


def test_mood_suggestion_on_the_customer_page(page, users, customer):
    from needpool.customers.services import interaction_create

    interaction = interaction_create(
        actor=users["sales"],
        customer=customer,
        channel="phone",
        occurred_at=timezone.now() - dt.timedelta(hours=2),
        key_content="客户对售后处理非常不满意，投诉工单三天没人回复",
        key_asks="尽快安排技术人员上门",
    )
    sign_in(page, "sales", PASSWORD)
    page.goto(page.base_url + f"/customers/{customer.pk}/")
    item = page.locator(f"#interaction-{interaction.pk}")
    item.scroll_into_view_if_needed()
    panel = page.locator(f"#suggest-panel-interaction-{interaction.pk}")
    # loaded by htmx when revealed; it contradicts the recorded 中性, so it is asked, not stated
    expect(panel.locator(".suggest-value")).to_have_text("是否应为“不满”？")
    expect(page.locator(f"#interaction-mood-{interaction.pk}")).to_have_text("中性")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    item.screenshot(path=str(ARTIFACTS / "suggest_customer_mood_pending.png"))
    panel.get_by_role("button", name="采纳").click()
    expect(page.locator(f"#suggest-panel-interaction-{interaction.pk} .suggest-outcome")).to_have_text("已采纳")
    expect(page.locator(f"#interaction-mood-{interaction.pk}")).to_have_text("不满")  # the badge follows
    interaction.refresh_from_db()
    assert interaction.mood == "dissatisfied"
    screenshot(page, "suggest_customer_mood")


def test_retrain_now_shows_progress(page, users, feedback):
    sign_in(page, "product_manager", PASSWORD)
    page.goto(page.base_url + "/suggest/")
    expect(page.locator("#kind-type .in-use")).to_contain_text("关键词规则")
    page.locator("#retrain").click()
    page.wait_for_url("**/suggest/jobs/*/")
    expect(page.locator("#job-progress")).to_have_attribute("data-status", "done", timeout=30_000)
    expect(page.locator("#job-message")).to_contain_text("样本不足")
    assert not SuggestModel.objects.exists()  # too few classified examples: the rules stay in use
    screenshot(page, "suggest_job")
    page.get_by_role("link", name="查看模型").click()
    expect(page.locator("#jobs .list-group-item").first).to_contain_text("已完成")
    screenshot(page, "suggest_models")


def test_models_page_after_training(page, users, classified_pool):  # noqa: F811
    classified_pool()
    sign_in(page, "admin", PASSWORD)
    page.goto(page.base_url + "/suggest/")
    page.locator("#retrain").click()
    expect(page.locator("#job-progress")).to_have_attribute("data-status", "done", timeout=60_000)
    page.get_by_role("link", name="查看模型").click()
    expect(page.locator("#kind-type .in-use")).to_contain_text("v1")
    expect(page.locator("#kind-type .model-samples")).to_have_text(str(SuggestModel.objects.get(kind="type").samples))
    screenshot(page, "suggest_models_trained")


def test_typing_a_requirement_suggests_type_and_tags(page, users):
    sign_in(page, "sales", PASSWORD)
    page.goto(page.base_url + reverse("requirements:create"))
    page.locator("#id_title").fill("希望订单列表支持批量导出，一个个导出太浪费时间")
    hint = page.locator('#suggest-hint .suggest-apply[data-field="type"]')
    expect(hint).to_contain_text("功能")
    hint.click()
    expect(page.locator("#id_type")).to_have_value(hint.get_attribute("data-pk"))
    tag = page.locator('#suggest-hint .suggest-apply[data-key="bulk_operation"]')
    tag.click()
    expect(page.locator(f'input[name="tags"][value="{tag.get_attribute("data-pk")}"]')).to_be_checked()
    screenshot(page, "suggest_requirement_form")
