"""Requirements through their pages: the create form, the detail page's status buttons and @mentions."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from needpool.core.models import Notification
from needpool.requirements.models import Requirement, StatusChange
from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in
from tests.e2e.helpers import other_context


def test_sales_records_a_requirement_for_a_customer_and_lands_on_its_page(page, users, customer):
    contact = customer.contacts.get()
    sign_in(page, "sales", PASSWORD)
    page.goto(page.base_url + "/requirements/")
    page.get_by_role("link", name="录入需求").first.click()
    page.wait_for_url("**/requirements/new/")

    form = page.locator("#requirement-form")
    form.locator("#id_customer").select_option(str(customer.pk))
    # Choosing the customer loads its contacts into the next select (htmx).
    expect(form.locator(f'#id_contact option[value="{contact.pk}"]')).to_have_count(1)
    form.locator("#id_contact").select_option(str(contact.pk))
    form.locator("#id_channel").select_option("sales")
    form.locator("#id_title").fill("订单导出支持按客户等级筛选")
    form.locator("#id_description").fill("王总反馈：导出订单时希望只导出某一客户等级的订单")
    form.locator("#id_background").fill("财务每月按客户等级对账，目前要手工筛选")
    form.locator("#id_concrete_ask").fill("订单导出页增加“客户等级”筛选条件")
    form.locator("#id_expected_date").fill("2030-06-30")
    form.locator("#id_type").select_option(label="功能优化")
    form.locator("#id_urgency").select_option(label="重要")
    form.locator("#id_category").select_option(label="功能需求")
    form.get_by_label("效率提升").check()
    form.get_by_role("button", name="创建需求").click()

    # This create is the test server's first (tests run without the warm-up); on a loaded CI run it once took
    # longer than the default 10 s to land on the new page, so the wait allows 30 s.
    page.wait_for_url(re.compile(r"/requirements/\d+/$"), timeout=30_000)
    requirement = Requirement.objects.get(title="订单导出支持按客户等级筛选")
    assert re.fullmatch(r"DEM\d+", requirement.code), requirement.code
    expect(page.locator(".page-title")).to_contain_text(requirement.code)
    expect(page.locator(".page-title")).to_contain_text("订单导出支持按客户等级筛选")
    expect(page.locator(".alert-success")).to_contain_text(f"需求 {requirement.code} 已创建")
    expect(page.locator("#classification")).to_contain_text("A科技公司")
    expect(page.locator("#classification")).to_contain_text("功能优化")
    expect(page.locator("#classification")).to_contain_text("效率提升")
    expect(page.locator("#requirement-content")).to_contain_text("2030-06-30")
    expect(page.locator("#current-status")).to_have_text("待处理")
    expect(page.locator("#gate-warning")).to_have_count(0)  # complete: may leave 待处理
    # The customer's words are its first evidence, with the chosen contact.
    evidence = page.locator("#evidence .feedback-item")
    expect(evidence).to_have_count(1)
    expect(evidence).to_contain_text("王总")
    feedback = requirement.feedback_items.get()
    assert (feedback.customer_id, feedback.contact_id) == (customer.pk, contact.pk)
    assert requirement.owner == users["sales"]
    assert requirement.status.key == "new"


def test_detail_page_transition_with_note_and_mention_notifies_the_colleague(page, browser, users, requirement):
    sign_in(page, "product_manager", PASSWORD)
    page.goto(page.base_url + f"/requirements/{requirement.pk}/")
    expect(page.locator("#current-status")).to_have_text("待处理")

    transition = page.locator("#transition-form")
    transition.locator("#transition-note").fill("已排入 6 月迭代")
    transition.get_by_role("button", name="流转到“处理中”").click()

    expect(page.locator(".alert-success")).to_contain_text(f"需求 {requirement.code} 已流转到“处理中”")
    expect(page.locator("#current-status")).to_have_text("处理中")
    move = page.locator("#status-history tbody tr", has_text="已排入 6 月迭代")
    expect(move).to_contain_text("待处理")
    expect(move).to_contain_text("处理中")
    change = StatusChange.objects.get(requirement=requirement, note="已排入 6 月迭代")
    assert (change.source.key, change.target.key, change.actor) == ("new", "in_progress", users["product_manager"])

    comments = page.locator("#comment-form")
    comments.locator("#id_body").fill("@engineer 请评估导出改造的工作量，谢谢。")
    comments.get_by_role("button", name="发表评论").click()

    page.wait_for_url(re.compile(rf"/requirements/{requirement.pk}/#comment-\d+$"))
    expect(page.locator(".alert-success")).to_contain_text("评论已发布")
    expect(page.locator(".comment-body .mention")).to_have_text("@engineer")
    assert Notification.objects.filter(recipient=users["engineer"], read_at__isnull=True).count() == 1

    # The engineer, in a browser of their own, sees the bell badge and the notification.
    with other_context(browser, page.base_url, "test_mention_seen_by_engineer") as engineer_page:
        sign_in(engineer_page, "engineer", PASSWORD)
        badge = engineer_page.locator("#nav-notifications .unread-count")
        expect(badge).to_have_text("1")
        engineer_page.locator("#nav-notifications").click()
        engineer_page.wait_for_url("**/notifications/")
        item = engineer_page.locator("#notification-list .list-group-item").first
        expect(item).to_contain_text(f"在需求 {requirement.code} 中提到了您")
        expect(item).to_contain_text("未读")
        item.get_by_role("link").click()
        engineer_page.wait_for_url(re.compile(rf"/requirements/{requirement.pk}/#comment-\d+$"))
        expect(engineer_page.locator(".comment-body")).to_contain_text("请评估导出改造的工作量")
