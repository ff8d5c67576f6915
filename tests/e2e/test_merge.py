"""Merging duplicates in a real browser: select two on the list, merge, land on the survivor; the
merged one's URL leads there too; an admin undoes it from the merge history."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from needpool.requirements.models import Requirement, RequirementMerge
from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in
from tests.e2e.helpers import screenshot
from tests.requirements.merging.conftest import pool  # noqa: F401  (fixture)


def test_merge_two_from_the_list_and_follow_the_merged_url(page, pool, users):  # noqa: F811
    survivor, dup = pool.survivor, pool.dup_a
    sign_in(page, "product_manager", PASSWORD)
    page.goto(page.base_url + "/requirements/")
    for requirement in (survivor, dup):
        page.locator(f'.requirement-row[data-code="{requirement.code}"] .merge-select').check()
    page.locator("#merge-selected").click()

    page.wait_for_url(re.compile(r"/requirements/merge/\?"))
    expect(page.locator("#merge-table .merge-row")).to_have_count(2)
    dup_row = page.locator(f'.merge-row[data-code="{dup.code}"]')
    expect(dup_row.locator("td").nth(5)).to_have_text("1")  # its feedback item
    expect(dup_row.locator("td").nth(9)).to_have_text("2")  # its watchers
    page.locator(f"#survivor-{dup.pk}").check()
    expect(page.locator("#merge-summary")).to_contain_text(f"保留 {dup.code} 时，将转入反馈 1 条、评论 0 条")
    page.locator(f"#survivor-{survivor.pk}").check()
    expect(page.locator("#merge-summary")).to_contain_text(f"保留 {survivor.code} 时，将转入反馈 1 条、评论 1 条")
    page.locator("#merge-note").fill("同一诉求：按等级打折")
    screenshot(page, "merge-page")
    page.locator("#merge-confirm").click()

    page.wait_for_url(re.compile(rf"/requirements/{survivor.pk}/$"))
    expect(page.locator(".alert-success")).to_contain_text(f"已将 {dup.code} 合并到 {survivor.code}")
    expect(page.locator("#evidence")).to_contain_text("大客户B")
    expect(page.locator("#merged-from")).to_contain_text(dup.code)
    expect(page.locator("#status-history .merged-origin").first).to_have_text(dup.code)
    expect(page.locator("#merge-history")).to_contain_text("同一诉求：按等级打折")
    expect(page.locator(".merge-undo-form")).to_have_count(0)  # undo is for admins
    screenshot(page, "merge-survivor")
    assert Requirement.objects.get(pk=dup.pk).merged_into_id == survivor.pk

    # The merged requirement's own URL now leads to the survivor, with a notice.
    page.goto(page.base_url + f"/requirements/{dup.pk}/")
    page.wait_for_url(re.compile(rf"/requirements/{survivor.pk}/$"))
    expect(page.locator("#messages")).to_contain_text(f"{dup.code} 已合并到 {survivor.code}")
    screenshot(page, "merge-redirected")

    # It has left the list.
    page.goto(page.base_url + "/requirements/")
    expect(page.locator(f'.requirement-row[data-code="{dup.code}"]')).to_have_count(0)
    expect(page.locator(f'.requirement-row[data-code="{survivor.code}"]')).to_have_count(1)


def test_admin_undoes_a_merge_from_the_history(page, pool, users):  # noqa: F811
    from needpool.requirements.merging.services import requirements_merge

    survivor, dup = pool.survivor, pool.dup_b
    requirements_merge(actor=users["product_manager"], survivor_id=survivor.pk, merged_ids=[dup.pk])
    sign_in(page, "admin", PASSWORD)
    page.goto(page.base_url + f"/requirements/{survivor.pk}/")
    page.locator(".merge-undo-form button").click()
    page.wait_for_url(re.compile(rf"/requirements/{survivor.pk}/#merge-history$"))
    expect(page.locator(".alert-success")).to_contain_text(f"已撤销合并：{dup.code} 已恢复")
    expect(page.locator(".merge-undone")).to_have_count(1)
    screenshot(page, "merge-undone")
    assert RequirementMerge.objects.get().undone_at is not None
    page.goto(page.base_url + f"/requirements/{dup.pk}/")
    expect(page).to_have_url(re.compile(rf"/requirements/{dup.pk}/$"))
    expect(page.locator("#evidence .feedback-item")).to_have_count(2)
