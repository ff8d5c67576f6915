"""The public customer portal in a real browser: submit, track, abuse refusals; and the staff side."""

from __future__ import annotations

import datetime as dt
import re

from django.utils import timezone
from playwright.sync_api import expect

from needpool.intake.channels.services import channel_create, channel_update
from needpool.intake.models import Submission
from needpool.intake.portal.services import portal_message_send
from needpool.requirements.models import Feedback
from needpool.requirements.services import feedback_link, requirement_create, requirement_transition
from tests.conftest import PASSWORD, option
from tests.e2e.conftest import sign_in
from tests.e2e.helpers import assert_no_horizontal_overflow, screenshot


def _channel(users, **data):
    defaults = {
        "name": "产品需求征集",
        "slug": "site",
        "kind": "portal",
        "intro": "欢迎提出产品功能、服务、价格等方面的需求。我们会在 3 个工作日内给出初步答复。",
    }
    return channel_create(actor=users["admin"], **{**defaults, **data})


def _fill(page, *, description: str = "希望订单列表支持按客户等级批量设置折扣，减少人工改价。") -> None:
    form = page.locator("#portal-form")
    form.locator("#id_customer").fill("A科技公司")
    form.locator("#id_contact_name").fill("王经理")
    form.locator("#id_contact_phone").fill("010-62345678")
    form.locator("#id_contact_email").fill("wang@a-tech.com.cn")
    form.locator("#id_type").select_option(label="功能")
    form.locator("#id_description").fill(description)


def test_customer_submits_on_the_portal_and_follows_the_status(page, users, customer):
    channel = _channel(users)
    page.goto(page.base_url + "/portal/")
    expect(page.locator("#portal-channels a")).to_have_count(2)  # with the channel a new install starts with
    screenshot(page, "portal_index")
    page.locator("#portal-channels a", has_text="产品需求征集").click()
    page.wait_for_url("**/portal/site/")
    expect(page.locator("#portal-title")).to_have_text("产品需求征集")
    expect(page.locator("#portal-intro")).to_contain_text("3 个工作日")
    expect(page.locator("input[name=website]")).not_to_be_in_viewport()  # the honeypot is off screen
    screenshot(page, "portal_form")

    _fill(page)
    expected = (timezone.localdate() + dt.timedelta(days=60)).isoformat()
    page.locator("#id_expected_date").fill(expected)
    page.locator("#id_attachments").set_input_files(
        [{"name": "现有流程.png", "mimeType": "image/png", "buffer": b"\x89PNG\r\n\x1a\n-screenshot"}]
    )
    page.locator("#portal-submit").click()

    page.wait_for_url(re.compile(r"/portal/track/[\w-]+/$"))
    expect(page.locator(".alert-success")).to_contain_text("提交成功")
    expect(page.locator(".alert-success")).to_contain_text("wang@a-tech.com.cn")
    card = page.locator(".tracked-submission")
    expect(card).to_have_count(1)
    expect(card.locator(".submission-status")).to_have_text("已收到，待评估")
    expect(card).to_contain_text("按客户等级批量设置折扣")
    expect(card).to_contain_text("现有流程.png")
    expect(page.locator("#tracking-url")).to_have_value(page.url)
    screenshot(page, "portal_track_received")

    submission = Submission.objects.get(channel=channel)
    assert submission.feedback.customer == customer and submission.feedback.requirement is None
    assert submission.expected_date.isoformat() == expected

    # Staff take it up: a requirement in progress, and a message to the customer.
    pm = users["product_manager"]
    requirement = requirement_create(
        actor=pm,
        title="按客户等级批量设置折扣",
        customer=customer,
        background="批量订单多，人工改价慢",
        concrete_ask="按客户等级配置批量折扣规则",
        expected_date=submission.expected_date,
        type=option("type", "function"),
    )
    feedback_link(actor=pm, feedback=submission.feedback, requirement=requirement)
    requirement_transition(actor=pm, requirement=requirement, to="in_progress")
    portal_message_send(actor=pm, submission=submission, body="您的需求已进入开发评估，预计下月给出方案。")

    page.reload()
    expect(card.locator(".submission-status")).to_have_text("处理中")
    expect(card.locator(".portal-message")).to_contain_text("预计下月给出方案")
    expect(page.locator("body")).not_to_contain_text(requirement.code)  # the portal shows a label only
    screenshot(page, "portal_track_status")

    # On a phone the tracking page and the form fit the screen.
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert_no_horizontal_overflow(page, 390)
    page.goto(page.base_url + "/portal/site/")
    assert_no_horizontal_overflow(page, 390)
    screenshot(page, "portal_form_phone")
    page.go_back()

    # The page speaks the visitor's language: the switch reloads it in English.
    page.locator("#portal-language").select_option("en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator(".tracked-submission")).to_have_count(1)


def test_portal_refuses_a_bot_and_a_flood_and_says_why(page, users):
    channel = _channel(users, portal_rate_limit=2)
    page.goto(page.base_url + "/portal/site/")
    _fill(page)
    # A bot fills every field it finds, including the one people never see.
    page.evaluate("document.querySelector('input[name=website]').value = 'http://cheap-pills.example'")
    page.locator("#portal-submit").click()
    refusal = page.locator("#portal-refusal")
    expect(refusal).to_contain_text("您的需求未提交")
    expect(refusal).to_contain_text("隐藏字段")
    screenshot(page, "portal_refused_honeypot")
    assert not Feedback.objects.exists()

    # A person: the next submission goes through; one more within the hour is over the channel's limit
    # (every POST from the address counts, the bot's included).
    page.goto(page.base_url + "/portal/site/")
    _fill(page)
    page.locator("#portal-submit").click()
    page.wait_for_url(re.compile(r"/portal/track/"))
    page.goto(page.base_url + "/portal/site/")
    _fill(page, description="第二条需求：希望支持导出 Excel。")
    page.locator("#portal-submit").click()
    refusal = page.locator("#portal-refusal")
    expect(refusal).to_contain_text("提交过于频繁")
    expect(refusal).to_contain_text("每小时最多提交 2 次")
    expect(page.locator("#id_description")).to_have_value("第二条需求：希望支持导出 Excel。")
    screenshot(page, "portal_refused_rate_limit")
    assert Submission.objects.filter(channel=channel).count() == 1

    # The privacy rule: a personal mobile is refused next to the field.
    channel_update(actor=users["admin"], channel=channel, portal_rate_limit=20)
    page.goto(page.base_url + "/portal/site/")
    _fill(page)
    page.locator("#id_contact_phone").fill("138 0013 8000")
    page.locator("#portal-submit").click()
    expect(page.locator("#id_contact_phone_error")).to_contain_text("禁止记录个人手机号")
    expect(page.locator("#portal-errors")).to_be_visible()
    screenshot(page, "portal_refused_privacy")
    assert Submission.objects.filter(channel=channel).count() == 1


def test_admin_sets_up_a_channel_and_answers_a_submission(page, users, customer):
    channel = _channel(users)
    page.goto(page.base_url + "/portal/site/")
    _fill(page)
    page.locator("#portal-submit").click()
    page.wait_for_url(re.compile(r"/portal/track/"))

    sign_in(page, "admin", PASSWORD)
    page.locator("#nav-collect").click()
    page.locator("#nav-intake").click()
    page.wait_for_url("**/portal/staff/")
    expect(page.locator(".submission-row")).to_have_count(1)
    screenshot(page, "portal_staff_submissions")

    page.locator(".submission-row a").first.click()
    page.wait_for_url(re.compile(r"/portal/staff/submissions/\d+/$"))
    page.locator("#id_body").fill("感谢反馈，我们已安排产品经理跟进。")
    page.get_by_role("button", name="发送留言").click()
    expect(page.locator(".alert-success")).to_contain_text("wang@a-tech.com.cn")
    expect(page.locator("#messages .portal-message")).to_have_count(1)
    screenshot(page, "portal_staff_submission")

    page.get_by_role("link", name="返回列表").click()
    page.get_by_role("link", name="渠道设置").click()
    page.wait_for_url("**/portal/staff/channels/")
    screenshot(page, "portal_staff_channels")
    page.get_by_role("link", name="新建渠道").first.click()
    page.locator("#id_name").fill("工单系统对接")
    page.locator("#id_slug").fill("tickets")
    page.locator("#id_kind").select_option("ticket")
    page.get_by_role("button", name="创建渠道").click()
    page.wait_for_url(re.compile(r"/portal/staff/channels/\d+/$"))
    expect(page.locator(".alert-success")).to_contain_text("工单系统对接")
    page.locator("#rotate-token").click()
    token = page.locator("#new-token-value").input_value()
    assert token.startswith("npc_")
    screenshot(page, "portal_staff_channel_token")
    page.goto(re.sub(r"token/$", "", page.url))  # the token is shown on the answer to the POST only
    expect(page.locator("#new-token-value")).to_have_count(0)
    expect(page.locator("#api")).to_contain_text(token[:12])
    assert Submission.objects.filter(channel=channel).count() == 1
