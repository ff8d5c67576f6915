"""Closing the loop in the browser: a customer rates a closed requirement through the mailed link (no
account), and the manager sees the satisfaction on the loop overview, also at phone width."""

from __future__ import annotations

import datetime as dt
import re

from playwright.sync_api import expect

from needpool.loop.models import SurveyInvitation
from needpool.requirements.models import ClassOption
from needpool.requirements.services import requirement_create, requirement_transition
from tests.conftest import PASSWORD
from tests.e2e.conftest import ARTIFACTS, sign_in


def test_customer_rates_a_closed_requirement_and_the_manager_sees_it(page, browser, users, customer, mailoutbox):
    pm = users["product_manager"]
    requirement = requirement_create(
        actor=pm,
        customer=customer,
        contact=customer.contacts.get(),
        title="按客户等级设置批量订单折扣规则",
        description="按客户等级自动计算批量下单折扣",
        background="批量订单多",
        concrete_ask="支持按客户等级配置批量折扣规则",
        expected_date=dt.date(2024, 6, 30),
        type=ClassOption.objects.get(dimension="type", key="function_improvement"),
        urgency=ClassOption.objects.get(dimension="urgency", key="important"),
    )
    for target in ("in_progress", "testing", "launched", "closed"):
        requirement_transition(actor=pm, requirement=requirement, to=target)
    mail = next(m for m in mailoutbox if "打分" in m.subject)
    link = re.search(r"/portal/loop/s/[A-Za-z0-9_-]+/", mail.body)
    assert link

    survey = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}).new_page()
    survey.goto(page.base_url + link.group(0))
    expect(survey.locator("#survey-question")).to_contain_text(requirement.title)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    survey.screenshot(path=str(ARTIFACTS / "loop_survey_phone.png"), full_page=True)
    survey.locator("label", has_text="5").first.click()
    survey.locator("#id_comment").fill("上线很及时，谢谢")
    survey.get_by_role("button", name="提交").click()
    expect(survey.locator("#survey-done")).to_contain_text("感谢您的反馈")
    survey.context.close()
    assert SurveyInvitation.objects.get(requirement=requirement).score == 5

    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, "manager", PASSWORD)
    page.goto(page.base_url + "/loop/")
    expect(page.locator("#csat-overall")).to_have_text("100 %")
    expect(page.locator("#csat-requirements")).to_contain_text(requirement.code)
    expect(page.locator("#recent-notices")).to_contain_text("wang@a-tech.com.cn")
