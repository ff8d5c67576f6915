"""Worked example 1 (PRODUCT.md §4) end to end through the pages, as its people would do it.

Sales enters the bulk-discount need heard in a sales conversation → the product manager gives it priority P1 →
a review meeting decides 通过 into the March–April iteration (拒绝 without a reason is refused on the page) →
a plan with the criterion 使用率 ≥ 30 % and the tasks PRD 3/1–3/5, 开发 3/6–4/10, 测试 4/11–4/20 → on 2024-04-12
the daily overdue job (run in-process at that moment) reminds the plan's manager in-app and by mail → the
customer's contact accepts it → 测试中 → 已上线 (the contact is mailed) → 已关闭 → the contact opens the survey
link from the mail without an account and rates 5 → the owner fills in the effect evaluation → the archive
shows the decision, plan, tasks, acceptance, notices, survey result and history.

The iteration is made through its service (iteration pages have their own tests); everything else through
the pages. Screenshots: worked-example-1-*.png in test-artifacts/.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from needpool.core.models import Notification
from needpool.delivery import services as delivery
from needpool.delivery.models import Acceptance, Plan, Task
from needpool.evaluation.models import Evaluation
from needpool.loop.models import CustomerNotice, SurveyInvitation
from needpool.notify.models import Delivery
from needpool.requirements.models import Requirement
from needpool.reviews.models import AgendaItem, ReviewMeeting
from tests.conftest import PASSWORD
from tests.e2e.conftest import ARTIFACTS, sign_in
from tests.e2e.helpers import assert_no_horizontal_overflow, other_context, screenshot

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
SHANGHAI = ZoneInfo("Asia/Shanghai")
TITLE = "按客户等级设置批量订单折扣规则"


def _fill_task(page: Any, plan: Plan, title: str, start: str, due: str, owner: Any, **extra: str) -> None:
    page.goto(page.base_url + f"/delivery/plans/{plan.pk}/")
    page.locator("#new-task").click()
    page.wait_for_url(f"**/delivery/plans/{plan.pk}/tasks/new/")
    form = page.locator("#delivery-form")
    form.locator("#id_title").fill(title)
    form.locator("#id_owner").select_option(str(owner.pk))
    form.locator("#id_start_date").fill(start)
    form.locator("#id_due_date").fill(due)
    form.locator("#id_status").select_option(extra.get("status", "todo"))
    if "after" in extra:
        form.get_by_label(extra["after"], exact=True).check()
    form.get_by_role("button", name="保存").click()
    expect(page.locator(".alert-success")).to_contain_text(f"任务“{title}”已保存")


def _move(page: Any, requirement: Requirement, label: str, note: str) -> None:
    page.goto(page.base_url + f"/requirements/{requirement.pk}/")
    transition = page.locator("#transition-form")
    transition.locator("#transition-note").fill(note)
    transition.get_by_role("button", name=f"流转到“{label}”").click()
    expect(page.locator("#current-status")).to_have_text(label)


def test_worked_example_1_through_the_pages(page: Any, browser: Any, users: Any, customer: Any, mailoutbox: Any):
    sales, pm, manager, engineer = (users[k] for k in ("sales", "product_manager", "manager", "engineer"))
    for user in (pm, manager, engineer):
        user.email = f"{user.username}@needpool.example.com"
        user.save(update_fields=["email"])
    contact = customer.contacts.get()

    # 1. Sales enters the need from the sales conversation.
    sign_in(page, "sales", PASSWORD)
    page.goto(page.base_url + "/requirements/new/")
    form = page.locator("#requirement-form")
    form.locator("#id_customer").select_option(str(customer.pk))
    expect(form.locator(f'#id_contact option[value="{contact.pk}"]')).to_have_count(1)
    form.locator("#id_contact").select_option(str(contact.pk))
    form.locator("#id_channel").select_option("sales")
    form.locator("#id_title").fill(TITLE)
    form.locator("#id_description").fill("王总：批量下单很多，希望按客户等级自动给不同的批量折扣")
    form.locator("#id_background").fill("年采购额超过 500 万，销售逐单手工改价，月底对账常有差异")
    form.locator("#id_concrete_ask").fill("按客户等级配置批量订单折扣规则，下单时自动套用")
    form.locator("#id_expected_date").fill("2024-06-30")
    form.locator("#id_type").select_option(label="功能优化")
    form.locator("#id_urgency").select_option(label="重要")
    form.locator("#id_category").select_option(label="功能需求")
    form.get_by_label("批量操作").check()
    form.get_by_role("button", name="创建需求").click()
    page.wait_for_url(re.compile(r"/requirements/\d+/$"))
    requirement = Requirement.objects.get(title=TITLE)
    assert (requirement.created_by, requirement.customer_value) == (sales, "high")
    expect(page.locator("#current-status")).to_have_text("待处理")
    page.context.clear_cookies()

    # 2. The product manager gives it priority P1 and takes it over.
    sign_in(page, "product_manager", PASSWORD)
    page.goto(page.base_url + f"/requirements/{requirement.pk}/edit/")
    form = page.locator("#requirement-form")
    form.locator("#id_priority").select_option("P1")
    form.locator("#id_owner").select_option(str(pm.pk))
    form.get_by_role("button", name="保存").click()
    page.wait_for_url(re.compile(rf"/requirements/{requirement.pk}/$"))
    requirement.refresh_from_db()
    assert (requirement.priority, requirement.owner_id) == ("P1", pm.pk)

    # 3. A review meeting; the requirement on its agenda; 拒绝 without a reason refused; 通过 into the iteration.
    iteration = delivery.iteration_create(
        actor=pm,
        name="2024 年 3–4 月迭代",
        start_date=dt.date(2024, 3, 1),
        end_date=dt.date(2024, 4, 30),
        status="active",
    )
    page.goto(page.base_url + "/reviews/new/")
    form = page.locator("#meeting-form")
    form.locator("#id_title").fill("2024 年 3 月需求评审会")
    form.locator("#id_starts_at").fill("2024-03-01T14:00")
    form.locator("#id_ends_at").fill("2024-03-01T15:30")
    form.locator("#id_place").fill("3 楼大会议室")
    form.locator("#id_attendees").fill("engineer: 研发\nsales: 销售")
    form.get_by_role("button", name="创建会议").click()
    page.wait_for_url(re.compile(r"/reviews/\d+/$"))
    meeting = ReviewMeeting.objects.get(title="2024 年 3 月需求评审会")
    page.locator("#id_codes").fill(requirement.code)
    page.locator("#agenda-add").get_by_role("button", name="加入议程").click()
    expect(page.locator(".alert-success")).to_contain_text("已加入 1 条需求到议程")
    item = AgendaItem.objects.get(meeting=meeting, requirement=requirement)

    decision = page.locator(f"#item-{item.pk} .decision-form")
    decision.get_by_role("radio", name="拒绝").check()
    decision.get_by_role("button", name="保存决策").click()
    expect(page.locator(f"#item-{item.pk}")).to_contain_text("拒绝时请填写理由。")
    item.refresh_from_db()
    assert item.decision == "pending"

    decision = page.locator(f"#item-{item.pk} .decision-form")
    decision.get_by_role("radio", name="通过").check()
    decision.locator("textarea").fill("高价值客户的重要需求，排入 3–4 月迭代")
    decision.locator("select[name$=iteration]").select_option(str(iteration.pk))
    decision.get_by_role("button", name="保存决策").click()
    expect(page.locator(".alert-success")).to_contain_text(f"需求 {requirement.code} 的决策已记录：通过")
    row = page.locator(f"#item-{item.pk}")
    expect(row.locator(".decision-badge")).to_have_text("通过")
    expect(row).to_contain_text("2024 年 3–4 月迭代")
    requirement.refresh_from_db()
    assert requirement.status.key == "in_progress"
    screenshot(page, "worked-example-1-review-decision")

    # 4. The plan (from the requirement's page) and its three tasks.
    page.goto(page.base_url + f"/requirements/{requirement.pk}/")
    page.locator("#delivery-section").get_by_role("link", name="制定计划").click()
    page.wait_for_url("**/delivery/plans/new/**")
    form = page.locator("#delivery-form")
    expect(form.locator("#id_requirement_codes")).to_have_value(requirement.code)
    form.locator("#id_title").fill("批量订单等级折扣上线计划")
    form.locator("#id_strategy").select_option(label="产品迭代")
    form.locator("#id_owner").select_option(str(manager.pk))
    form.locator("#id_start_date").fill("2024-03-01")
    form.locator("#id_end_date").fill("2024-04-20")
    form.locator("#id_metric_name").fill("使用率")
    form.locator("#id_comparator").select_option("ge")
    form.locator("#id_target_value").fill("30")
    form.locator("#id_unit").fill("%")
    form.get_by_role("button", name="保存").click()
    expect(page.locator(".alert-success")).to_contain_text("计划“批量订单等级折扣上线计划”已保存")
    plan = Plan.objects.get(title="批量订单等级折扣上线计划")
    expect(page.locator("#plan-criterion")).to_have_text("使用率 ≥ 30 %")
    _fill_task(page, plan, "PRD", "2024-03-01", "2024-03-05", pm, status="done")
    _fill_task(page, plan, "开发", "2024-03-06", "2024-04-10", engineer, after="PRD")
    _fill_task(page, plan, "测试", "2024-04-11", "2024-04-20", engineer, after="开发")
    dev = Task.objects.get(plan=plan, title="开发")
    assert [t.title for t in dev.depends_on.all()] == ["PRD"]
    page.goto(page.base_url + f"/delivery/plans/{plan.pk}/")
    expect(page.locator("#plan-gantt[data-gantt-ready]")).to_have_count(1)
    expect(page.locator("#plan-gantt .bar-wrapper")).to_have_count(3)
    expect(page.locator("#plan-gantt .bar-wrapper.gantt-done")).to_have_count(1)
    screenshot(page, "worked-example-1-gantt")

    # 5. Development slips: the daily job, run as on the morning of 2024-04-12, reminds the plan's manager.
    slipped = dt.datetime(2024, 4, 12, 9, 0, tzinfo=SHANGHAI)
    assert delivery.overdue_remind(now=slipped) == 1
    assert delivery.overdue_remind(now=slipped) == 0  # the same day again: nobody reminded twice
    reminder = Notification.objects.get(recipient=manager, kind="task")
    assert "已逾期 2 天" in reminder.text
    mailed = Delivery.objects.filter(event__key__startswith="task-overdue:", target__startswith="mail:", status="sent")
    assert mailed.count() == 2  # the developer and the manager
    [subject] = [m.subject for m in mailoutbox if m.to == [manager.email]]
    assert subject.startswith("【需求池】") and "开发" in subject and "已逾期 2 天" in subject
    with other_context(browser, page.base_url, "worked-example-1-manager-notices") as manager_page:
        sign_in(manager_page, "manager", PASSWORD)
        expect(manager_page.locator("#nav-notifications .unread-count")).to_have_text("1")
        manager_page.locator("#nav-notifications").click()
        manager_page.wait_for_url("**/notifications/")
        expect(manager_page.locator("#notification-list")).to_contain_text(
            "任务“开发”（批量订单等级折扣上线计划）已逾期"
        )

    # 6. Developed and tested; the customer's contact accepts it: 使用率 36 %.
    for task in plan.tasks.exclude(status="done"):
        delivery.task_move(actor=engineer, task=task, status="done")
    _move(page, requirement, "测试中", "开发完成，4 月 11 日起测试")
    page.locator("#record-acceptance").click()
    page.wait_for_url(f"**/delivery/requirements/{requirement.pk}/acceptance/new/")
    form = page.locator("#delivery-form")
    form.locator("#id_plan").select_option(str(plan.pk))
    form.locator("#id_accepted_by_contact").select_option(str(contact.pk))
    form.locator("#id_accepted_at").fill("2024-04-22T10:00")
    form.get_by_label("通过", exact=True).check()
    form.locator("#id_actual_value").fill("36")
    form.locator("#id_remarks").fill("试用两周，36 % 的批量订单使用了等级折扣")
    form.get_by_role("button", name="保存").click()
    page.wait_for_url(re.compile(rf"/requirements/{requirement.pk}/"))
    assert Acceptance.objects.get(requirement=requirement).passed

    # 7. 已上线: the contact is told by mail.
    _move(page, requirement, "已上线", "4 月 25 日上线")
    notice = CustomerNotice.objects.get(requirement=requirement, event="launched")
    assert notice.recipient == contact.email
    assert any(m.to == [contact.email] and "已上线" in (m.subject + m.body) for m in mailoutbox)

    # 8. 已关闭: the contact gets the survey link, opens it without an account and rates 5.
    _move(page, requirement, "已关闭", "客户确认使用正常")
    survey_mail = next(m for m in mailoutbox if "打分" in m.subject)
    assert survey_mail.to == [contact.email]
    link = re.search(r"/portal/loop/s/[A-Za-z0-9_-]+/", survey_mail.body)
    assert link
    with other_context(
        browser, page.base_url, "worked-example-1-survey-done", viewport={"width": 390, "height": 844}
    ) as survey:
        survey.goto(page.base_url + link.group(0))
        expect(survey.locator("#survey-question")).to_contain_text(TITLE)
        screenshot(survey, "worked-example-1-survey")
        survey.locator("label", has_text="5").first.click()
        survey.locator("#id_comment").fill("按等级自动给折扣，对账轻松多了")
        survey.get_by_role("button", name="提交").click()
        expect(survey.locator("#survey-done")).to_contain_text("感谢您的反馈")
        survey.goto(page.base_url + link.group(0))  # the link works once
        expect(survey.locator("#survey-done")).to_contain_text("这份问卷已经提交过了")
    assert SurveyInvitation.objects.get(requirement=requirement).score == 5

    # 9. The owner fills in the effect evaluation.
    evaluation = Evaluation.objects.get(requirement=requirement)
    page.goto(page.base_url + f"/evaluation/{evaluation.pk}/")
    form = page.locator("#evaluation-form")
    form.locator("#id_actual").fill("36 %")
    form.locator(".form-field-met").get_by_label("是", exact=True).check()
    form.locator("#id_notes").fill("客户评价 95 % 满意")
    form.get_by_role("button", name="完成评估").click()
    expect(page.locator(".alert-success")).to_contain_text("效果评估已保存")

    # 10. The archive: decision, plan, tasks, acceptance, notices, survey result, evaluation and history.
    page.goto(page.base_url + f"/archive/requirements/{requirement.pk}/")
    expect(page.locator("#section-reviews")).to_contain_text("2024 年 3 月需求评审会")
    expect(page.locator("#section-reviews")).to_contain_text("通过")
    expect(page.locator("#section-delivery")).to_contain_text("批量订单等级折扣上线计划")
    expect(page.locator("#section-delivery .section-criterion")).to_have_text("使用率 ≥ 30 %")
    expect(page.locator("#section-delivery .section-task")).to_have_count(3)
    expect(page.locator("#section-delivery")).to_contain_text("03/06–04/10")
    expect(page.locator("#section-acceptances")).to_contain_text("通过")
    expect(page.locator("#loop-notices .loop-notice")).to_have_count(2)
    expect(page.locator("#loop-notices")).to_contain_text(contact.email)
    expect(page.locator("#section-loop .csat-answer")).to_contain_text("5 分")
    expect(page.locator("#section-evaluation")).to_contain_text("36 %")
    history = page.locator("#dossier-status-history")
    for status in ("处理中", "测试中", "已上线", "已关闭"):
        expect(history).to_contain_text(status)
    expect(history).to_contain_text("评审决策：通过")
    screenshot(page, "worked-example-1-archive")
    for key in ("reviews", "delivery", "evaluation", "loop"):
        page.locator(f"#section-{key}").screenshot(path=str(ARTIFACTS / f"worked-example-1-archive-{key}.png"))
    page.locator("#dossier-audit-log").screenshot(path=str(ARTIFACTS / "worked-example-1-archive-log.png"))


def _demo_example_on_a_phone(page: Any, monkeypatch: Any) -> dict[str, Any]:
    """The demo data's worked example 1 (loaded as ``needpool np_demo`` does), its product manager on a phone."""
    from needpool.demo.example_one import MEETING_TITLE, PLAN_TITLE
    from needpool.demo.examples import EXAMPLE_REQUIREMENT_CODE, load_examples

    monkeypatch.setenv("NEEDPOOL_DEMO_PASSWORD", PASSWORD)
    load_examples()
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, "demo_pm", PASSWORD)
    return {
        "requirement": Requirement.objects.get(code=EXAMPLE_REQUIREMENT_CODE),
        "plan": Plan.objects.get(title=PLAN_TITLE),
        "meeting": ReviewMeeting.objects.get(title=MEETING_TITLE),
    }


def test_the_demo_example_at_phone_width(page: Any, monkeypatch: Any) -> None:
    demo = _demo_example_on_a_phone(page, monkeypatch)
    requirement = demo["requirement"]
    for name, url in (
        ("requirement", f"/requirements/{requirement.pk}/"),
        ("meeting", f"/reviews/{demo['meeting'].pk}/"),
        ("archive", f"/archive/requirements/{requirement.pk}/"),
    ):
        page.goto(page.base_url + url)
        expect(page.locator("body")).to_contain_text(requirement.code)
        screenshot(page, f"worked-example-1-demo-phone-{name}")
        assert_no_horizontal_overflow(page, 390)


def test_the_demo_plan_page_at_phone_width(page: Any, monkeypatch: Any) -> None:
    demo = _demo_example_on_a_phone(page, monkeypatch)
    page.goto(page.base_url + f"/delivery/plans/{demo['plan'].pk}/")
    expect(page.locator("#plan-gantt[data-gantt-ready]")).to_have_count(1)
    screenshot(page, "worked-example-1-demo-phone-plan")
    assert_no_horizontal_overflow(page, 390)
