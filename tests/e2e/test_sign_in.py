from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in


def test_anonymous_visitor_is_sent_to_sign_in_and_lands_home_after(page, users):
    page.goto(page.base_url + "/requirements/")
    assert "/accounts/login/" in page.url
    page.fill("input[name=username]", "sales")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/requirements/")
    assert page.locator("body").inner_text().count("需求") > 0


def test_wrong_password_shows_a_message(page, users):
    sign_in(page, "sales", "wrong-password")
    assert "/accounts/login/" in page.url
    assert page.locator(".alert-danger").count() == 1
