"""A sales rep creates a customer and records its contacts, under the privacy rule."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from needpool.customers.models import Contact, Customer
from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in


def test_sales_creates_customer_and_adds_contacts_privacy_rule_refuses_a_mobile(page, users):
    sign_in(page, "sales", PASSWORD)
    page.goto(page.base_url + "/customers/")
    page.get_by_role("link", name="新建客户").click()
    page.wait_for_url("**/customers/new/")

    form = page.locator("#customer-form")
    form.locator("#id_name").fill("北京星河数据科技有限公司")
    form.locator("#id_industry").fill("软件")
    form.locator("#id_region").fill("北京")
    form.locator("#id_yearly_purchase").fill("6000000")
    form.get_by_role("button", name="创建客户").click()

    page.wait_for_url(re.compile(r"/customers/\d+/$"))
    customer = Customer.objects.get(name="北京星河数据科技有限公司")
    expect(page.locator(".alert-success")).to_contain_text(f"客户 {customer.code} 已创建")
    expect(page.locator(".page-title")).to_contain_text("北京星河数据科技有限公司")
    assert customer.value_tier == "high"  # computed from the yearly purchase of 6,000,000
    expect(page.locator("#value-tier")).to_have_text("高")
    assert customer.owner == users["sales"]

    # A work landline and a company mailbox are accepted.
    contact_form = page.locator("#contact-form")
    contact_form.locator("#id_contact-name").fill("李经理")
    contact_form.locator("#id_contact-title").fill("IT 主管")
    contact_form.locator("#id_contact-phone").fill("010-62345678")
    contact_form.locator("#id_contact-email").fill("li@xinghe-data.com.cn")
    contact_form.get_by_role("button", name="添加联系人").click()

    page.wait_for_url(re.compile(rf"/customers/{customer.pk}/#contacts$"))
    expect(page.locator(".alert-success")).to_contain_text("联系人“李经理”已添加")
    row = page.locator("#contacts tr.contact-row", has_text="李经理")
    expect(row).to_contain_text("010-62345678")
    expect(row).to_contain_text("li@xinghe-data.com.cn")
    assert Contact.objects.filter(customer=customer).count() == 1

    # A personal mobile (even written with spaces) is refused next to the phone field; nothing is saved.
    contact_form = page.locator("#contact-form")
    contact_form.locator("#id_contact-name").fill("张三")
    contact_form.locator("#id_contact-phone").fill("138 0013 8000")
    contact_form.locator("#id_contact-email").fill("")
    contact_form.get_by_role("button", name="添加联系人").click()

    error = page.locator("#id_contact-phone_error")
    expect(error).to_contain_text("隐私规则")
    expect(page.locator("#id_contact-phone")).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(page.locator("#id_contact-phone")).to_have_value("138 0013 8000")  # the input is kept to fix
    expect(page.locator("#contacts tr.contact-row")).to_have_count(1)
    assert Contact.objects.filter(customer=customer).count() == 1
    assert not Contact.objects.filter(name="张三").exists()


def test_customer_page_loads_its_feedback_and_requirements_from_the_pool(page, users, customer, requirement):
    from django.utils import timezone

    from needpool.customers.services import interaction_create

    interaction = interaction_create(
        actor=users["sales"],
        customer=customer,
        occurred_at=timezone.now(),
        channel="phone",
        key_content="电话沟通",
        key_asks="实时监控大屏",
    )
    sign_in(page, "sales", PASSWORD)
    page.goto(page.base_url + f"/customers/{customer.pk}/")

    # The pool's cards replace the placeholder (and its fallback link) once the page has loaded.
    rows = page.locator("#customer-requirements tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(requirement.code)
    expect(rows.first.get_by_role("link", name=requirement.title)).to_have_attribute(
        "href", f"/requirements/{requirement.pk}/"
    )
    feedback = page.locator("#customer-feedback .feedback-item")
    expect(feedback).to_contain_text("电商客户希望按客户等级自动计算批量下单折扣")
    expect(page.locator("#customer-pool-link")).to_have_count(0)

    # A key ask becomes feedback in place.
    ask = page.locator(f"#ask-{interaction.pk}-0")
    ask.get_by_role("button", name="转为反馈").click()
    expect(ask).to_contain_text("已转为反馈")
    assert interaction.feedback.get().raw_text == "实时监控大屏"
