"""An admin opens a contact from the customer page, confirms the erasure in the dialog, and sees the result."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from needpool.customers.models import Contact
from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in


def test_admin_erases_a_contact_through_the_confirmation_dialog(page, users, customer):
    contact = Contact.objects.get(customer=customer)
    sign_in(page, "admin", PASSWORD)
    page.goto(page.base_url + f"/customers/{customer.pk}/")
    page.locator("#contacts").get_by_role("link", name="王总").click()
    page.wait_for_url(re.compile(rf"/customers/contacts/{contact.pk}/$"))

    dialog = page.locator("#erase-dialog")
    expect(dialog).to_be_hidden()
    page.locator("#erase-personal-data").click()
    expect(dialog).to_be_visible()
    dialog.locator("textarea[name=reason]").fill("本人于 2024-05-01 书面要求删除")
    dialog.get_by_role("button", name="确认删除个人信息").click()
    # The browser refuses to send the form until the irreversibility box is ticked.
    expect(dialog).to_be_visible()
    assert Contact.objects.get(pk=contact.pk).name == "王总"
    dialog.locator("input[name=confirm]").check()
    dialog.get_by_role("button", name="确认删除个人信息").click()

    expect(page.locator(".alert-success")).to_contain_text(f"已删除联系人 #{contact.pk}")
    expect(page.locator("#erased-badge")).to_be_visible()
    expect(page.locator("#erase-personal-data")).to_have_count(0)
    assert Contact.objects.get(pk=contact.pk).name == f"已删除联系人 #{contact.pk}"
