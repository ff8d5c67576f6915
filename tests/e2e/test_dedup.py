"""Duplicate detection in the browser: typing a title on the create form shows similar requirements."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from needpool.requirements.dedup import index as dedup
from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in
from tests.e2e.helpers import screenshot


@pytest.fixture(autouse=True)
def _fresh_index():
    dedup.reset_index()
    yield
    dedup.reset_index()


def test_typing_a_title_shows_similar_requirements_live(page, users, requirement):
    sign_in(page, "sales", PASSWORD)
    page.goto(page.base_url + "/requirements/new/")
    panel = page.locator("#similar-panel")
    expect(panel).to_contain_text("输入标题或描述后")

    page.locator("#id_title").press_sequentially("大客户批量采购希望自动按等级打折", delay=20)
    item = panel.locator(".similar-item").first
    expect(item).to_contain_text(requirement.title, timeout=15_000)
    expect(item.locator(".similar-score")).to_have_text(re.compile(r"^\d{1,3}%$"))
    expect(item.locator("a")).to_have_attribute("href", f"/requirements/{requirement.pk}/")
    screenshot(page, "dedup_create_form_similar_panel")

    # Words about something else: the panel says there is nothing similar.
    page.locator("#id_title").fill("")
    page.locator("#id_title").press_sequentially("今天天气很好", delay=20)
    expect(panel.locator(".similar-none")).to_be_visible(timeout=15_000)


def test_inbox_and_triage_link_a_feedback_item(page, users, requirement, customer):
    from needpool.requirements.services import feedback_create

    feedback = feedback_create(
        actor=users["sales"],
        raw_text="我们的VIP客户批量下单，希望能按客户等级自动打折",
        channel="ticket",
        customer=customer,
    )
    sign_in(page, "sales", PASSWORD)
    page.goto(page.base_url + "/requirements/feedback/")
    row = page.locator(f'.inbox-row[data-id="{feedback.pk}"]')
    expect(row.locator(".inbox-match")).to_contain_text(requirement.code)
    screenshot(page, "dedup_feedback_inbox")
    row.get_by_role("link", name="处理").click()
    page.wait_for_url(f"**/requirements/feedback/{feedback.pk}/")
    candidate = page.locator(f'.triage-candidate[data-id="{requirement.pk}"]')
    expect(candidate).to_contain_text(requirement.title)
    screenshot(page, "dedup_feedback_triage")
    candidate.get_by_role("button", name="关联到此需求").click()
    page.wait_for_url("**/requirements/feedback/")
    expect(page.locator(".alert-success")).to_contain_text(f"已关联到需求 {requirement.code}")
    feedback.refresh_from_db()
    assert feedback.requirement_id == requirement.pk
