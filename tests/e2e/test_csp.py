"""The Content-Security-Policy in a real browser: the main pages, the charts, Swagger UI and the admin run with
no violation (Chromium reports each refused script, style or image on the console)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from needpool.analysis.services import analysis_update, kano_answer, kano_survey_create
from needpool.intake.channels.services import channel_create
from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in
from tests.e2e.helpers import screenshot

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


class Violations:
    """Console messages and page errors that speak of the Content-Security-Policy, collected while browsing."""

    def __init__(self, page: Any) -> None:
        self.seen: list[str] = []
        self.where = ""
        page.on("console", lambda message: self._note(message.text))
        page.on("pageerror", lambda error: self._note(str(error)))

    def _note(self, text: str) -> None:
        if "Content Security Policy" in text or "Content-Security-Policy" in text:
            self.seen.append(f"{self.where}: {text}")


@pytest.fixture
def analysed(users, requirement):
    pm = users["product_manager"]
    analysis_update(actor=pm, requirement=requirement, urgency_score=4, importance_score=5, value_score=4, cost_score=2)
    survey = kano_survey_create(
        actor=pm,
        requirement=requirement,
        functional_question="如果可以按客户等级自动计算批量折扣，您觉得如何？",
        dysfunctional_question="如果不能按客户等级自动计算批量折扣，您觉得如何？",
    )
    kano_answer(survey=survey, functional="like", dysfunctional="dislike")
    return requirement


def visit(page: Any, violations: Violations, path: str) -> None:
    violations.where = path
    response = page.goto(page.base_url + path)
    assert response is not None and response.status == 200, path
    assert "Content-Security-Policy" in response.headers or "content-security-policy" in response.headers, path
    page.wait_for_load_state("networkidle")


def test_main_pages_run_under_the_policy_without_a_violation(page, users, customer, analysed):
    channel_create(actor=users["admin"], name="产品需求征集", slug="site", kind="portal")
    violations = Violations(page)
    sign_in(page, "admin", PASSWORD)
    pages = [
        "/",
        "/requirements/",
        f"/requirements/{analysed.pk}/",
        "/requirements/board/",
        f"/requirements/merge/?ids={analysed.pk}",
        "/requirements/feedback/",
        "/customers/",
        f"/customers/{customer.pk}/",
        "/analysis/ranked/",
        "/analysis/projects/",
        f"/analysis/requirements/{analysed.pk}/",
        "/intake/import/",
        "/portal/",
        "/portal/site/",
        "/portal/staff/",
        "/admin/",
        "/admin/requirements/workflow/",
        "/admin/requirements/workflow/add/",
    ]
    for path in pages:
        visit(page, violations, path)
    # The board's drag-and-drop and htmx are wired (their scripts ran).
    visit(page, violations, "/requirements/board/")
    page.wait_for_function("document.querySelector('.kanban-cards[data-kanban-ready]') !== null")
    assert page.evaluate("typeof window.htmx") == "object"
    # The customer page loads its requirements through htmx.
    visit(page, violations, f"/customers/{customer.pk}/")
    expect(page.locator(f'a[href="/requirements/{analysed.pk}/"]').first).to_be_visible()
    # The matrix chart draws, and its tooltip opens on a point.
    visit(page, violations, "/analysis/")
    page.wait_for_function("() => window.needpoolMatrixChart && document.querySelector('#matrix-chart canvas')")
    point = page.evaluate(
        "() => window.needpoolMatrixChart.convertToPixel({seriesIndex: 1}, "
        "window.needpoolMatrixChart.getOption().series[1].data[0].value)"
    )
    box = page.locator("#matrix-chart").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + point[0], box["y"] + point[1])
    expect(page.locator("#matrix-chart")).to_contain_text(analysed.code)
    screenshot(page, "csp-analysis-matrix")
    # The Kano bars of the desk get their width from data-percent.
    visit(page, violations, f"/analysis/requirements/{analysed.pk}/")
    bars = page.evaluate(
        "() => [...document.querySelectorAll('.progress-bar[data-percent]')]"
        ".map((bar) => [bar.dataset.percent, bar.style.width])"
    )
    assert bars and all(width == f"{percent}%" for percent, width in bars), bars
    assert any(percent != "0" for percent, _width in bars), bars
    # Swagger UI renders the API.
    visit(page, violations, "/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Needpool API")
    expect(page.locator(".opblock").first).to_be_visible()
    screenshot(page, "csp-api-docs")
    assert violations.seen == []


def test_the_portal_form_and_its_honeypot_work_under_the_policy(page, users):
    channel_create(actor=users["admin"], name="产品需求征集", slug="site", kind="portal")
    violations = Violations(page)
    visit(page, violations, "/portal/site/")
    # The honeypot's style now comes from app.css (it was an inline <style>): still off screen.
    expect(page.locator("input[name=website]")).not_to_be_in_viewport()
    visit(page, violations, "/accounts/login/")
    assert violations.seen == []


def test_an_inline_script_without_the_nonce_is_refused(page, users):
    """The policy is enforced: a script injected into the page without the nonce does not run."""
    violations = Violations(page)
    visit(page, violations, "/accounts/login/")
    page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.injected = 1';"
        " document.body.appendChild(s); }"
    )
    assert page.evaluate("() => window.injected === undefined")
    assert violations.seen, "Chromium reported no refusal"


def test_an_upload_over_the_cap_gets_the_chinese_refusal_page_and_nothing_is_saved(page, users, settings):
    from needpool.intake.models import Submission

    settings.NEEDPOOL_BODY_LIMITS = {**settings.NEEDPOOL_BODY_LIMITS, "/portal/": 50_000}
    channel_create(actor=users["admin"], name="产品需求征集", slug="site", kind="portal")
    violations = Violations(page)
    visit(page, violations, "/portal/site/")
    form = page.locator("#portal-form")
    form.locator("#id_customer").fill("A科技公司")
    form.locator("#id_contact_name").fill("王经理")
    form.locator("#id_contact_email").fill("wang@a-tech.com.cn")
    form.locator("#id_type").select_option(label="功能")
    form.locator("#id_description").fill("希望订单列表支持按客户等级批量设置折扣。")
    page.locator("#id_attachments").set_input_files(
        [{"name": "现场照片.png", "mimeType": "image/png", "buffer": b"\x89PNG\r\n\x1a\n" + b"0" * 60_000}]
    )
    page.locator("#portal-submit").click()
    expect(page.locator("#upload-refusal")).to_contain_text("上传的内容过大")
    expect(page.locator("#upload-refusal")).to_contain_text("48.8 KB")
    screenshot(page, "csp-upload-too-large")
    assert not Submission.objects.exists()
    assert violations.seen == []
