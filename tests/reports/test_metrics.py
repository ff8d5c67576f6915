"""Every dashboard figure against a hand-computed November 2026 (Asia/Shanghai) with known histories.

The pool (``november``), submitted in November unless said; "now" is 2026-12-05 12:00 local:

=====  ==========  =========  ==========================================  ========  ==============  =====
req    submitted   owner      history (status moves)                      urgency   first response  prio
=====  ==========  =========  ==========================================  ========  ==============  =====
r1     11-03 10:00 sales      new→in_progress 11-03 20:00→testing 11-10   urgent    11-03 20:00 10h  P1
                              →launched 11-13 10:00→closed 11-23 10:00              (met)
r2     11-10 09:00 sales      new→in_progress 11-12 09:00                  urgent    11-12 09:00 48h  P0
                                                                                     (late)
r3     11-20 14:00 pm         new                                          important none (breached) P1
r4     11-30 23:30 pm         new                                          normal    none            –
r8     11-15 10:00 manager    new→in_progress 11-15 16:00→testing 11-18   normal    11-15 16:00 6h   P2
                              10:00→launched 11-20 10:00
r9     11-25 10:00 pm         new→rejected 11-26 10:00                     important 11-26 10:00 24h  P3
=====  ==========  =========  ==========================================  ========  ==============  =====

Outside the cohort: r5 (10-31 23:30, new, expected 11-01: overdue), r10 (09-01, launched 09-05, back to
testing 09-10, launched again 11-02 10:00),
r11 (12-01 00:30 local — still 11-30 in UTC), r6 (deleted), r7 (merged into r1). Customers: A 高价值 互联网
(owner sales), B 潜力 制造 (owner pm), C 普通 互联网 (no owner), D 普通 金融 (owner of another team).
r1: A · sales; r2: A · sales + B · ticket; r3: B · sales; r4: C · website_form; r8: C · sales;
r9: B · interview; r5: A; r10: C; r6: A; r7: A; r11: C.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from needpool.accounts.models import Team, User
from needpool.accounts.roles import Role
from needpool.customers.models import Contact, Customer
from needpool.customers.services import contact_create, customer_create
from needpool.delivery.models import Plan, Task
from needpool.evaluation.models import Evaluation
from needpool.loop.models import NpsCampaign, SurveyInvitation
from needpool.reports import metrics
from needpool.reports.filters import ReportFilters
from needpool.requirements.models import (
    ClassOption,
    Feedback,
    Requirement,
    StatusChange,
    Workflow,
    WorkflowStatus,
)
from needpool.requirements.services import requirement_create

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 12, 5, 12, 0, tzinfo=TZ)
NOVEMBER = ReportFilters.for_month(2026, 11)


def at(month: int, day: int, hour: int = 10, minute: int = 0, year: int = 2026) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=TZ)


def opt(dimension: str, key: str) -> ClassOption:
    return ClassOption.objects.get(dimension=dimension, key=key)


def status(key: str) -> WorkflowStatus:
    return WorkflowStatus.objects.get(workflow=Workflow.objects.get(is_active=True), key=key)


def history(req: Requirement, *moves: tuple[str, dt.datetime]) -> list[StatusChange]:
    """Replace the requirement's history: created in the initial status at submission, then ``moves``."""
    StatusChange.objects.filter(requirement=req).update(at=req.submitted_at)
    previous = req.status
    made = []
    for key, when in moves:
        target = status(key)
        change = StatusChange.objects.create(requirement=req, source=previous, target=target)
        StatusChange.objects.filter(pk=change.pk).update(at=when)
        change.at = when
        made.append(change)
        previous = target
    Requirement.objects.filter(pk=req.pk).update(status=previous)
    return made


def sla(req: Requirement, *, due: dt.datetime | None, responded: dt.datetime | None, breached: bool) -> None:
    Requirement.objects.filter(pk=req.pk).update(
        first_response_due=due, first_responded_at=responded, sla_breached=breached
    )


@pytest.fixture
def november(users: dict[str, User], make_user: Any) -> dict[str, Any]:
    admin, sales, pm, manager = users["admin"], users["sales"], users["product_manager"], users["manager"]
    product = Team.objects.create(name="产品部")
    pm.team = product
    pm.save()
    other = make_user(Role.SALES, username="sales-far", team=Team.objects.create(name="销售三部"))
    a = customer_create(actor=admin, name="A科技", industry="互联网", segment="high_value", owner=sales)
    b = customer_create(actor=admin, name="B制造", industry="制造", segment="potential", owner=pm)
    c = customer_create(actor=admin, name="C商贸", industry="互联网", segment="normal", owner=None)
    d = customer_create(actor=admin, name="D金融", industry="金融", segment="normal", owner=other)

    def make(
        title: str,
        submitted: dt.datetime,
        customer: Customer,
        owner: User,
        channel: str = "sales",
        **extra: Any,
    ) -> Requirement:
        return requirement_create(
            actor=admin,
            title=title,
            customer=customer,
            owner=owner,
            channel=channel,
            submitted_at=submitted,
            **extra,
        )

    r1 = make("r1", at(11, 3), a, sales, type=opt("type", "function"), urgency=opt("urgency", "urgent"),
              priority="P1", tags=[opt("tag", "bulk_operation")], expected_date=dt.date(2026, 11, 30))  # fmt: skip
    r2 = make("r2", at(11, 10, 9), a, sales, type=opt("type", "service"), urgency=opt("urgency", "urgent"),
              priority="P0", tags=[opt("tag", "bulk_operation"), opt("tag", "service_complaint")],
              expected_date=dt.date(2026, 12, 1))  # fmt: skip
    Feedback.objects.create(customer=b, channel="ticket", raw_text="B 也要", received_at=at(11, 11), requirement=r2)
    r3 = make("r3", at(11, 20, 14), b, pm, type=opt("type", "function"), urgency=opt("urgency", "important"),
              priority="P1", tags=[opt("tag", "efficiency")], expected_date=dt.date(2099, 12, 31))  # fmt: skip
    r4 = make("r4", at(11, 30, 23, 30), c, pm, channel="website_form", type=opt("type", "experience"),
              urgency=opt("urgency", "normal"))  # fmt: skip
    r8 = make("r8", at(11, 15), c, manager, type=opt("type", "function_improvement"),
              urgency=opt("urgency", "normal"), priority="P2")  # fmt: skip
    r9 = make("r9", at(11, 25), b, pm, channel="interview", urgency=opt("urgency", "important"), priority="P3")
    r5 = make("r5", at(10, 31, 23, 30), a, sales, urgency=opt("urgency", "important"),
              expected_date=dt.date(2026, 11, 1))  # fmt: skip
    r10 = make("r10", at(9, 1), c, manager, expected_date=dt.date(2026, 10, 1))
    r11 = make("r11", at(12, 1, 0, 30), c, pm)
    r6 = make("r6", at(11, 5), a, sales, expected_date=dt.date(2026, 11, 2), urgency=opt("urgency", "urgent"))
    r7 = make("r7", at(11, 6), a, sales, expected_date=dt.date(2026, 11, 2), priority="P0")

    history(r1, ("in_progress", at(11, 3, 20)), ("testing", at(11, 10)), ("launched", at(11, 13)),
            ("closed", at(11, 23)))  # fmt: skip
    history(r2, ("in_progress", at(11, 12, 9)))
    history(r3)
    history(r4)
    history(r8, ("in_progress", at(11, 15, 16)), ("testing", at(11, 18)), ("launched", at(11, 20)))
    history(r9, ("rejected", at(11, 26)))
    history(r5)
    r10_moves = history(r10, ("in_progress", at(9, 2)), ("testing", at(9, 3)), ("launched", at(9, 5)),
                        ("testing", at(9, 10)), ("launched", at(11, 2)))  # fmt: skip
    history(r11)
    r6_launch = history(r6, ("in_progress", at(11, 5, 12)), ("testing", at(11, 6)), ("launched", at(11, 7)))[-1]
    history(r7)

    sla(r1, due=at(11, 4), responded=at(11, 3, 20), breached=False)
    sla(r2, due=at(11, 11, 9), responded=at(11, 12, 9), breached=True)
    sla(r3, due=at(11, 23, 14), responded=None, breached=True)
    sla(r4, due=None, responded=None, breached=False)
    sla(r8, due=None, responded=at(11, 15, 16), breached=False)
    sla(r9, due=at(11, 28), responded=at(11, 26), breached=False)
    sla(r5, due=at(11, 3, 23, 30), responded=None, breached=True)
    sla(r6, due=at(11, 6), responded=None, breached=True)
    for req, tier in ((r1, "high"), (r2, "high"), (r3, "medium"), (r4, "low"), (r8, ""), (r9, "medium")):
        Requirement.objects.filter(pk=req.pk).update(customer_value=tier)

    Requirement.objects.filter(pk=r6.pk).update(deleted_at=at(11, 8))
    Requirement.objects.filter(pk=r7.pk).update(merged_into=r1, merged_at=at(11, 7))

    # Delivery: r2's plan has one overdue task; the deleted r6's plan has one too (not counted).
    plan = Plan.objects.create(title="r2 计划", strategy="product_iteration", start_date=at(11, 1).date(),
                               end_date=at(12, 31).date())  # fmt: skip
    plan.requirements.add(r2)
    Task.objects.create(plan=plan, title="t1", start_date=dt.date(2026, 11, 1), due_date=dt.date(2026, 12, 1))
    Task.objects.create(plan=plan, title="t2", start_date=dt.date(2026, 11, 1), due_date=dt.date(2026, 11, 20),
                        status="done")  # fmt: skip
    Task.objects.create(plan=plan, title="t3", start_date=dt.date(2026, 11, 1), due_date=dt.date(2026, 12, 10),
                        status="doing")  # fmt: skip
    Task.objects.create(plan=plan, title="t4", start_date=dt.date(2026, 11, 1), due_date=dt.date(2026, 12, 5))
    gone = Plan.objects.create(title="r6 计划", strategy="product_iteration", start_date=at(11, 1).date(),
                               end_date=at(12, 31).date())  # fmt: skip
    gone.requirements.add(r6)
    Task.objects.create(plan=gone, title="t5", start_date=dt.date(2026, 11, 1), due_date=dt.date(2026, 11, 20))

    contacts: dict[str, list[Contact]] = {}
    for customer in (a, b, c, d):
        contacts[customer.name] = [
            contact_create(actor=admin, customer=customer, name=f"{customer.name}{i}", email=f"c{customer.pk}{i}@x.cn")
            for i in range(3)
        ]
    seq = iter(range(1000))

    def invite(kind: str, contact: Contact, score: int, answered: dt.datetime, **subject: Any) -> None:
        SurveyInvitation.objects.create(
            kind=kind,
            contact=contact,
            customer=contact.customer,
            email=contact.email,
            token_hash=f"h{next(seq)}",
            created_at=answered - dt.timedelta(days=1),
            expires_at=answered + dt.timedelta(days=30),
            score=score,
            answered_at=answered,
            **subject,
        )

    # CSAT: r1 5, r8 3, r10 4 (slice, launched before) in November → 4.0 over 3; r6 (deleted) and a December
    # answer do not count; an unanswered invitation neither.
    invite("csat", contacts["A科技"][0], 5, at(11, 25), requirement=r1)
    invite("csat", contacts["C商贸"][0], 3, at(11, 28), requirement=r8)
    invite("csat", contacts["C商贸"][1], 4, at(11, 29), requirement=r10)
    invite("csat", contacts["A科技"][1], 1, at(11, 26), requirement=r6)
    invite("csat", contacts["A科技"][2], 2, at(12, 2), requirement=r1)
    SurveyInvitation.objects.create(kind="csat", requirement=r2, contact=contacts["A科技"][0], email="x@x.cn",
                                    token_hash="unanswered", created_at=at(11, 20), expires_at=at(12, 20))  # fmt: skip
    # NPS: A 10, A 6, B 9, C 7, D 8 in November; C 0 in October. All readers: 2 promoters, 2 passives,
    # 1 detractor → NPS 20.0. The sales rep sees A and C: A 10, A 6, C 7 → (1 − 1) / 3 → 0.0.
    campaign = NpsCampaign.objects.create(name="2026 秋季", status="sent")
    invite("nps", contacts["A科技"][0], 10, at(11, 10), campaign=campaign)
    invite("nps", contacts["A科技"][1], 6, at(11, 11), campaign=campaign)
    invite("nps", contacts["B制造"][0], 9, at(11, 12), campaign=campaign)
    invite("nps", contacts["C商贸"][0], 7, at(11, 30, 23, 59), campaign=campaign)
    invite("nps", contacts["D金融"][0], 8, at(11, 14), campaign=campaign)
    invite("nps", contacts["C商贸"][1], 0, at(10, 31, 23, 59), campaign=campaign)

    def evaluation(req: Requirement, launch: StatusChange, completed: dt.datetime, **answers: Any) -> None:
        Evaluation.objects.create(requirement=req, launch=launch, launched_at=launch.at, due_date=completed.date(),
                                  completed_at=completed, **answers)  # fmt: skip

    launches = {r.pk: StatusChange.objects.get(requirement=r, target__key="launched") for r in (r1, r8)}
    evaluation(r1, launches[r1.pk], at(11, 27), repurchased=True, renewed=True, complaint_drop_pct=Decimal("20.0"),
               met="yes")  # fmt: skip
    evaluation(r8, launches[r8.pk], at(11, 29), repurchased=False, referred=True, complaint_drop_pct=Decimal("10.0"),
               met="partly")  # fmt: skip
    evaluation(r10, r10_moves[-1], at(11, 16), renewed=False, referred=False, met="no")
    evaluation(r6, r6_launch, at(11, 20), repurchased=True, renewed=True, referred=True, met="yes")
    # Completed in December (of r10's first launch): not counted.
    evaluation(r10, r10_moves[2], at(12, 1), repurchased=False, met="no")

    return {
        "r1": r1, "r2": r2, "r3": r3, "r4": r4, "r5": r5, "r6": r6, "r7": r7, "r8": r8, "r9": r9,
        "r10": r10, "r11": r11, "a": a, "b": b, "c": c, "d": d, "product": product, "other": other,
    }  # fmt: skip


def counts(rows: list[tuple[str, str, int]]) -> dict[str, int]:
    return {key: n for key, _label, n in rows}


def test_summary_every_figure(november: dict[str, Any], users: dict[str, User]) -> None:
    got = metrics.summary(user=users["admin"], filters=NOVEMBER, now=NOW)
    r = november
    # The cohort is r1 r2 r3 r4 r8 r9 (r4 at 23:30 on the 30th counts; r5, r11, deleted r6, merged r7 do not).
    assert got["total"] == 6
    assert got["resolved"] == 2  # r1 closed, r8 launched (r9 rejected is not resolved)
    assert got["fulfilment_rate"] == 33.3
    assert (got["sla_due"], got["sla_met"], got["sla_compliance"]) == (4, 2, 50.0)  # r1 r2 r3 r9; r1 r9 met
    assert got["sla_breach_count"] == 2
    assert got["first_response_avg_hours"] == 22.0  # (10 + 48 + 6 + 24) / 4
    assert got["lead_launch_avg_days"] == 7.5  # r1 10 d, r8 5 d
    assert got["lead_close_avg_days"] == 20.0  # r1
    assert got["overdue_requirements"] == 2  # r2 (expected 12-01, in progress), r5 (outside the period)
    assert got["overdue_tasks"] == 1  # t1; t4 is due today; r6's task belongs to a deleted requirement
    assert (got["csat_avg"], got["csat_count"]) == (4.0, 3)
    assert (got["promoters"], got["passives"], got["detractors"], got["nps_count"]) == (2, 2, 1, 5)
    assert got["nps"] == 20.0
    assert counts(got["by_type"]) == {"function": 2, "service": 1, "experience": 1, "function_improvement": 1, "": 1}
    assert counts(got["by_channel"]) == {"sales": 4, "ticket": 1, "website_form": 1, "interview": 1}
    assert counts(got["by_priority"]) == {"P1": 2, "P0": 1, "P2": 1, "P3": 1, "": 1}
    assert counts(got["by_status"]) == {"new": 2, "in_progress": 1, "closed": 1, "launched": 1, "rejected": 1}
    assert counts(got["by_segment"]) == {"potential": 3, "high_value": 2, "normal": 2}
    assert counts(got["by_industry"]) == {"互联网": 4, "制造": 3}
    assert counts(got["by_value_tier"]) == {"high": 2, "medium": 2, "low": 1, "": 1}
    assert counts(got["by_tag"]) == {"bulk_operation": 2, "service_complaint": 1, "efficiency": 1}
    for key in ("by_type", "by_channel", "by_priority", "by_status", "by_segment", "by_industry", "by_tag"):
        rows = got[key]
        assert rows == sorted(rows, key=lambda row: (-row[2], row[1], row[0])), key
    assert got["by_segment"][0] == ("potential", "潜力", 3)
    assert got["by_type"][0] == ("function", opt("type", "function").label, 2)
    assert dict((k, lbl) for k, lbl, _n in got["by_type"])[""] == "未分类"
    assert [pk for pk, _code, _title in got["launched"]] == [r["r10"].pk, r["r1"].pk, r["r8"].pk]
    assert got["launched_count"] == 3
    assert got["launched"][1] == (r["r1"].pk, r["r1"].code, "r1")
    assert [pk for pk, _c, _t in got["sla_breaches"]] == [r["r2"].pk, r["r3"].pk]
    # Business effect over r1, r8, r10 (r6 deleted, r10's December evaluation outside the period).
    assert got["effect_count"] == 3
    assert (got["repurchase_rate"], got["repurchase_count"]) == (50.0, 2)
    assert (got["renewal_rate"], got["renewal_count"]) == (50.0, 2)
    assert (got["referral_rate"], got["referral_count"]) == (50.0, 2)
    assert (got["complaint_drop_avg_pct"], got["complaint_drop_count"]) == (15.0, 2)
    assert (got["met_rate"], got["met_partly"], got["met_count"]) == (33.3, 1, 3)


CONTRACT_KEYS = {
    "total", "resolved", "fulfilment_rate", "sla_due", "sla_met", "sla_compliance", "first_response_avg_hours",
    "lead_launch_avg_days", "lead_close_avg_days", "overdue_requirements", "overdue_tasks", "csat_avg",
    "csat_count", "nps", "promoters", "passives", "detractors", "nps_count", "by_type", "by_channel",
    "by_priority", "by_status", "by_segment", "by_industry", "by_value_tier", "by_tag", "launched",
    "sla_breaches",
}  # fmt: skip


def test_empty_period_is_none_and_zero_not_an_error(november: dict[str, Any], users: dict[str, User]) -> None:
    got = metrics.summary(user=users["admin"], filters=ReportFilters.for_month(2025, 2), now=NOW)
    assert set(got) >= CONTRACT_KEYS
    assert got["total"] == got["resolved"] == got["sla_due"] == got["sla_met"] == 0
    for key in ("fulfilment_rate", "sla_compliance", "first_response_avg_hours", "lead_launch_avg_days",
                "lead_close_avg_days", "csat_avg", "nps", "repurchase_rate", "met_rate"):  # fmt: skip
        assert got[key] is None, key
    assert got["csat_count"] == got["nps_count"] == got["promoters"] == 0
    for key in ("by_type", "by_channel", "by_priority", "by_status", "by_segment", "by_industry", "by_tag",
                "by_value_tier", "launched", "sla_breaches"):  # fmt: skip
        assert got[key] == [], key
    # A state of today, whatever the period: the overdue requirements and tasks of the slice.
    assert (got["overdue_requirements"], got["overdue_tasks"]) == (2, 1)


def test_an_empty_database_counts_nothing(users: dict[str, User]) -> None:
    got = metrics.summary(user=users["admin"], filters=NOVEMBER, now=NOW)
    assert got["total"] == 0 and got["fulfilment_rate"] is None and got["by_status"] == []


def test_time_zone_boundaries(november: dict[str, Any], users: dict[str, User]) -> None:
    """11-30 23:30 local is November; 12-01 00:30 local (11-30 16:30 UTC) is December."""
    december = metrics.summary(user=users["admin"], filters=ReportFilters.for_month(2026, 12), now=NOW)
    assert december["total"] == 1  # r11
    last_day = ReportFilters(start=dt.date(2026, 11, 30), end=dt.date(2026, 11, 30))
    assert metrics.summary(user=users["admin"], filters=last_day, now=NOW)["total"] == 1  # r4
    october = metrics.summary(user=users["admin"], filters=ReportFilters.for_month(2026, 10), now=NOW)
    assert october["total"] == 1  # r5 at 23:30 on 10-31
    assert (october["nps_count"], october["nps"]) == (1, -100.0)  # C's 0 at 23:59 on 10-31


def test_deleted_and_merged_requirements_never_count(november: dict[str, Any], users: dict[str, User]) -> None:
    r = november
    before = metrics.summary(user=users["admin"], filters=NOVEMBER, now=NOW)
    Requirement.objects.filter(pk=r["r2"].pk).update(deleted_at=NOW)
    Requirement.objects.filter(pk=r["r3"].pk).update(merged_into=r["r1"])
    after = metrics.summary(user=users["admin"], filters=NOVEMBER, now=NOW)
    assert (before["total"], after["total"]) == (6, 4)
    assert after["overdue_requirements"] == 1  # r2 was one of the two
    assert after["overdue_tasks"] == 0  # r2's plan
    assert counts(after["by_segment"]) == {"high_value": 1, "potential": 1, "normal": 2}
    assert after["sla_breaches"] == []


def test_slices_team_owner_segment_industry(november: dict[str, Any], users: dict[str, User]) -> None:
    admin, r = users["admin"], november

    def total(**slices: Any) -> int:
        return int(metrics.summary(user=admin, filters=ReportFilters.for_month(2026, 11, **slices), now=NOW)["total"])

    assert total(owner=users["product_manager"].pk) == 3  # r3 r4 r9
    assert total(team=r["product"].pk) == 3
    assert total(segment="potential") == 3  # r2 r3 r9
    assert total(industry="互联网") == 4
    assert total(segment="normal", industry="互联网") == 2  # r4 r8
    # The product manager moves to another team: their requirements count for the new team.
    moved = Team.objects.create(name="产品二部")
    User.objects.filter(pk=users["product_manager"].pk).update(team=moved)
    assert total(team=r["product"].pk) == 0
    assert total(team=moved.pk) == 3
    segment = metrics.summary(user=admin, filters=ReportFilters.for_month(2026, 11, segment="potential"), now=NOW)
    assert segment["nps_count"] == 1 and segment["promoters"] == 1  # B's 9
    assert (segment["csat_count"], segment["overdue_requirements"]) == (0, 1)  # r2 via B


def test_sales_rep_counts_only_what_they_may_open(november: dict[str, Any], users: dict[str, User]) -> None:
    """The rep sees customers A (theirs) and C (unowned): r1 r2 r4 r8 of the cohort, not r3 r9 (B only)."""
    got = metrics.summary(user=users["sales"], filters=NOVEMBER, now=NOW)
    assert got["total"] == 4
    assert got["resolved"] == 2
    assert (got["sla_due"], got["sla_met"]) == (2, 1)  # r1 met, r2 late
    assert (got["nps_count"], got["promoters"], got["passives"], got["detractors"], got["nps"]) == (3, 1, 1, 1, 0.0)
    assert counts(got["by_segment"]) == {"high_value": 2, "potential": 1, "normal": 2}  # r2 also has B's feedback
    far = metrics.summary(user=november["other"], filters=NOVEMBER, now=NOW)
    assert far["total"] == 2  # r4 and r8: customer C has no owner, so every rep sees it
    assert (far["nps_count"], far["nps"]) == (2, 0.0)  # C's 7 and D's 8: two passives


def test_summary_query_count_is_fixed(
    november: dict[str, Any], users: dict[str, User], make_requirements: Any, django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(20):
        metrics.summary(user=users["sales"], filters=NOVEMBER, now=NOW)
    make_requirements(12, submitted_at=at(11, 12))
    with django_assert_max_num_queries(20):
        got = metrics.summary(user=users["sales"], filters=NOVEMBER, now=NOW)
    assert got["total"] == 16


def test_now_defaults_to_the_clock(users: dict[str, User]) -> None:
    filters = ReportFilters.default(today=timezone.localdate())
    assert metrics.summary(user=users["admin"], filters=filters)["total"] == 0


def test_a_flow_without_launched_counts_its_first_done_status_as_launch(
    november: dict[str, Any], users: dict[str, User]
) -> None:
    lite = Workflow.objects.create(key="lite", name="简易流程")
    start = WorkflowStatus.objects.create(workflow=lite, key="open", label="待办", category="new", is_initial=True)
    finished = WorkflowStatus.objects.create(workflow=lite, key="finished", label="完成", category="done", order=1)
    req = november["r4"]
    StatusChange.objects.filter(requirement=req).update(target=start)
    change = StatusChange.objects.create(requirement=req, source=start, target=finished)
    StatusChange.objects.filter(pk=change.pk).update(at=req.submitted_at + dt.timedelta(days=4))
    Requirement.objects.filter(pk=req.pk).update(status=finished)
    got = metrics.summary(user=users["admin"], filters=NOVEMBER, now=NOW)
    assert got["lead_launch_avg_days"] == 6.3  # (10 + 5 + 4) / 3
    assert got["lead_close_avg_days"] == 20.0  # the lite flow has no close status
    assert got["resolved"] == 3
    assert ("finished", "完成", 1) in got["by_status"]


def test_a_deleted_customers_nps_answers_leave_with_it(november: dict[str, Any], users: dict[str, User]) -> None:
    Customer.all_objects.filter(pk=november["d"].pk).update(deleted_at=NOW)
    got = metrics.summary(user=users["admin"], filters=NOVEMBER, now=NOW)
    assert (got["nps_count"], got["passives"], got["nps"]) == (4, 1, 25.0)  # D's 8 is gone: (2 − 1) / 4


def test_summary_reads_the_period_as_a_range_on_the_column(november: dict[str, Any], users: dict[str, User]) -> None:
    """No date function around 提交时间 / 回答时间: the indexes on those columns serve the period."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        metrics.summary(user=users["sales"], filters=NOVEMBER, now=NOW)
    sql = [q["sql"] for q in ctx.captured_queries]
    for column in ("submitted_at", "answered_at", "completed_at", "at"):
        wrapped = re.compile(rf'cast_date\([^)]*"{column}"|"{column}" AT TIME ZONE|"{column}"\)?::date')
        assert not [s for s in sql if wrapped.search(s)], column
    assert any('"submitted_at" >= ' in s for s in sql)
