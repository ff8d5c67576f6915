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


def test_repeated_wrong_passwords_show_the_lockout_page(page, users, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(3):
        sign_in(page, "sales", "wrong-password")
    assert page.locator("h1").inner_text() == "登录已暂时锁定"
    assert "请 15 分钟后再试" in page.locator("[data-testid=lockout-message]").inner_text()
    sign_in(page, "sales", PASSWORD)  # the right password is refused while locked
    assert page.locator("h1").inner_text() == "登录已暂时锁定"
    assert page.get_attribute("text=返回登录页", "href") == "/accounts/login/"
