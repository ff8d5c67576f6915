"""Permission scoping as a property: for any pool of requirements over several owners and customers, a sales
rep's summary equals a brute-force count over exactly the requirements the rep may open
(``visible_requirements``), and never exceeds the whole pool's."""

from __future__ import annotations

import datetime as dt
import itertools
import zoneinfo
from collections import Counter
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from needpool.accounts.models import Team, User
from needpool.accounts.roles import Role
from needpool.customers.models import Customer
from needpool.reports import metrics
from needpool.reports.filters import ReportFilters
from needpool.requirements.models import Feedback, Requirement, Workflow, WorkflowStatus
from needpool.requirements.permissions import visible_requirements

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 12, 5, 12, 0, tzinfo=TZ)
NOVEMBER = ReportFilters.for_month(2026, 11)
STATUSES = ["new", "in_progress", "launched", "closed", "rejected"]

REQUIREMENT = st.fixed_dictionaries(
    {
        "owner": st.integers(0, 3),  # rep, rep's teammate, other team, nobody
        "rep_created": st.booleans(),
        "customers": st.lists(st.integers(0, 3), max_size=3),  # mine, teammate's, other team's, unowned
        "vote": st.booleans(),  # the first feedback is an out-of-scope vote
        "day": st.integers(-3, 33),  # days after 11-01; outside November at both ends
        "hour": st.integers(0, 23),
        "status": st.sampled_from(STATUSES),
        "priority": st.sampled_from(["", "P0", "P1"]),
        "due": st.booleans(),
        "responded_after": st.one_of(st.none(), st.integers(1, 48)),
        "late_expected": st.booleans(),
        "deleted": st.integers(0, 9),  # 0: deleted
        "merged": st.integers(0, 9),  # 0: merged into the first requirement
    }
)


@pytest.fixture
def world(make_user: Any) -> dict[str, Any]:
    mine, far = Team.objects.create(name="销售一部"), Team.objects.create(name="销售二部")
    rep = make_user(Role.SALES, username="rep", team=mine)
    mate = make_user(Role.SALES, username="mate", team=mine)
    other = make_user(Role.SALES, username="other", team=far)
    admin = make_user(Role.ADMIN, username="boss")
    people = [
        (rep, "high_value", "互联网"),
        (mate, "potential", "制造"),
        (other, "normal", "互联网"),
        (None, "normal", ""),
    ]
    customers = [
        Customer.objects.create(code=f"C{i}", name=f"客户{i}", segment=seg, industry=ind, owner=owner)
        for i, (owner, seg, ind) in enumerate(people)
    ]
    flow = Workflow.objects.get(is_active=True)
    return {
        "rep": rep,
        "admin": admin,
        "owners": [rep, mate, other, None],
        "customers": customers,
        "status": {s.key: s for s in WorkflowStatus.objects.filter(workflow=flow)},
    }


SEQ = itertools.count()


def _build(world: dict[str, Any], specs: list[dict[str, Any]]) -> None:
    first: Requirement | None = None
    for spec in specs:
        submitted = dt.datetime(2026, 11, 1, spec["hour"], 7, tzinfo=TZ) + dt.timedelta(days=spec["day"])
        req = Requirement.objects.create(
            code=f"P{next(SEQ)}",
            title="需求",
            status=world["status"][spec["status"]],
            priority=spec["priority"],
            owner=world["owners"][spec["owner"]],
            created_by=world["rep"] if spec["rep_created"] else world["admin"],
            submitted_at=submitted,
            first_response_due=submitted + dt.timedelta(hours=24) if spec["due"] else None,
            first_responded_at=(
                submitted + dt.timedelta(hours=spec["responded_after"]) if spec["responded_after"] else None
            ),
            expected_date=dt.date(2026, 11, 20) if spec["late_expected"] else None,
            deleted_at=NOW if spec["deleted"] == 0 else None,
            merged_into=first if (spec["merged"] == 0 and first is not None) else None,
        )
        for n, index in enumerate(spec["customers"]):
            Feedback.objects.create(
                customer=world["customers"][index],
                channel="sales",
                raw_text="原话",
                received_at=submitted,
                requirement=req,
                scope_vote=spec["vote"] and n == 0,
            )
        first = first or req


def _brute_force(user: User) -> dict[str, Any]:
    start = dt.datetime(2026, 11, 1, tzinfo=TZ)
    end = dt.datetime(2026, 12, 1, tzinfo=TZ)
    visible = list(visible_requirements(user).filter(merged_into__isnull=True).select_related("status"))
    cohort = [r for r in visible if start <= r.submitted_at < end]
    segments: Counter[str] = Counter()
    for r in cohort:
        for seg in {f.customer.segment for f in Feedback.objects.filter(requirement=r, customer__isnull=False)}:
            segments[seg] += 1
    due = [r for r in cohort if r.first_response_due and (r.first_responded_at or r.first_response_due < NOW)]
    return {
        "total": len(cohort),
        "resolved": sum(r.status.category == "done" for r in cohort),
        "sla_due": len(due),
        "sla_met": sum(bool(r.first_responded_at and r.first_responded_at <= r.first_response_due) for r in due),
        "overdue_requirements": sum(
            r.status.category in ("new", "active") and r.expected_date is not None and r.expected_date < NOW.date()
            for r in visible
        ),
        "by_priority": Counter(r.priority for r in cohort),
        "by_status": Counter(r.status.key for r in cohort),
        "by_segment": segments,
    }


def _comparable(summary: dict[str, Any]) -> dict[str, Any]:
    out = {k: summary[k] for k in ("total", "resolved", "sla_due", "sla_met", "overdue_requirements")}
    for key in ("by_priority", "by_status", "by_segment"):
        out[key] = Counter({k: n for k, _label, n in summary[key]})
    return out


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(specs=st.lists(REQUIREMENT, max_size=10))
def test_a_reps_numbers_are_the_numbers_of_what_they_may_open(world: dict[str, Any], specs: list[dict[str, Any]]):
    with transaction.atomic():
        _build(world, specs)
        rep_summary = metrics.summary(user=world["rep"], filters=NOVEMBER, now=NOW)
        assert _comparable(rep_summary) == _brute_force(world["rep"])
        whole = metrics.summary(user=world["admin"], filters=NOVEMBER, now=NOW)
        assert _comparable(whole) == _brute_force(world["admin"])
        assert rep_summary["total"] <= whole["total"]
        transaction.set_rollback(True)
