"""Worked example 1 of PRODUCT.md §4 after it was entered: review, iteration, plan, tasks, acceptance, launch,
the customer told, the CSAT answer and the effect evaluation of DEM20240301001.

Every step goes through the services as the demo product manager (the customer's answer through the survey
service) and is skipped when it is already done, so loading twice, or onto a database where the requirement
was entered by an older loader, completes the example without repeating anything.

The example happened in 2024: the meeting, the iteration, the plan, the tasks and the acceptance carry their
2024 dates. The services stamp what they record without a date of their own (status moves, notices, the
survey answer, when a task was marked done) with the moment the example is loaded.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from needpool.accounts.models import User
from needpool.customers.models import Contact
from needpool.customers.services import contact_update
from needpool.delivery.choices import Comparator, Strategy, TaskStatus
from needpool.delivery.models import Iteration, Plan
from needpool.delivery.services import (
    acceptance_passed,
    acceptance_record,
    iteration_create,
    iteration_update,
    plan_create,
    task_create,
)
from needpool.evaluation.models import Evaluation
from needpool.evaluation.services import evaluation_complete, evaluation_open_for_launch
from needpool.loop.models import NoticeEvent, SurveyInvitation
from needpool.loop.services import csat_invite, customer_notices_send, survey_answer
from needpool.requirements.models import Requirement, StatusChange
from needpool.requirements.services import requirement_transition
from needpool.reviews.models import AgendaItem, Decision, ReviewAttendee, ReviewMeeting
from needpool.reviews.services import agenda_add, decide, meeting_create, meeting_update, minutes_update

SHANGHAI = ZoneInfo("Asia/Shanghai")
D = dt.date

MEETING_TITLE = "2024 年 3 月需求评审会"
ITERATION_NAME = "2024 年 3–4 月迭代"
PLAN_TITLE = "批量订单等级折扣上线计划"
DECISION_NOTE = "高价值客户的重要需求，方案可行，排入 2024 年 3–4 月迭代优先开发。"
#: PRD 3/1–3/5, development 3/6–4/10, test 4/11–4/20 (2024), each depending on the one before
TASKS = (
    ("PRD", D(2024, 3, 1), D(2024, 3, 5), "PRD 文档"),
    ("开发", D(2024, 3, 6), D(2024, 4, 10), "折扣规则配置与下单自动套用"),
    ("测试", D(2024, 4, 11), D(2024, 4, 20), "测试报告"),
)
ACCEPTED_AT = dt.datetime(2024, 4, 22, 10, 0, tzinfo=SHANGHAI)
LAUNCH_NOTE = "2024-04-25 已上线：批量下单按客户等级自动套用阶梯折扣。"
CSAT_SCORE = 5
#: The example's contact is mailed (launch, close, survey): her address is on a reserved domain. Databases
#: loaded before this was so have the older address, which is moved to the reserved one before any mail.
CONTACT_EMAIL = "chenjing@yuegou.example.com"
OLDER_CONTACT_EMAIL = "chenjing@yuegou-ec.com.cn"
CSAT_COMMENT = "按等级自动给批量折扣，月底对账轻松多了，非常满意（95 分）。"


def _local(year: int, month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def _meeting(pm: User, sales: User) -> ReviewMeeting:
    meeting = ReviewMeeting.objects.filter(title=MEETING_TITLE).order_by("id").first()
    if meeting is not None:
        return meeting
    return meeting_create(
        actor=pm,
        title=MEETING_TITLE,
        starts_at=_local(2024, 3, 1, 14),
        ends_at=_local(2024, 3, 1, 15, 30),
        place="3 楼大会议室",
        chair=pm,
        attendees=[(pm, ReviewAttendee.Role.PRODUCT), (sales, ReviewAttendee.Role.SALES)],
    )


def _iteration(pm: User) -> Iteration:
    iteration = Iteration.objects.filter(name=ITERATION_NAME).order_by("id").first()
    if iteration is not None:
        return iteration
    return iteration_create(
        actor=pm,
        name=ITERATION_NAME,
        goal="批量订单按客户等级自动折扣",
        start_date=D(2024, 3, 1),
        end_date=D(2024, 4, 30),
        status=Iteration.Status.ACTIVE,
    )


def _review(pm: User, sales: User, requirement: Requirement) -> tuple[ReviewMeeting, Iteration]:
    """On the agenda of the March meeting, decided 通过 into the March–April iteration (new → 处理中)."""
    meeting, iteration = _meeting(pm, sales), _iteration(pm)
    item = AgendaItem.objects.filter(meeting=meeting, requirement=requirement).first()
    if item is None:
        item = agenda_add(actor=pm, meeting=meeting, requirement_ids=[requirement.pk])[0]
    if item.decision == Decision.PENDING and iteration.status != Iteration.Status.DONE:
        item = decide(actor=pm, item=item, decision=Decision.ACCEPTED, note=DECISION_NOTE, iteration=iteration)
        minutes_update(
            actor=pm,
            meeting=meeting,
            solution="按客户等级 × 数量阶梯配置折扣规则，下单时自动套用并在订单上显示折扣明细。",
            summary="通过 1 项：DEM20240301001 排入 2024 年 3–4 月迭代。",
            items=[{"id": item.pk, "notes": "先做 PRD，3 月 5 日前评审。", "owner": pm, "due_date": D(2024, 4, 20)}],
        )
    if meeting.status != ReviewMeeting.Status.CLOSED:
        meeting = meeting_update(actor=pm, meeting=meeting, status=ReviewMeeting.Status.CLOSED)
    return meeting, iteration


def _plan(pm: User, requirement: Requirement) -> Plan:
    """The plan with its criterion (使用率 ≥ 30 %) and the three tasks, each depending on the one before."""
    plan = Plan.objects.filter(requirements=requirement, title=PLAN_TITLE).order_by("id").first()
    if plan is None:
        plan = plan_create(
            actor=pm,
            requirements=[requirement],
            title=PLAN_TITLE,
            strategy=Strategy.PRODUCT_ITERATION,
            solution="订单中心增加“等级折扣规则”配置（客户等级 × 数量阶梯），下单时自动计算折扣并展示明细。",
            owner=pm,
            start_date=D(2024, 3, 1),
            end_date=D(2024, 4, 20),
            people="产品 1 人、研发 3 人、测试 1 人",
            metric_name="使用率",
            comparator=Comparator.GE,
            target_value=30,
            unit="%",
            milestones=[
                {"title": "PRD 评审", "date": D(2024, 3, 5), "done": True},
                {"title": "开发完成", "date": D(2024, 4, 10), "done": True},
                {"title": "测试完成", "date": D(2024, 4, 20), "done": True},
            ],
        )
    if not plan.tasks.exists():
        previous = None
        for title, start, due, deliverable in TASKS:
            # Done: tasks of 2024 left open would be overdue and remind the manager every morning.
            previous = task_create(
                actor=pm,
                plan=plan,
                title=title,
                owner=pm,
                start_date=start,
                due_date=due,
                deliverable=deliverable,
                status=TaskStatus.DONE,
                depends_on=[previous] if previous else [],
            )
    return plan


def _move(pm: User, requirement: Requirement, to: str, note: str) -> Requirement:
    return requirement_transition(actor=pm, requirement=requirement, to=to, note=note)


def _launch(pm: User, requirement: Requirement, plan: Plan, contact: Contact | None) -> Requirement:
    """Accepted by the customer's contact on 2024-04-22 (使用率 36 %), then 测试中 → 已上线."""
    if not acceptance_passed(requirement):
        acceptance_record(
            actor=pm,
            requirement=requirement,
            plan=plan,
            passed=True,
            accepted_by_contact=contact,
            accepted_by_user=None if contact else pm,
            accepted_at=ACCEPTED_AT,
            actual_value=Decimal("36"),
            remarks="试用两周：批量订单中 36 % 使用了等级折扣规则，达到验收标准（≥ 30 %）。",
        )
    if requirement.status.key == "in_progress":
        requirement = _move(pm, requirement, "testing", "开发完成，4 月 11 日起测试")
    if requirement.status.key == "testing":
        requirement = _move(pm, requirement, "launched", LAUNCH_NOTE)
    return requirement


def _tell_and_evaluate(pm: User, requirement: Requirement) -> None:
    """The customer told of the launch, and the launch's effect evaluation filled in.

    The status listener does both after the move commits (the notice through the job queue); calling the
    same idempotent services here makes the example complete wherever the jobs run.
    """
    customer_notices_send(requirement_id=requirement.pk, event=NoticeEvent.LAUNCHED, note=LAUNCH_NOTE, actor_id=pm.pk)
    launch = StatusChange.objects.filter(requirement=requirement, target__key="launched").order_by("-at", "-pk").first()
    if launch is None:
        return
    evaluation = evaluation_open_for_launch(change=launch) or Evaluation.objects.filter(launch=launch).first()
    if evaluation is not None and evaluation.completed_at is None:
        evaluation_complete(
            actor=pm,
            evaluation=evaluation,
            metric="批量订单等级折扣使用率",
            target="≥ 30 %",
            actual="36 %",
            met=Evaluation.Met.YES,
            ease_of_use=4,
            complaint_drop_pct="40",
            notes="客户满意度 95 %；月底对账差异明显减少，手工改价的投诉下降 40 %。",
        )


def _close_and_rate(pm: User, requirement: Requirement) -> Requirement:
    """已上线 → 已关闭; the contact invited to the CSAT survey answers 5."""
    if requirement.status.key == "launched":
        requirement = _move(pm, requirement, "closed", "客户确认使用正常，需求闭环")
    if requirement.status.key != "closed":
        return requirement
    customer_notices_send(requirement_id=requirement.pk, event=NoticeEvent.CLOSED, actor_id=pm.pk)
    csat_invite(requirement_id=requirement.pk)
    for invitation in SurveyInvitation.objects.filter(
        kind=SurveyInvitation.Kind.CSAT, requirement=requirement, answered_at__isnull=True
    ).order_by("id"):
        survey_answer(invitation=invitation, score=CSAT_SCORE, comment=CSAT_COMMENT)
    return requirement


def bulk_discount_life(pm: User, sales: User, requirement: Requirement) -> None:
    """Take DEM20240301001 from 待处理 to 已关闭 as in the worked example (each step once)."""
    if requirement.merged_into_id:
        return
    requirement = Requirement.objects.select_related("status").get(pk=requirement.pk)
    _meeting_done, iteration = _review(pm, sales, requirement)
    requirement.refresh_from_db()
    plan = _plan(pm, requirement)
    contact = Contact.objects.filter(feedback__requirement=requirement).order_by("id").first()
    if contact is not None and contact.email == OLDER_CONTACT_EMAIL:
        contact = contact_update(actor=sales, contact=contact, email=CONTACT_EMAIL)
    requirement = _launch(pm, requirement, plan, contact)
    if iteration.status != Iteration.Status.DONE and requirement.status.category == "done":
        iteration_update(actor=pm, iteration=iteration, status=Iteration.Status.DONE)
    _tell_and_evaluate(pm, requirement)
    _close_and_rate(pm, requirement)
