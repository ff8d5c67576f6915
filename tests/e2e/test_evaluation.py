"""The requirement's owner fills in its effect evaluation after launch; the archive shows it with the rest of
the requirement's life, also at phone width."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from needpool.evaluation.models import Evaluation
from needpool.requirements.services import requirement_transition
from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in
from tests.e2e.helpers import screenshot


def test_owner_completes_the_evaluation_and_the_archive_shows_it(page: Any, users: Any, requirement: Any) -> None:
    requirement.owner = users["product_manager"]
    requirement.save(update_fields=["owner"])
    for key in ("in_progress", "testing", "launched"):
        requirement = requirement_transition(actor=users["admin"], requirement=requirement, to=key)
    evaluation = Evaluation.objects.get(requirement=requirement)

    sign_in(page, "product_manager", PASSWORD)
    page.goto(page.base_url + "/evaluation/")
    row = page.locator("#evaluation-table tr.evaluation-row", has_text=requirement.code)
    expect(row).to_contain_text("待评估")
    row.get_by_role("link").click()
    page.wait_for_url(re.compile(rf"/evaluation/{evaluation.pk}/$"))

    form = page.locator("#evaluation-form")
    form.locator("#id_metric").fill("批量下单使用率")
    form.locator("#id_target").fill("≥ 30 %")
    form.locator("#id_actual").fill("36 %")
    form.locator(".form-field-met").get_by_label("是", exact=True).check()
    form.locator(".form-field-renewed").get_by_label("否", exact=True).check()
    form.locator("#id_ease_of_use").select_option("4")
    form.locator("#id_complaint_drop_pct").fill("25")
    form.locator("#id_notes").fill("客户评价 95% 满意")
    form.get_by_role("button", name="完成评估").click()
    expect(page.locator(".alert-success")).to_contain_text("效果评估已保存")
    evaluation.refresh_from_db()
    assert evaluation.met == "yes" and evaluation.completed_by == users["product_manager"]
    assert (evaluation.renewed, evaluation.repurchased, evaluation.referred) == (False, None, None)
    expect(form.locator(".form-field-repurchased").get_by_label("未知", exact=True)).to_be_checked()
    screenshot(page, "evaluation_form_business_effect")

    page.goto(page.base_url + f"/archive/requirements/{requirement.pk}/")
    expect(page.locator("#section-evaluation")).to_contain_text("36 %")
    expect(page.locator("#dossier-status-history")).to_contain_text("已上线")
    expect(page.locator("#dossier-pdf")).to_be_visible()

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect(page.locator("#section-evaluation")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 400, width
