"""Worked example 1 (PRODUCT.md §4) through the services, step by step, and the demo data that tells it.

Sales enters the bulk-discount need from a sales conversation → the product manager prioritises it → a review
meeting decides 通过 into an iteration (拒绝 without a reason is refused) → a plan with the criterion 使用率 ≥ 30 %
and the tasks PRD 3/1–3/5, 开发 3/6–4/10, 测试 4/11–4/20 → development slips: the overdue job reminds the task's
owner and the plan's manager once a day, in-app and by mail → acceptance passed → 已上线, the customer is told
→ 已关闭, the CSAT link (token only, once) → 5 → the effect evaluation → the archive shows it all.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from needpool.accounts.models import User
from needpool.core.models import Notification, OutboundMail
from needpool.customers.models import Contact
from needpool.delivery import services as delivery
from needpool.delivery.choices import TaskStatus
from needpool.delivery.models import Acceptance, Iteration, IterationItem, OverdueReminder, Plan, Task
from needpool.demo.example_one import (
    CONTACT_EMAIL,
    ITERATION_NAME,
    MEETING_TITLE,
    OLDER_CONTACT_EMAIL,
    PLAN_TITLE,
)
from needpool.demo.examples import EXAMPLE_REQUIREMENT_CODE, load_examples
from needpool.demo.users import DEMO_PM
from needpool.evaluation.models import Evaluation
from needpool.evaluation.services import evaluation_complete
from needpool.loop.models import CustomerNotice, SurveyInvitation
from needpool.notify.models import Delivery
from needpool.requirements.models import Requirement, StatusChange, WorkflowStatus
from needpool.requirements.services import requirement_create, requirement_transition, requirement_update
from needpool.reviews import services as reviews
from needpool.reviews.models import AgendaItem, ReviewMeeting
from tests.conftest import PASSWORD, option

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
D = dt.date
SURVEY_LINK = re.compile(r"/portal/loop/s/([A-Za-z0-9_-]+)/")


def _at(year: int, month: int, day: int, hour: int = 9) -> dt.datetime:
    return dt.datetime(year, month, day, hour, 0, tzinfo=SHANGHAI)


@pytest.fixture
def people(users: dict[str, User]) -> dict[str, User]:
    """The users of the example, with work addresses so that their reminders are mailed."""
    for name in ("sales", "product_manager", "manager", "engineer"):
        users[name].email = f"{name}@needpool.example.com"
        users[name].save(update_fields=["email"])
    return users


def _requirement_from_sales(sales: User, customer: Any) -> Requirement:
    contact = customer.contacts.get()
    return requirement_create(
        actor=sales,
        customer=customer,
        contact=contact,
        channel="sales",
        title="按客户等级设置批量订单折扣规则",
        description="电商客户（年采购额超过 500 万）希望批量下单时按客户等级自动计算折扣。",
        background="批量订单多，销售逐单手工改价，月底对账常有差异。",
        concrete_ask="支持按客户等级配置批量订单折扣规则，下单时自动套用。",
        feedback_text="我们批量下单很多，希望按客户等级自动给不同的批量折扣，6 月底前能用上。",
        expected_date=D(2024, 6, 30),
        type=option("type", "function_improvement"),
        urgency=option("urgency", "important"),
        category=option("category", "business"),
        tags=[option("tag", "bulk_operation")],
        submitted_at=_at(2024, 3, 1),
    )


def test_worked_example_1_through_the_services(
    people: dict[str, User], customer: Any, django_capture_on_commit_callbacks: Any, mailoutbox: Any
) -> None:
    sales, pm, manager, engineer = (people[k] for k in ("sales", "product_manager", "manager", "engineer"))
    contact: Contact = customer.contacts.get()

    # 1. Sales enters the need heard in a sales conversation; the customer buys over 5 M a year → value high.
    requirement = _requirement_from_sales(sales, customer)
    assert requirement.status.key == "new"
    assert requirement.customer_value == "high"
    assert requirement.feedback_items.get().contact_id == contact.pk

    # 2. The product manager prioritises it first and takes it over.
    requirement = requirement_update(actor=pm, requirement=requirement, priority="P1", owner=pm)
    assert (requirement.priority, requirement.owner_id) == ("P1", pm.pk)

    # The admin has switched on the opt-in gates: 处理中 only after 通过, 已上线 only after a passed acceptance.
    statuses = WorkflowStatus.objects.filter(workflow_id=requirement.status.workflow_id)
    statuses.filter(key="in_progress").update(entry_gates=["review_accepted"])
    statuses.filter(key="launched").update(entry_gates=["acceptance_passed"])
    with pytest.raises(ValidationError, match="需经评审通过"):
        requirement_transition(actor=pm, requirement=requirement, to="in_progress")

    # 3. A review meeting with it on the agenda.
    iteration = delivery.iteration_create(
        actor=pm, name="2024 年 3–4 月迭代", start_date=D(2024, 3, 1), end_date=D(2024, 4, 30), status="active"
    )
    meeting = reviews.meeting_create(
        actor=pm,
        title="2024 年 3 月需求评审会",
        starts_at=_at(2024, 3, 1, 14),
        ends_at=_at(2024, 3, 1, 15),
        chair=pm,
        attendees=[(engineer, "rd"), (sales, "sales")],
    )
    item = reviews.agenda_add(actor=pm, meeting=meeting, requirement_ids=[requirement.pk])[0]
    assert reviews.agenda_add(actor=pm, meeting=meeting, requirement_ids=[requirement.pk]) == []  # once

    # 拒绝 without a reason is refused and nothing changes.
    with pytest.raises(ValidationError) as refused:
        reviews.decide(actor=pm, item=item, decision="rejected", note="  ")
    assert "拒绝时请填写理由。" in str(refused.value)
    item.refresh_from_db()
    requirement.refresh_from_db()
    assert (item.decision, requirement.status.key) == ("pending", "new")
    # Sales may not decide at all.
    with pytest.raises(Exception, match="只有经理和产品经理"):
        reviews.decide(actor=sales, item=item, decision="accepted")

    # 通过 into the iteration: 待处理 → 处理中, planned, the requester told.
    with django_capture_on_commit_callbacks(execute=True):
        item = reviews.decide(actor=pm, item=item, decision="accepted", note="排入 3–4 月迭代", iteration=iteration)
    requirement.refresh_from_db()
    assert item.decision == "accepted" and item.iteration_id == iteration.pk and item.decided_by == pm
    assert requirement.status.key == "in_progress"
    assert IterationItem.objects.get(requirement=requirement).iteration_id == iteration.pk
    move = StatusChange.objects.filter(requirement=requirement).latest("at", "pk")
    assert move.note.startswith("评审决策：通过")
    assert Notification.objects.filter(recipient=sales, kind="review_decision", text__contains="通过").exists()

    # 4. The plan with its acceptance criterion and the three tasks, each depending on the one before.
    plan = delivery.plan_create(
        actor=pm,
        requirements=[requirement],
        title="批量订单等级折扣上线计划",
        strategy="product_iteration",
        owner=manager,
        start_date=D(2024, 3, 1),
        end_date=D(2024, 4, 20),
        metric_name="使用率",
        comparator="ge",
        target_value=30,
        unit="%",
    )
    prd = delivery.task_create(
        actor=pm, plan=plan, title="PRD", start_date=D(2024, 3, 1), due_date=D(2024, 3, 5), owner=pm
    )
    dev = delivery.task_create(
        actor=pm,
        plan=plan,
        title="开发",
        start_date=D(2024, 3, 6),
        due_date=D(2024, 4, 10),
        owner=engineer,
        depends_on=[prd],
    )
    test = delivery.task_create(
        actor=pm,
        plan=plan,
        title="测试",
        start_date=D(2024, 4, 11),
        due_date=D(2024, 4, 20),
        owner=engineer,
        depends_on=[dev],
    )
    assert plan.get_strategy_display() == "产品迭代"
    assert [t.title for t in plan.tasks.order_by("start_date")] == ["PRD", "开发", "测试"]
    assert list(test.depends_on.all()) == [dev] and list(dev.depends_on.all()) == [prd]
    assert delivery.task_warnings(dev) == [] and delivery.task_warnings(test) == []
    delivery.task_move(actor=pm, task=prd, status=TaskStatus.DONE)

    # 5. Development slips: on 2024-04-12 the overdue job reminds the developer and the plan's manager.
    slipped = _at(2024, 4, 12)
    with django_capture_on_commit_callbacks(execute=True):
        assert delivery.overdue_remind(now=slipped) == 1
    told = Notification.objects.filter(kind="task", text__contains="“开发”", text__icontains="已逾期")
    assert set(told.values_list("recipient__username", flat=True)) == {"manager", "engineer"}
    assert "已逾期 2 天" in told.get(recipient=manager).text
    mails = Delivery.objects.filter(event__key=f"task-overdue:{dev.pk}:2024-04-12", target=f"mail:{manager.pk}")
    assert [m.status for m in mails] == [Delivery.Status.SENT]
    assert len([m for m in mailoutbox if m.to == [manager.email] and "“开发”" in m.subject and "已逾期" in m.body]) == 1
    # Frozen at the same moment, a second run (or a second worker) reminds nobody again …
    with django_capture_on_commit_callbacks(execute=True):
        assert delivery.overdue_remind(now=slipped) == 0
        assert delivery.overdue_remind(now=slipped + dt.timedelta(hours=8)) == 0
    assert told.count() == 2
    assert OverdueReminder.objects.filter(task=dev).count() == 1
    # … the next morning reminds once more, and a finished task is not reminded.
    assert delivery.overdue_remind(now=slipped + dt.timedelta(days=1)) == 1
    assert told.count() == 4
    delivery.task_move(actor=engineer, task=dev, status=TaskStatus.DONE)
    assert delivery.overdue_remind(now=slipped + dt.timedelta(days=2)) == 0

    # 6. The customer's contact accepts it: 使用率 36 % ≥ 30 %.
    delivery.task_move(actor=engineer, task=test, status=TaskStatus.DONE)
    requirement = requirement_transition(actor=pm, requirement=requirement, to="testing", note="开发完成")
    with pytest.raises(ValidationError, match="验收通过后才能进入"):
        requirement_transition(actor=pm, requirement=requirement, to="launched")
    acceptance = delivery.acceptance_record(
        actor=pm,
        requirement=requirement,
        plan=plan,
        passed=True,
        accepted_by_contact=contact,
        accepted_at=_at(2024, 4, 22, 10),
        actual_value=36,
        remarks="使用率 36 %",
    )
    assert delivery.acceptance_passed(requirement) and acceptance.accepted_at.year == 2024

    # 7. 已上线: the contact is told by mail; the launch opens the effect evaluation.
    with django_capture_on_commit_callbacks(execute=True):
        requirement = requirement_transition(actor=pm, requirement=requirement, to="launched", note="4 月 25 日上线")
    notice = CustomerNotice.objects.get(requirement=requirement, event="launched")
    assert (notice.recipient, notice.contact_id) == (contact.email, contact.pk)
    launched_mail = next(m for m in mailoutbox if m.to == [contact.email])
    assert requirement.code in launched_mail.body or requirement.title in launched_mail.body
    evaluation = Evaluation.objects.get(requirement=requirement)
    assert (evaluation.owner_id, evaluation.metric) == (pm.pk, "使用率")

    # 8. 已关闭: the contact is invited to rate it through a link with a token.
    with django_capture_on_commit_callbacks(execute=True):
        requirement = requirement_transition(actor=pm, requirement=requirement, to="closed", note="客户确认")
    invitation = SurveyInvitation.objects.get(requirement=requirement, kind="csat")
    survey_mail = next(m for m in mailoutbox if "打分" in m.subject)
    assert survey_mail.to == [contact.email]
    token = SURVEY_LINK.search(survey_mail.body)
    assert token
    link = f"/portal/loop/s/{token.group(1)}/"
    customer_browser = Client()  # no account
    assert customer_browser.get(f"/portal/loop/s/{token.group(1)[:-2]}xx/").status_code == 404
    assert customer_browser.get("/portal/loop/s/" + "A" * 43 + "/").status_code == 404
    page = customer_browser.get(link)
    assert page.status_code == 200 and requirement.title in page.content.decode()
    answered = customer_browser.post(link, {"score": "5", "comment": "上线很及时，谢谢"})
    assert answered.status_code == 200 and "感谢您的反馈" in answered.content.decode()
    invitation.refresh_from_db()
    assert (invitation.score, invitation.comment) == (5, "上线很及时，谢谢")
    # Only once: a second answer is not stored.
    again = customer_browser.post(link, {"score": "1", "comment": "改主意了"})
    assert "这份问卷已经提交过了" in again.content.decode()
    invitation.refresh_from_db()
    assert invitation.score == 5

    # 9. The effect evaluation.
    evaluation = evaluation_complete(
        actor=pm, evaluation=evaluation, actual="36 %", target="≥ 30 %", met="yes", notes="客户满意度 95 %"
    )
    assert evaluation.completed_by == pm

    # 10. The archive shows the decision, plan, tasks, acceptance, notices, survey result and history.
    staff = Client()
    assert staff.login(username="product_manager", password=PASSWORD)
    html = staff.get(f"/archive/requirements/{requirement.pk}/").content.decode()
    for text in (
        "2024 年 3 月需求评审会",
        "排入 3–4 月迭代",
        "批量订单等级折扣上线计划",
        "使用率",
        "03/06–04/10",
        "PRD",
        "测试",
        contact.email,
        "36 %",
        "已上线",
        "已关闭",
        "评审决策：通过",
    ):
        assert text in html, text
    assert "5 分" in html and "上线很及时，谢谢" in html


def test_demo_data_tells_worked_example_1(django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        load_examples()
    _assert_example_complete()


def _assert_example_complete() -> None:
    requirement = Requirement.objects.select_related("status").get(code=EXAMPLE_REQUIREMENT_CODE)
    pm = User.objects.get(username=DEMO_PM)
    assert requirement.status.key == "closed"
    item = AgendaItem.objects.select_related("meeting", "iteration").get(requirement=requirement)
    assert (item.meeting.title, item.decision, item.iteration.name) == (MEETING_TITLE, "accepted", ITERATION_NAME)
    assert item.meeting.status == ReviewMeeting.Status.CLOSED and item.meeting.starts_at.year == 2024
    assert IterationItem.objects.get(requirement=requirement).iteration.status == Iteration.Status.DONE
    plan = Plan.objects.get(requirements=requirement)
    assert (plan.title, plan.strategy, plan.metric_name, plan.comparator, int(plan.target_value), plan.unit) == (
        PLAN_TITLE,
        "product_iteration",
        "使用率",
        "ge",
        30,
        "%",
    )
    tasks = [(t.title, t.start_date, t.due_date, t.status) for t in plan.tasks.order_by("start_date")]
    assert tasks == [
        ("PRD", D(2024, 3, 1), D(2024, 3, 5), "done"),
        ("开发", D(2024, 3, 6), D(2024, 4, 10), "done"),
        ("测试", D(2024, 4, 11), D(2024, 4, 20), "done"),
    ]
    acceptance = Acceptance.objects.get(requirement=requirement)
    assert acceptance.passed and acceptance.accepted_by_contact is not None
    assert timezone.localtime(acceptance.accepted_at).date() == D(2024, 4, 22)
    keys = [c.target.key for c in requirement.status_changes.select_related("target").order_by("at", "pk")]
    assert keys[-4:] == ["in_progress", "testing", "launched", "closed"]
    assert set(CustomerNotice.objects.filter(requirement=requirement).values_list("event", flat=True)) >= {
        "launched",
        "closed",
    }
    survey = SurveyInvitation.objects.get(requirement=requirement, kind="csat")
    assert survey.score == 5 and survey.email == CONTACT_EMAIL
    # Every mail of the example goes to the reserved domain, none to the older loader's address.
    assert not OutboundMail.objects.filter(to__icontains=OLDER_CONTACT_EMAIL.split("@")[1]).exists()
    evaluation = Evaluation.objects.get(requirement=requirement)
    assert evaluation.completed_by == pm and evaluation.met == "yes" and evaluation.actual == "36 %"
    # Historical tasks are done: the daily job has nothing to remind anyone of.
    assert delivery.overdue_remind(now=timezone.now()) == 0


def _counts() -> dict[str, int]:
    return {
        m.__name__: m.objects.count()
        for m in (
            ReviewMeeting,
            AgendaItem,
            Iteration,
            Plan,
            Task,
            Acceptance,
            StatusChange,
            CustomerNotice,
            SurveyInvitation,
            Evaluation,
            OutboundMail,
            Notification,
        )
    }


def test_demo_example_twice_adds_nothing_and_works_on_any_date(django_capture_on_commit_callbacks: Any) -> None:
    # Loaded years later (the services stamp "now" on moves and answers): the same complete example.
    later = dt.datetime(2031, 7, 1, 2, 0, tzinfo=dt.UTC)
    with mock.patch("django.utils.timezone.now", return_value=later):
        with django_capture_on_commit_callbacks(execute=True):
            load_examples()
        before = _counts()
        with django_capture_on_commit_callbacks(execute=True):
            load_examples()
        assert _counts() == before
        _assert_example_complete()


def test_demo_completes_an_example_entered_by_the_older_loader() -> None:
    """A database loaded before: DEM20240301001 already moved to 处理中 by hand; loading again completes it."""
    load_examples()
    requirement = Requirement.objects.get(code=EXAMPLE_REQUIREMENT_CODE)
    # Undo down to what the older loader left: a requirement in 处理中 without review, plan or delivery.
    for model in (Evaluation, SurveyInvitation, CustomerNotice, Acceptance, Task, Plan, AgendaItem, IterationItem):
        model.objects.all().delete()
    ReviewMeeting.objects.all().delete()
    Iteration.objects.all().delete()
    StatusChange.objects.filter(requirement=requirement).exclude(target__key__in=["new", "in_progress"]).delete()
    Contact.objects.filter(email=CONTACT_EMAIL).update(email=OLDER_CONTACT_EMAIL)
    Requirement.objects.filter(pk=requirement.pk).update(
        status=StatusChange.objects.filter(requirement=requirement, target__key="in_progress").get().target
    )
    load_examples()
    _assert_example_complete()


@pytest.mark.parametrize("page", ["detail", "archive"])
def test_the_change_log_of_worked_example_1_names_no_internal_keys(page: str) -> None:
    load_examples()
    requirement = Requirement.objects.get(code=EXAMPLE_REQUIREMENT_CODE)
    client = Client()
    client.force_login(User.objects.get(username=DEMO_PM))
    url = f"/requirements/{requirement.pk}/" if page == "detail" else f"/archive/requirements/{requirement.pk}/"
    html = client.get(url).content.decode()
    shown = re.findall(r"<th class=\"w-25 fw-normal text-secondary\">([^<]*)</th>", html)
    assert shown, "the change log is on the page"
    internal = {"review_decision", "review_note", "review_meeting", "iteration", "plan", "acceptance"}
    assert internal.isdisjoint(shown), sorted(internal & set(shown))


@pytest.mark.parametrize("username", [DEMO_PM, "demo_sales"])
def test_the_pages_of_worked_example_1_open_for_the_demo_users(username: str) -> None:
    load_examples()
    requirement = Requirement.objects.get(code=EXAMPLE_REQUIREMENT_CODE)
    plan = Plan.objects.get(requirements=requirement)
    meeting = ReviewMeeting.objects.get(title=MEETING_TITLE)
    client = Client()
    client.force_login(User.objects.get(username=username))
    pages = [f"/requirements/{requirement.pk}/", f"/archive/requirements/{requirement.pk}/", "/archive/"]
    if username == DEMO_PM:
        pages += [f"/reviews/{meeting.pk}/", f"/delivery/plans/{plan.pk}/", "/delivery/", "/loop/", "/evaluation/"]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
    archive = client.get(f"/archive/requirements/{requirement.pk}/").content.decode()
    assert MEETING_TITLE in archive and PLAN_TITLE in archive and "5 分" in archive
    assert requirement.code in client.get("/archive/").content.decode()


def test_demo_example_passes_the_opt_in_gates() -> None:
    """With 处理中 gated on 通过 and 已上线 on a passed acceptance, the example still loads: each step comes first."""
    WorkflowStatus.objects.filter(key="in_progress").update(entry_gates=["review_accepted"])
    WorkflowStatus.objects.filter(key="launched").update(entry_gates=["acceptance_passed"])
    load_examples()
    _assert_example_complete()
