"""Reads of the analysis desk: ranking, charts, weighted demand, analysis projects and their visibility."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from needpool.accounts.models import Team
from needpool.accounts.roles import Role
from needpool.analysis.models import AnalysisProject
from needpool.analysis.selectors import (
    analysis_of,
    demand_of,
    demand_ranking,
    matrix_points,
    project_counts,
    project_customers,
    project_get,
    project_list,
    project_requirements,
    ranked,
    value_effort_points,
)
from needpool.analysis.services import analysis_update, feasibility_update, project_create, project_update
from needpool.core.audit import audit_for
from needpool.customers.services import customer_create
from needpool.requirements.choices import Channel
from needpool.requirements.models import Feedback, Requirement
from needpool.requirements.services import feedback_create
from tests.analysis.helpers import db_state, make_requirement


@pytest.fixture
def pm(users):
    return users["product_manager"]


@pytest.fixture
def outsider(make_user):
    """A salesperson of another team: sees neither the team's customers nor their requirements."""
    return make_user(Role.SALES, username="outsider", team=Team.objects.create(name="销售二部"))


def at(day: str) -> dt.datetime:
    return timezone.make_aware(dt.datetime.fromisoformat(f"{day}T10:00"))


# ------------------------------------------------------------------ ranking and charts


def test_ranked_orders_by_priority_then_score(users, pm, customer):
    made = {}
    for title, (u, i) in {"中": (3, 3), "高": (5, 5), "低": (1, 1), "只重要": (1, 5), "只紧急": (5, 2)}.items():
        made[title] = make_requirement(users["sales"], title, customer)
        analysis_update(actor=pm, requirement=made[title], urgency_score=u, importance_score=i)
    unanalysed = make_requirement(users["sales"], "未分析", customer)
    rows = list(ranked(user=pm))
    assert [r.title for r in rows] == ["高", "中", "只重要", "只紧急", "低", "未分析"]
    assert [r.priority for r in rows] == ["P0", "P0", "P1", "P2", "P3", ""]
    assert rows[0].analysis.computed_score == 100
    assert rows[-1] == unanalysed


def test_ranked_respects_visibility_and_filters(users, pm, customer, outsider):
    mine = make_requirement(users["sales"], "本组需求", customer)
    theirs = make_requirement(outsider, "外组需求", customer_create(actor=outsider, name="外组客户"))
    analysis_update(actor=pm, requirement=theirs, urgency_score=5, importance_score=5)
    assert list(ranked(user=users["sales"])) == [mine]
    assert list(ranked(user=outsider)) == [theirs]
    assert list(ranked(user=pm, filters={"customer": customer.pk})) == [mine]


def test_ranked_query_count_does_not_grow_with_rows(users, pm, customer, django_assert_num_queries):
    def add(n, start):
        for k in range(start, start + n):
            requirement = make_requirement(users["sales"], f"需求{k}", customer)
            analysis_update(actor=pm, requirement=requirement, urgency_score=k % 5 + 1, importance_score=3)

    add(3, 0)
    with django_assert_num_queries(4) as ctx:  # the page's ids, its rows, tags, evidence
        rows = list(ranked(user=pm)[:25])
        assert {r.analysis.importance_score for r in rows} == {3}
        assert {r.status.key for r in rows} == {"new"}
    add(12, 3)
    with django_assert_num_queries(len(ctx.captured_queries)):
        rows = list(ranked(user=pm)[:25])
        assert len(rows) == 15
        assert all(r.analysis.computed_priority for r in rows)
        assert all(r.evidence[0].customer == customer for r in rows)


def test_chart_points(users, pm, customer):
    plotted = make_requirement(users["sales"], "有坐标", customer)
    make_requirement(users["sales"], "无坐标", customer)
    analysis_update(actor=pm, requirement=plotted, urgency_score=4, importance_score=2, value_score=5, cost_score=2)
    assert matrix_points(user=pm) == [
        {
            "id": plotted.pk,
            "code": plotted.code,
            "title": "有坐标",
            "priority": "P2",
            "urgency": 4,
            "importance": 2,
            "value": 5,
            "cost": 2,
            "effort": None,
        }
    ]
    assert value_effort_points(user=pm)[0]["effort"] == 2
    feasibility_update(actor=users["engineer"], requirement=plotted, effort_days="7.5")
    assert value_effort_points(user=pm)[0]["effort"] == 7.5
    assert matrix_points(user=users["viewer"])[0]["id"] == plotted.pk


def test_charts_leave_out_merged_requirements(users, pm, customer):
    survivor = make_requirement(users["sales"], "保留", customer)
    merged = make_requirement(users["sales"], "已合并", customer)
    for requirement in (survivor, merged):
        analysis_update(
            actor=pm, requirement=requirement, urgency_score=4, importance_score=2, value_score=5, cost_score=2
        )
    Requirement.objects.filter(pk=merged.pk).update(merged_into=survivor, merged_at=timezone.now())
    assert [p["id"] for p in matrix_points(user=pm)] == [survivor.pk]
    assert [p["id"] for p in value_effort_points(user=pm)] == [survivor.pk]


# ------------------------------------------------------------------ weighted demand


@pytest.fixture
def tiered(users):
    """Customers of each value tier (yearly purchase ≥ 5 M high, ≥ 1 M medium, else low)."""
    sales = users["sales"]
    made = {
        "high": customer_create(actor=sales, name="甲高价值", yearly_purchase=6_000_000),
        "medium": customer_create(actor=sales, name="乙中价值", yearly_purchase=2_000_000),
        "low": customer_create(actor=sales, name="丙低价值", yearly_purchase=100_000),
    }
    assert {tier: c.value_tier for tier, c in made.items()} == {"high": "high", "medium": "medium", "low": "low"}
    return made


def add_feedback(actor, requirement, customer, importance):
    item = feedback_create(
        actor=actor, raw_text="再次提到这个需求", channel=Channel.SALES, customer=customer, requirement=requirement
    )
    Feedback.objects.filter(pk=item.pk).update(importance=importance)
    return item


def test_demand_is_one_vote_per_customer_weighted_by_tier(users, pm, tiered):
    sales = users["sales"]
    wanted = make_requirement(sales, "实时监控", tiered["high"])  # its first feedback has importance 1
    add_feedback(sales, wanted, tiered["high"], 3)
    add_feedback(sales, wanted, tiered["high"], 0)
    add_feedback(sales, wanted, tiered["medium"], 2)
    add_feedback(sales, wanted, tiered["low"], 0)
    add_feedback(sales, wanted, tiered["low"], 1)
    add_feedback(sales, wanted, None, 3)  # nobody's vote

    score, voters = demand_of(user=pm, requirement=wanted)
    assert score.score == 3 * 3 + 2 * 2 + 1 * 1 == 14
    assert score.priority == "P1"
    assert score.parts == {"high": 1, "medium": 1, "low": 1}
    assert sorted((v["name"], v["tier"], v["importance"], v["items"], v["weight"]) for v in voters) == sorted(
        [
            ("甲高价值", "high", 3, 3, 9),
            ("乙中价值", "medium", 2, 1, 4),
            ("丙低价值", "low", 1, 2, 1),
        ]
    )

    lesser = make_requirement(sales, "导出 Excel", tiered["medium"])
    unvoted = make_requirement(sales, "无人要", None)
    Feedback.objects.filter(requirement=unvoted).update(importance=3)
    ranking = demand_ranking(user=pm)
    assert [(row["requirement"], row["demand"], row["customers"]) for row in ranking] == [
        (wanted, 14, 3),
        (lesser, 2, 1),
    ]
    assert demand_of(user=pm, requirement=unvoted)[0].score == 0
    assert demand_ranking(user=pm, limit=1) == ranking[:1]


def test_demand_counts_only_customers_the_user_sees(users, pm, tiered, outsider):
    wanted = make_requirement(users["sales"], "实时监控", tiered["high"])
    foreign = customer_create(actor=outsider, name="外组高价值", yearly_purchase=9_000_000)
    add_feedback(outsider, wanted, foreign, 3)
    assert demand_of(user=pm, requirement=wanted)[0].score == 3 + 9
    score, voters = demand_of(user=users["sales"], requirement=wanted)
    assert (score.score, [v["name"] for v in voters]) == (3, ["甲高价值"])
    for user in (pm, users["sales"]):
        row = next(r for r in demand_ranking(user=user) if r["requirement"] == wanted)
        assert row["demand"] == demand_of(user=user, requirement=wanted)[0].score


def test_demand_ties_go_to_more_customers_then_the_newer_requirement(users, pm, tiered):
    sales = users["sales"]
    older = make_requirement(sales, "较早", tiered["medium"])  # 2 × 1 from one customer
    newer = make_requirement(sales, "较新", tiered["medium"])
    two_voters = make_requirement(sales, "两家", tiered["low"])  # 1 × 1 + 1 × 1 from two customers
    add_feedback(sales, two_voters, tiered["high"], 0)
    add_feedback(sales, two_voters, customer_create(actor=sales, name="丁低价值", yearly_purchase=10_000), 1)
    ranking = [(row["requirement"], row["demand"], row["customers"]) for row in demand_ranking(user=pm)]
    assert ranking == [(two_voters, 2, 3), (newer, 2, 1), (older, 2, 1)]
    assert [row["requirement"] for row in demand_ranking(user=pm, limit=2)] == [two_voters, newer]
    assert demand_ranking(user=pm, limit=0) == []
    assert demand_ranking(user=pm, base=Requirement.objects.none()) == []
    assert demand_ranking(user=pm, base=Requirement.objects.filter(pk__in=[])) == []


def test_demand_ranking_query_count(users, pm, tiered, django_assert_max_num_queries):
    for k in range(8):
        make_requirement(users["sales"], f"需求{k}", tiered[("high", "medium", "low")[k % 3]])
    with django_assert_max_num_queries(2):
        rows = demand_ranking(user=pm)
        assert [r["requirement"].status.key for r in rows] == ["new"] * 8


# ------------------------------------------------------------------ analysis projects


@pytest.fixture
def pool(users):
    """Four customers over industries, regions, segments and order amounts; one requirement each, plus one
    without a customer."""
    sales = users["sales"]
    specs = {
        "华东制造": ("制造", "华东", "high_value", 9_000_000, "2024-03-01"),
        "华南制造": ("制造", "华南", "normal", 1_000_000, "2024-05-01"),
        "华东互联网": ("互联网", "华东", "potential", 5_000_000, "2024-03-15"),
        "华北零售": ("零售", "华北", "churn_risk", 3_000_000, "2024-07-01"),
    }
    made = {}
    for name, (industry, region, segment, amount, day) in specs.items():
        client = customer_create(
            actor=sales, name=name, industry=industry, region=region, segment=segment, total_order_amount=amount
        )
        made[name] = make_requirement(sales, f"{name}的需求", client, submitted_at=at(day))
    made["内部"] = make_requirement(sales, "内部的需求", None, submitted_at=at("2024-03-02"))
    return made


def new_project(actor, leader=None, scope=None, members=()):
    return project_create(
        actor=actor,
        name="提升新客户转化",
        goal="找出影响新客户转化的需求",
        leader=leader or actor,
        start_date=dt.date(2024, 3, 1),
        end_date=dt.date(2024, 6, 30),
        scope=scope,
        members=members,
    )


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        ({}, {"华东制造", "华南制造", "华东互联网", "华北零售", "内部"}),
        ({"industries": ["制造"]}, {"华东制造", "华南制造"}),
        ({"industries": "制造，零售"}, {"华东制造", "华南制造", "华北零售"}),
        ({"regions": ["华东"]}, {"华东制造", "华东互联网"}),
        ({"segments": ["high_value", "potential"]}, {"华东制造", "华东互联网"}),
        ({"top_n_by_order": 2}, {"华东制造", "华东互联网"}),
        ({"top_n_by_order": "3"}, {"华东制造", "华东互联网", "华北零售"}),
        ({"industries": ["制造"], "top_n_by_order": 1}, {"华东制造"}),
        ({"period_start": "2024-03-01", "period_end": "2024-03-31"}, {"华东制造", "华东互联网", "内部"}),
        ({"period_start": dt.date(2024, 5, 1)}, {"华南制造", "华北零售"}),
        ({"regions": ["华东"], "period_start": "2024-03-10"}, {"华东互联网"}),
        ({"industries": ["农业"]}, set()),
    ],
)
def test_scope_selects_the_right_requirements(pm, pool, scope, expected):
    project = new_project(pm, scope=scope)
    found = project_requirements(project, user=pm)
    assert {r.title.removesuffix("的需求") for r in found} == expected
    counts = project_counts(project, user=pm)
    assert counts["total"] == len(expected)
    assert sum(counts["by_status"].values()) == len(expected)


def test_project_customers_and_counts(pm, pool):
    analysis_update(actor=pm, requirement=pool["华东制造"], urgency_score=5, importance_score=5)
    project = new_project(pm, scope={"regions": ["华东"]})
    assert {c.name for c in project_customers(project, user=pm)} == {"华东制造", "华东互联网"}
    assert project_counts(project, user=pm) == {"total": 2, "by_priority": {"P0": 1, "": 1}, "by_status": {"new": 2}}


def test_scope_respects_what_the_user_sees(users, pm, pool, outsider):
    project = new_project(pm, leader=outsider, scope={"top_n_by_order": 2})
    theirs = make_requirement(
        outsider, "外组需求", customer_create(actor=outsider, name="外组大客户", total_order_amount=99_000_000)
    )
    assert {r.pk for r in project_requirements(project, user=pm)} == {theirs.pk, pool["华东制造"].pk}
    assert list(project_requirements(project, user=outsider)) == [theirs]


def test_project_create_records_scope_and_members(users, pm):
    project = new_project(
        pm,
        scope={"industries": [" 制造 ", "制造", ""], "top_n_by_order": "20", "period_end": dt.date(2024, 6, 30)},
        members=[(users["engineer"], "技术评估"), (users["sales"], " 客户访谈 "), (users["engineer"], "可行性评估")],
    )
    assert project.scope == {"industries": ["制造"], "top_n_by_order": 20, "period_end": "2024-06-30"}
    assert sorted((m.user.username, m.duty) for m in project.members.all()) == [
        ("engineer", "可行性评估"),
        ("sales", "客户访谈"),
    ]
    entry = audit_for(project)[0]
    assert (entry.action, entry.actor, entry.changes["scope"]) == ("create", pm, project.scope)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"scope": {"colour": "红"}}, "scope"),
        ({"scope": {"top_n_by_order": 0}}, "scope"),
        ({"scope": {"top_n_by_order": "前二十"}}, "scope"),
        ({"scope": {"period_start": "2024-13-01"}}, "scope"),
        ({"scope": {"period_start": "2024-06-01", "period_end": "2024-05-01"}}, "scope"),
        ({"end_date": dt.date(2024, 2, 1)}, "end_date"),
        ({"name": "  "}, "name"),
        ({"goal": ""}, "goal"),
        ({"members": [("dummy", "职" * 201)]}, "members"),
    ],
)
def test_bad_project_input_is_refused_and_nothing_is_written(users, pm, data, field):
    existing = new_project(pm)
    before = db_state()
    values = {
        "name": "新项目",
        "goal": "目标",
        "leader": pm,
        "start_date": dt.date(2024, 3, 1),
        "end_date": dt.date(2024, 6, 30),
        **data,
    }
    if field == "members":
        values["members"] = data["members"] = [(users["engineer"], "职" * 201)]
    with pytest.raises(ValidationError) as info:
        project_create(actor=pm, **values)
    assert field in info.value.message_dict
    assert db_state() == before
    with pytest.raises(ValidationError) as info:
        project_update(actor=pm, project=existing, **data)
    assert field in info.value.message_dict
    assert db_state() == before


def test_scope_change_is_recorded(users, pm, pool):
    project = new_project(pm, scope={"industries": ["制造"]}, members=[(users["engineer"], "技术评估")])
    assert {r.title for r in project_requirements(project, user=pm)} == {"华东制造的需求", "华南制造的需求"}
    project = project_update(
        actor=pm, project=project, scope={"regions": ["华北"]}, members=[(users["engineer"], "技术评估")]
    )
    entry = audit_for(project)[0]
    assert entry.action == "update" and entry.actor == pm
    assert entry.changes == {"scope": [{"industries": ["制造"]}, {"regions": ["华北"]}]}
    assert {r.title for r in project_requirements(project, user=pm)} == {"华北零售的需求"}

    project_update(actor=pm, project=project, members=[(users["sales"], "客户访谈")], name=" 新客户转化 ")
    changes = audit_for(project)[0].changes
    assert changes["members"] == [f"{users['engineer']}:技术评估", f"{users['sales']}:客户访谈"]
    assert changes["name"] == ["提升新客户转化", "新客户转化"]
    assert AnalysisProject.objects.get(pk=project.pk).name == "新客户转化"


def test_project_visibility(users, pm, make_user):
    member = make_user(Role.SALES, username="member-sales", team=users["sales"].team)
    leader = make_user(Role.SERVICE, username="leader-service")
    project = new_project(pm, leader=leader, members=[(member, "客户访谈")])
    for user in (pm, users["admin"], users["manager"], users["engineer"], users["viewer"], leader, member):
        assert project_get(user=user, pk=project.pk) == project
        assert list(project_list(user=user)) == [project]
    for user in (users["sales"], users["service"]):
        with pytest.raises(Http404):
            project_get(user=user, pk=project.pk)
        assert list(project_list(user=user)) == []
    with pytest.raises(Http404):
        project_get(user=pm, pk="not-a-number")
    with pytest.raises(Http404):
        project_get(user=pm, pk=project.pk + 1000)


def test_project_list_query_count(users, pm, django_assert_num_queries):
    new_project(pm, members=[(users["engineer"], "技术评估")])
    with django_assert_num_queries(2) as ctx:
        rows = list(project_list(user=pm))
        assert [[m.user.username for m in p.members.all()] for p in rows] == [["engineer"]]
        assert rows[0].leader == pm
    for _k in range(5):
        new_project(pm, members=[(users["engineer"], "技术评估"), (users["sales"], "访谈")])
    with django_assert_num_queries(len(ctx.captured_queries)):
        rows = list(project_list(user=pm))
        assert len(rows) == 6
        assert all(p.leader.username == "product_manager" for p in rows)
        assert sum(len(p.members.all()) for p in rows) == 11


def test_the_leader_may_edit_their_project_others_may_not(users, pm, make_user):
    leader = make_user(Role.SALES, username="leader-sales", team=users["sales"].team)
    project = new_project(pm, leader=leader)
    project_update(actor=leader, project=project, scope={"regions": ["华东"]})
    assert AnalysisProject.objects.get(pk=project.pk).scope == {"regions": ["华东"]}
    before = db_state()
    for actor in (users["sales"], users["engineer"], users["viewer"]):
        with pytest.raises(PermissionDenied):
            project_update(actor=actor, project=project, scope={})
    assert db_state() == before


def test_analysis_of_an_unanalysed_requirement_is_empty(requirement):
    empty = analysis_of(requirement)
    assert empty.pk is None
    assert (empty.effective_priority, empty.compliance_status) == ("", "pending")
