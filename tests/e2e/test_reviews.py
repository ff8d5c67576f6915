"""A review meeting through its pages: create it, put a requirement on the agenda by its code, decide 通过."""

from __future__ import annotations

import datetime as dt
import re

from django.utils import timezone
from playwright.sync_api import expect

from needpool.reviews.models import AgendaItem, ReviewMeeting
from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in
from tests.e2e.helpers import assert_no_horizontal_overflow, screenshot


def test_product_manager_creates_a_meeting_adds_a_requirement_and_accepts_it(page, users, requirement):
    sign_in(page, "product_manager", PASSWORD)
    page.goto(page.base_url + "/reviews/")
    page.get_by_role("link", name="新建评审会议").first.click()
    page.wait_for_url("**/reviews/new/")

    start = timezone.localtime() + dt.timedelta(days=5)
    form = page.locator("#meeting-form")
    form.locator("#id_title").fill("六月需求评审会")
    form.locator("#id_starts_at").fill(start.strftime("%Y-%m-%dT10:00"))
    form.locator("#id_ends_at").fill(start.strftime("%Y-%m-%dT11:30"))
    form.locator("#id_place").fill("3 楼大会议室")
    form.locator("#id_attendees").fill("engineer: 研发\nsales: 销售")
    form.get_by_role("button", name="创建会议").click()

    page.wait_for_url(re.compile(r"/reviews/\d+/$"))
    meeting = ReviewMeeting.objects.get(title="六月需求评审会")
    expect(page.locator(".alert-success")).to_contain_text("评审会议“六月需求评审会”已创建")
    expect(page.locator("#attendees")).to_contain_text("研发")

    page.locator("#id_codes").fill(requirement.code)
    page.locator("#agenda-add").get_by_role("button", name="加入议程").click()
    expect(page.locator(".alert-success")).to_contain_text("已加入 1 条需求到议程")
    item = AgendaItem.objects.get(meeting=meeting, requirement=requirement)
    row = page.locator(f"#item-{item.pk}")
    expect(row).to_contain_text(requirement.code)
    expect(row.locator(".decision-badge")).to_have_text("待决策")

    decision = row.locator(".decision-form")
    decision.get_by_role("radio", name="通过").check()
    decision.locator("textarea").fill("方案可行，排入下个迭代")
    decision.get_by_role("button", name="保存决策").click()

    expect(page.locator(".alert-success")).to_contain_text(f"需求 {requirement.code} 的决策已记录：通过")
    row = page.locator(f"#item-{item.pk}")
    expect(row.locator(".decision-badge")).to_have_text("通过")
    expect(row).to_contain_text("方案可行，排入下个迭代")
    expect(row).to_contain_text("处理中")
    requirement.refresh_from_db()
    assert requirement.status.key == "in_progress"
    screenshot(page, "reviews-meeting-accepted")

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert_no_horizontal_overflow(page, 390)
    screenshot(page, "reviews-meeting-phone")


def test_minutes_page_records_owner_and_date_and_the_list_shows_the_meeting(page, users, requirement):
    from needpool.reviews import services

    pm = users["product_manager"]
    start = timezone.now() + dt.timedelta(days=2)
    meeting = services.meeting_create(
        actor=pm, title="纪要演示会", starts_at=start, ends_at=start + dt.timedelta(hours=1), chair=pm, place="线上"
    )
    item = services.agenda_add(actor=pm, meeting=meeting, requirement_ids=[requirement.pk])[0]
    services.decide(actor=pm, item=item, decision="rejected", note="与产品方向不符")
    services.material_add(actor=pm, meeting=meeting, title="需求说明", link="https://docs.example.com/a")

    sign_in(page, "product_manager", PASSWORD)
    page.goto(page.base_url + f"/reviews/{meeting.pk}/")
    expect(page.locator("#late-warning")).to_contain_text("材料发送晚于会前 3 天")
    page.locator("#edit-minutes").click()
    page.wait_for_url(f"**/reviews/{meeting.pk}/minutes/")
    page.locator("#id_solution").fill("保留现有折扣规则")
    row = page.locator(f"#minutes-item-{item.pk}")
    row.locator("select").select_option(str(users["engineer"].pk))
    row.locator("input[type=date]").fill("2030-06-30")
    screenshot(page, "reviews-minutes")
    page.locator("#save-minutes").click()
    expect(page.locator(".alert-success")).to_contain_text("评审纪要已保存")
    expect(page.locator("#minutes")).to_contain_text("保留现有折扣规则")
    expect(page.locator(f"#item-{item.pk}")).to_contain_text("2030-06-30")

    page.goto(page.base_url + "/reviews/")
    expect(page.locator("#meeting-table")).to_contain_text("纪要演示会")
    screenshot(page, "reviews-list")
