"""Write use-cases of the analysis desk: scores, override, settings and recompute, root cause,
feasibility, compliance, Kano and who may do what."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from needpool.accounts.roles import Role
from needpool.analysis import services
from needpool.analysis.choices import FishboneCategory
from needpool.analysis.models import KanoResponse, KanoSurvey, RequirementAnalysis
from needpool.analysis.selectors import analysis_of, fishbone_of, kano_of, kano_survey_by_token, whys_of
from needpool.analysis.services import (
    analysis_settings,
    analysis_settings_update,
    analysis_update,
    compliance_sign_off,
    feasibility_update,
    fishbone_set,
    kano_answer,
    kano_survey_create,
    priorities_recompute,
    priority_override,
    project_create,
    whys_set,
)
from needpool.analysis.tasks import recompute_priorities
from needpool.core.audit import audit_for
from needpool.core.models import AuditEntry, BackgroundJob
from needpool.customers.services import customer_create
from needpool.requirements.choices import Channel
from needpool.requirements.models import Workflow
from needpool.requirements.services import requirement_transition, requirement_update, workflow_activate
from tests.analysis.helpers import ANALYSTS, db_state, make_requirement, priority_of

ROLES = [r.value for r in Role]

FIVE_WHYS = [
    ("为什么客户说交付慢？", "因为订单经常比承诺日期晚一周发货。"),
    ("为什么发货晚？", "因为关键原材料经常不能按时到货。"),
    ("为什么原材料不能按时到货？", "因为供应商经常延期交货。"),
    ("为什么供应商经常延期？", "因为没有人跟踪和考核供应商的交付表现。"),
    ("为什么没有人跟踪考核？", "因为公司没有针对交付绩效的供应商管理机制。"),
]
ROOT_CAUSE = "缺少针对交付绩效的供应商管理机制"
FISHBONE = [
    ("people", "采购员不跟催供应商"),
    ("machine", "排产系统看不到物料到货时间"),
    ("material", "关键原材料只有单一供应商"),
    ("method", "没有供应商交付绩效考核办法"),
    ("environment", "旺季物流运力紧张"),
    ("method", "下单到发货没有时限标准"),
]


@pytest.fixture
def pm(users):
    return users["product_manager"]


@pytest.fixture
def reviewed_flow(users):
    """The reviewed flow (待分析 → 评审中 → …) instead of the standard one, which has no review."""
    return workflow_activate(actor=users["admin"], workflow=Workflow.objects.get(key="reviewed"))


def last_audit(obj):
    return audit_for(obj)[0]


# ------------------------------------------------------------------ scores and the computed priority


def test_analysis_update_scores_with_the_active_model_and_syncs_priority(pm, requirement):
    analysis = analysis_update(
        actor=pm,
        requirement=requirement,
        urgency_score=5,
        importance_score="4",
        pain_points="  手工计算折扣，容易出错  ",
        value_statement="节省 50% 人工操作",
    )
    assert analysis.computed_model == "matrix"
    assert analysis.computed_priority == "P0"
    assert analysis.computed_score == round((5 * 4 - 1) / 24 * 100, 2)
    assert analysis.computed_error == ""
    assert analysis.computed_version == analysis_settings().version
    assert analysis.computed_parts["urgent"] is True
    assert analysis.pain_points == "手工计算折扣，容易出错"
    assert priority_of(requirement) == "P0"
    entry = last_audit(requirement)
    assert entry.actor == pm
    assert entry.changes["analysis.urgency_score"] == [None, 5]
    assert entry.changes["analysis.importance_score"] == [None, 4]

    # A later change keeps the other inputs: urgent 2 with importance 4 is "important, not urgent".
    analysis = analysis_update(actor=pm, requirement=requirement, urgency_score=2)
    assert (analysis.importance_score, analysis.computed_priority) == (4, "P1")
    assert priority_of(requirement) == "P1"
    assert RequirementAnalysis.objects.count() == 1


def test_missing_inputs_give_no_priority_and_say_why(pm, requirement):
    analysis = analysis_update(actor=pm, requirement=requirement, urgency_score=3)
    assert analysis.computed_priority == ""
    assert analysis.computed_score is None
    assert analysis.computed_error.startswith("importance")


def test_manual_priority_survives_until_the_analysis_has_one(users, pm, customer):
    requirement = make_requirement(users["sales"], "带手工优先级的需求", customer, priority="P2")
    analysis_update(actor=pm, requirement=requirement, pain_points="只记录痛点")
    assert priority_of(requirement) == "P2"
    analysis_update(actor=pm, requirement=requirement, urgency_score=5, importance_score=5)
    assert priority_of(requirement) == "P0"
    # Once the priority came from the analysis, losing the inputs clears it (no stale P0).
    analysis_update(actor=pm, requirement=requirement, urgency_score="")
    assert priority_of(requirement) == ""


@pytest.mark.parametrize(
    ("model", "inputs", "score", "priority"),
    [
        ("matrix_3d", {"importance_score": 5, "urgency_score": 5, "resource_cost": 1}, 100, "P0"),
        ("matrix_3d", {"importance_score": 3, "urgency_score": 3, "resource_cost": 3}, 50, "P1"),
        ("value_cost", {"value_score": 4, "cost_score": 2}, 2, "P0"),
        ("value_cost", {"value_score": 1, "cost_score": 5}, 0.2, "P3"),
        ("rice", {"reach": 1000, "impact": "2", "confidence": 80, "effort": "4"}, 400, "P0"),
        ("rice", {"reach": 100, "impact": 1, "confidence": 50, "effort": 2}, 25, "P2"),
        ("moscow", {"moscow": "should"}, 3, "P1"),
        (
            "weighted",
            {"criteria_scores": {"customer_value": 10, "strategic_fit": 10, "revenue": 10, "risk": 10}},
            100,
            "P0",
        ),
        (
            "weighted",
            {"criteria_scores": {"customer_value": 10, "strategic_fit": 5, "revenue": 0, "risk": 10}},
            62.5,
            "P1",
        ),
    ],
)
def test_every_model_through_the_service(pm, requirement, model, inputs, score, priority):
    analysis_settings_update(actor=pm, active_model=model)
    analysis = analysis_update(actor=pm, requirement=requirement, **inputs)
    assert (analysis.computed_model, analysis.computed_score, analysis.computed_priority) == (model, score, priority)
    assert priority_of(requirement) == priority


def test_weighted_with_a_missing_criterion_names_it(pm, requirement):
    analysis_settings_update(actor=pm, active_model="weighted")
    analysis = analysis_update(actor=pm, requirement=requirement, criteria_scores={"customer_value": 8})
    assert analysis.computed_priority == ""
    assert analysis.computed_error.startswith("strategic_fit")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("urgency_score", 0),
        ("urgency_score", 6),
        ("urgency_score", "很急"),
        ("urgency_score", 2.5),
        ("urgency_score", True),
        ("importance_score", -1),
        ("resource_cost", 9),
        ("value_score", 0),
        ("cost_score", "6"),
        ("reach", -5),
        ("reach", 10**10),
        ("impact", "0.3"),
        ("impact", 5),
        ("confidence", 101),
        ("confidence", -1),
        ("effort", 0),
        ("effort", "0.001"),
        ("effort", "-1"),
        ("effort", "Infinity"),
        ("effort", 10**7),
        ("moscow", "maybe"),
        ("criteria_scores", {"customer_value": 11}),
        ("criteria_scores", {"customer_value": "高"}),
        ("criteria_scores", [1, 2]),
        ("colour", "红"),
    ],
)
def test_bad_scores_are_refused_per_field_and_nothing_is_written(pm, requirement, field, value):
    analysis_update(actor=pm, requirement=requirement, urgency_score=1, importance_score=1)
    before = db_state()
    valid = {"resource_cost": 5} if field != "resource_cost" else {"value_score": 5}
    with pytest.raises(ValidationError) as info:
        # A valid change next to the bad one is not applied either.
        analysis_update(actor=pm, requirement=requirement, **valid, **{field: value})
    assert set(info.value.message_dict) == {field}
    assert info.value.message_dict[field][0]
    assert db_state() == before


def test_several_bad_scores_are_reported_together(pm, requirement):
    before = db_state()
    with pytest.raises(ValidationError) as info:
        analysis_update(actor=pm, requirement=requirement, urgency_score=7, confidence=300, impact=9)
    assert set(info.value.message_dict) == {"urgency_score", "confidence", "impact"}
    assert info.value.message_dict["urgency_score"] == ["评分必须是 1 到 5 的整数。"]
    assert db_state() == before


# ------------------------------------------------------------------ manual override


def test_override_needs_a_reason_and_keeps_the_computed_priority(users, pm, requirement):
    analysis_update(actor=pm, requirement=requirement, urgency_score=1, importance_score=1)
    before = db_state()
    for priority, reason, field in (("P0", "   ", "reason"), ("P0", "", "reason"), ("P7", "理由", "priority")):
        with pytest.raises(ValidationError) as info:
            priority_override(actor=pm, requirement=requirement, priority=priority, reason=reason)
        assert set(info.value.message_dict) == {field}
        assert db_state() == before

    analysis = priority_override(actor=pm, requirement=requirement, priority="P0", reason="  战略客户，老板拍板  ")
    assert (analysis.override_priority, analysis.computed_priority, analysis.effective_priority) == ("P0", "P3", "P0")
    assert analysis.override_reason == "战略客户，老板拍板"
    assert analysis.override_by == pm and analysis.override_at is not None
    assert priority_of(requirement) == "P0"
    assert last_audit(requirement).changes["priority_override"] == ["", "P0"]

    # New inputs and a new model recompute the computed priority; the override still wins.
    analysis = analysis_update(actor=pm, requirement=requirement, urgency_score=4)
    assert (analysis.computed_priority, analysis.effective_priority) == ("P2", "P0")
    analysis_settings_update(actor=pm, matrix_cutoff=5)
    analysis = analysis_of(requirement)
    assert (analysis.computed_priority, analysis.override_priority) == ("P3", "P0")
    assert priority_of(requirement) == "P0"

    # The requirement form may not change an analysed priority behind the analysis' back.
    with pytest.raises(ValidationError) as info:
        requirement_update(actor=pm, requirement=requirement, priority="P2")
    assert "priority" in info.value.message_dict

    analysis = priority_override(actor=pm, requirement=requirement, priority="", reason="")
    assert (analysis.override_priority, analysis.override_reason, analysis.override_by) == ("", "", None)
    assert analysis.effective_priority == "P3"
    assert priority_of(requirement) == "P3"


# ------------------------------------------------------------------ who may write what

WRITERS = {
    "analysis_update": ANALYSTS,
    "priority_override": ANALYSTS,
    "analysis_settings_update": ANALYSTS,
    "whys_set": ANALYSTS,
    "fishbone_set": ANALYSTS,
    "kano_survey_create": ANALYSTS,
    "project_create": ANALYSTS,
    "feasibility_update": ANALYSTS | {"engineer"},
    "compliance_sign_off": frozenset({"compliance"}),
    "kano_answer": ANALYSTS | {"sales", "service"},
}


def _write(action, actor, requirement, customer, survey):
    if action == "analysis_update":
        return analysis_update(actor=actor, requirement=requirement, urgency_score=4, importance_score=4)
    if action == "priority_override":
        return priority_override(actor=actor, requirement=requirement, priority="P0", reason="重点客户")
    if action == "analysis_settings_update":
        return analysis_settings_update(actor=actor, matrix_cutoff=4)
    if action == "whys_set":
        return whys_set(actor=actor, requirement=requirement, steps=FIVE_WHYS, root_cause=ROOT_CAUSE)
    if action == "fishbone_set":
        return fishbone_set(actor=actor, requirement=requirement, causes=FISHBONE)
    if action == "kano_survey_create":
        return kano_survey_create(
            actor=actor, requirement=requirement, functional_question="有的话？", dysfunctional_question="没有的话？"
        )
    if action == "project_create":
        return project_create(
            actor=actor,
            name="提升新客户转化",
            goal="找出影响转化的需求",
            leader=actor,
            start_date=dt.date(2024, 3, 1),
            end_date=dt.date(2024, 4, 30),
        )
    if action == "feasibility_update":
        return feasibility_update(actor=actor, requirement=requirement, tech_difficulty=3, effort_days="10")
    if action == "compliance_sign_off":
        return compliance_sign_off(actor=actor, requirement=requirement, status="approved")
    assert action == "kano_answer"
    return kano_answer(actor=actor, survey=survey, customer=customer, functional="like", dysfunctional="dislike")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", sorted(WRITERS))
def test_who_may_write(users, pm, requirement, customer, role, action):
    survey = kano_survey_create(
        actor=pm, requirement=requirement, functional_question="有的话？", dysfunctional_question="没有的话？"
    )
    analysis_settings()
    before = db_state()
    if role in WRITERS[action]:
        assert _write(action, users[role], requirement, customer, survey) is not None
        assert db_state() != before
    else:
        with pytest.raises(PermissionDenied):
            _write(action, users[role], requirement, customer, survey)
        assert db_state() == before


def test_compliance_sign_off_needs_the_compliance_role_itself(users, make_user, requirement):
    boss = make_user(Role.COMPLIANCE, username="compliance-boss", is_superuser=True)
    superuser_pm = make_user(Role.PRODUCT_MANAGER, username="super-pm", is_superuser=True)
    assert users["admin"].is_superuser
    for actor in (users["admin"], superuser_pm):
        with pytest.raises(PermissionDenied):
            compliance_sign_off(actor=actor, requirement=requirement, status="approved")
    assert compliance_sign_off(actor=boss, requirement=requirement, status="approved").compliance_by == boss


def test_inactive_and_anonymous_actors_may_not_analyse(pm, requirement):
    pm.is_active = False
    pm.save()
    before = db_state()
    for actor in (pm, None):
        with pytest.raises(PermissionDenied):
            analysis_update(actor=actor, requirement=requirement, urgency_score=3)
    assert db_state() == before


# ------------------------------------------------------------------ settings, recording and recompute


@pytest.fixture
def three_analysed(users, pm, customer):
    """(importance, urgency, cost): under the 2×2 matrix P0, P1, P3."""
    made = []
    for title, (i, u, c) in (("全面领先", (5, 5, 1)), ("只重要", (5, 1, 5)), ("都不", (1, 1, 5))):
        requirement = make_requirement(users["sales"], title, customer)
        analysis_update(actor=pm, requirement=requirement, importance_score=i, urgency_score=u, resource_cost=c)
        made.append(requirement)
    assert [priority_of(r) for r in made] == ["P0", "P1", "P3"]
    return made


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"weights_3d": {"importance": 0, "urgency": 0, "cost": 0}}, "weights_3d"),
        ({"weights_3d": {"importance": "0", "urgency": "0.0"}}, "weights_3d"),
        ({"weights_3d": {"importance": -1, "urgency": 2, "cost": 1}}, "weights_3d"),
        ({"weights_3d": {"importance": "inf", "urgency": 1, "cost": 1}}, "weights_3d"),
        ({"weights_3d": {"value": 1}}, "weights_3d"),
        ({"weights_3d": ["importance"]}, "weights_3d"),
        ({"criteria": [{"key": "a", "weight": 0}, {"key": "b", "weight": 0}]}, "criteria"),
        ({"criteria": [{"key": "a", "weight": -5}, {"key": "b", "weight": 10}]}, "criteria"),
        ({"criteria": [{"key": "a", "weight": "nan"}]}, "criteria"),
        ({"criteria": []}, "criteria"),
        ({"criteria": [{"key": "a", "weight": 1}, {"key": "a", "weight": 2}]}, "criteria"),
        ({"criteria": [{"key": "a", "weight": "重"}]}, "criteria"),
        ({"criteria": [{"label": "无键", "weight": 1}]}, "criteria"),
        ({"matrix_cutoff": 0}, "matrix_cutoff"),
        ({"matrix_cutoff": 6}, "matrix_cutoff"),
        ({"matrix_cutoff": "高"}, "matrix_cutoff"),
        ({"active_model": "magic"}, "active_model"),
        ({"thresholds": {"weighted": [25, 50, 75]}}, "thresholds"),
        ({"thresholds": {"matrix": [3, 2, 1]}}, "thresholds"),
        ({"thresholds": {"rice": [100, 10]}}, "thresholds"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_settings_are_refused_and_nothing_is_written(pm, three_analysed, data, field):
    before = db_state()
    with pytest.raises(ValidationError) as info:
        analysis_settings_update(actor=pm, **{"active_model": "matrix_3d", **data})
    assert field in info.value.message_dict
    assert db_state() == before
    assert analysis_settings().active_model == "matrix"


def test_zero_weights_get_a_clear_message(pm):
    with pytest.raises(ValidationError) as info:
        analysis_settings_update(actor=pm, criteria=[{"key": "a", "weight": 0}, {"key": "b", "weight": 0}])
    assert info.value.message_dict["criteria"] == ["权重不能为负，且总和必须大于 0。"]


def test_settings_change_is_recorded_and_recomputes_inline(pm, three_analysed):
    important_only = three_analysed[1]
    config, job = analysis_settings_update(actor=pm, active_model="matrix_3d")
    assert job is None
    assert (config.active_model, config.version) == ("matrix_3d", 2)
    entry = last_audit(config)
    assert (entry.actor, entry.action, entry.changes) == (pm, "update", {"active_model": ["matrix", "matrix_3d"]})
    assert [analysis_of(r).computed_score for r in three_analysed] == [100, 40, 0]
    assert [priority_of(r) for r in three_analysed] == ["P0", "P2", "P3"]
    assert {analysis_of(r).computed_version for r in three_analysed} == {2}

    # Only importance counts now: "important only" rises to the top.
    config, job = analysis_settings_update(actor=pm, weights_3d={"importance": 1, "urgency": 0, "cost": 0})
    assert job is None and config.version == 3
    assert last_audit(config).changes["weights_3d"][1] == {"importance": 1.0, "urgency": 0.0, "cost": 0.0}
    assert [analysis_of(r).computed_score for r in three_analysed] == [100, 100, 0]
    assert [priority_of(r) for r in three_analysed] == ["P0", "P0", "P3"]

    # Thresholds are per model.
    analysis_settings_update(actor=pm, weights_3d={}, thresholds={"matrix_3d": [30, 20, 10]})
    assert [priority_of(r) for r in three_analysed] == ["P0", "P0", "P3"]
    assert analysis_of(important_only).computed_score == 40

    # Saving the same values changes nothing and records nothing.
    audits = AuditEntry.objects.count()
    config, job = analysis_settings_update(actor=pm, active_model="matrix_3d", weights_3d={})
    assert (job, config.version, AuditEntry.objects.count()) == (None, 4, audits)


def test_turning_the_whys_rule_off_is_recorded_without_a_recompute(pm, three_analysed):
    config, job = analysis_settings_update(actor=pm, require_whys_for_review=False)
    assert job is None and config.require_whys_for_review is False
    assert last_audit(config).changes == {"require_whys_for_review": [True, False]}
    assert {analysis_of(r).computed_version for r in three_analysed} == {1}


def test_large_pool_recomputes_in_a_background_job(pm, three_analysed, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(services.settings, "INLINE_RECOMPUTE_LIMIT", 1)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        config, job = analysis_settings_update(actor=pm, active_model="matrix_3d")
    assert job is not None
    assert (job.kind, job.status, job.total, job.done) == ("priority_recompute", "queued", 3, 0)
    assert job.params == {"version": config.version} and job.created_by == pm
    assert "active_model" in last_audit(config).changes
    # Nothing is recomputed until the transaction commits and the job runs.
    assert [priority_of(r) for r in three_analysed] == ["P0", "P1", "P3"]
    assert len(callbacks) == 1

    callbacks[0]()
    job.refresh_from_db()
    assert (job.status, job.done, job.total) == ("done", 3, 3)
    assert job.finished_at is not None and job.percent == 100
    assert [priority_of(r) for r in three_analysed] == ["P0", "P2", "P3"]
    assert {analysis_of(r).computed_version for r in three_analysed} == {config.version}


def test_background_job_runs_on_commit(pm, three_analysed, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(services.settings, "INLINE_RECOMPUTE_LIMIT", 1)
    with django_capture_on_commit_callbacks(execute=True):
        config, job = analysis_settings_update(actor=pm, weights_3d={"importance": 1, "urgency": 0, "cost": 0})
    job.refresh_from_db()
    assert (job.status, job.done, job.total) == ("done", 3, 3)
    assert [priority_of(r) for r in three_analysed] == ["P0", "P1", "P3"]  # still the 2×2 matrix
    assert {analysis_of(r).computed_version for r in three_analysed} == {config.version}


def test_recompute_in_batches_is_safe_to_rerun(pm, three_analysed, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(services.settings, "INLINE_RECOMPUTE_LIMIT", 1)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        config, job = analysis_settings_update(actor=pm, active_model="matrix_3d")
    assert priorities_recompute(version=config.version, job=job, batch_size=2) == 3
    job.refresh_from_db()
    assert (job.done, job.status) == (3, "running")
    assert [priority_of(r) for r in three_analysed] == ["P0", "P2", "P3"]
    assert priorities_recompute(version=config.version) == 0
    assert priorities_recompute(version=config.version, job=job) == 0
    callbacks[0]()  # the queued job finds nothing left and finishes
    job.refresh_from_db()
    assert (job.status, job.done) == ("done", 3)
    assert recompute_priorities.call_local(job.pk) == 0  # a finished job is not run again
    assert [priority_of(r) for r in three_analysed] == ["P0", "P2", "P3"]
    assert BackgroundJob.objects.count() == 1


def test_recompute_keeps_an_untouched_manual_priority(users, pm, customer, three_analysed):
    manual = make_requirement(users["sales"], "只有痛点", customer, priority="P1")
    analysis_update(actor=pm, requirement=manual, pain_points="痛点")
    analysis_settings_update(actor=pm, active_model="rice")
    assert priority_of(manual) == "P1"
    # Analysed requirements without RICE inputs lose their matrix priority instead of keeping a stale one.
    assert [priority_of(r) for r in three_analysed] == ["", "", ""]
    assert analysis_of(three_analysed[0]).computed_error.startswith("reach")


# ------------------------------------------------------------------ 5 Whys before review


@pytest.mark.parametrize(("priority", "gated"), [("P0", True), ("P1", True), ("P2", False), ("P3", False)])
def test_p0_p1_need_five_whys_before_review(users, pm, customer, reviewed_flow, priority, gated):
    requirement = make_requirement(users["sales"], "需要评审", customer)
    assert requirement.status.key == "to_analyse"
    priority_override(actor=pm, requirement=requirement, priority=priority, reason="评审前定级")
    if gated:
        before = db_state()
        with pytest.raises(ValidationError) as info:
            requirement_transition(actor=pm, requirement=requirement, to="in_review")
        assert f"{priority} 需求进入评审前必须完成 5 Whys" in info.value.message_dict["to"][0]
        assert db_state() == before
        whys_set(actor=pm, requirement=requirement, steps=FIVE_WHYS, root_cause=ROOT_CAUSE)
    moved = requirement_transition(actor=pm, requirement=requirement, to="in_review")
    assert moved.status.key == "in_review"


def test_whys_need_both_the_chain_and_the_root_cause(users, pm, customer, reviewed_flow):
    requirement = make_requirement(users["sales"], "需要评审", customer)
    analysis_update(actor=pm, requirement=requirement, urgency_score=5, importance_score=5)
    assert priority_of(requirement) == "P0"
    with pytest.raises(ValidationError) as info:
        whys_set(actor=pm, requirement=requirement, steps=FIVE_WHYS, root_cause=" ")
    assert set(info.value.message_dict) == {"root_cause"}
    whys_set(actor=pm, requirement=requirement, steps=[], root_cause="只有结论，没有追问")
    with pytest.raises(ValidationError):
        requirement_transition(actor=pm, requirement=requirement, to="in_review")
    whys_set(actor=pm, requirement=requirement, steps=FIVE_WHYS[:2], root_cause=ROOT_CAUSE)
    assert requirement_transition(actor=pm, requirement=requirement, to="in_review").status.key == "in_review"
    # Coming back from deferred is an entry into review as well.
    requirement_transition(actor=pm, requirement=requirement, to="deferred")
    whys_set(actor=pm, requirement=requirement, steps=[], root_cause="")
    with pytest.raises(ValidationError):
        requirement_transition(actor=pm, requirement=requirement, to="in_review")


def test_whys_rule_can_be_switched_off(users, pm, customer, reviewed_flow):
    requirement = make_requirement(users["sales"], "需要评审", customer)
    priority_override(actor=pm, requirement=requirement, priority="P0", reason="紧急")
    analysis_settings_update(actor=pm, require_whys_for_review=False)
    assert requirement_transition(actor=pm, requirement=requirement, to="in_review").status.key == "in_review"


def test_standard_flow_has_no_review_gate(users, pm, requirement):
    priority_override(actor=pm, requirement=requirement, priority="P0", reason="紧急")
    assert requirement_transition(actor=pm, requirement=requirement, to="in_progress").status.key == "in_progress"


# ------------------------------------------------------------------ PRODUCT.md §4 example 2


def test_example_2_delivery_is_slow(users, pm, customer, reviewed_flow):
    complaint = make_requirement(
        users["service"],
        "交付太慢",
        customer,
        channel=Channel.AFTER_SALES,
        feedback_text="你们交付太慢了，每次都要催好几次。",
        description="客户投诉交付周期长",
    )
    priority_override(actor=pm, requirement=complaint, priority="P1", reason="投诉影响续约")
    made = whys_set(actor=pm, requirement=complaint, steps=FIVE_WHYS, root_cause=f"  {ROOT_CAUSE}  ")
    assert len(made) == 5
    fishbone_set(actor=pm, requirement=complaint, causes=[*FISHBONE, ("people", "   ")])

    whys = whys_of(complaint)
    assert [(w.position, w.question, w.answer) for w in whys] == [
        (n, q, a) for n, (q, a) in enumerate(FIVE_WHYS, start=1)
    ]
    assert "供应商管理机制" in whys[-1].answer
    assert analysis_of(complaint).root_cause == ROOT_CAUSE
    bones = fishbone_of(complaint)
    assert set(bones) == {"people", "machine", "material", "method", "environment"}
    assert {str(FishboneCategory(k).label) for k in bones} == {"人", "机", "料", "法", "环"}
    assert [c.text for c in bones["method"]] == ["没有供应商交付绩效考核办法", "下单到发货没有时限标准"]
    assert [c.text for c in bones["people"]] == ["采购员不跟催供应商"]
    changes = {k for entry in audit_for(complaint) for k in entry.changes}
    assert {"analysis.whys", "analysis.root_cause", "analysis.fishbone"} <= changes
    # With its root cause found, the P1 complaint may enter review.
    assert requirement_transition(actor=pm, requirement=complaint, to="in_review").status.key == "in_review"

    # Editing replaces the chain and the causes.
    whys_set(actor=pm, requirement=complaint, steps=FIVE_WHYS[:3], root_cause=ROOT_CAUSE)
    assert [w.position for w in whys_of(complaint)] == [1, 2, 3]
    fishbone_set(actor=pm, requirement=complaint, causes=[("measurement", "没有准时交付率指标")])
    assert {k: [c.text for c in v] for k, v in fishbone_of(complaint).items()} == {
        "measurement": ["没有准时交付率指标"]
    }


@pytest.mark.parametrize(
    ("steps", "root_cause", "field"),
    [
        ([("为什么交付慢？", "")], ROOT_CAUSE, "steps"),
        ([("", "因为供应商延期")], ROOT_CAUSE, "steps"),
        ([("为什么？", "因为。")] * 11, ROOT_CAUSE, "steps"),
        ([("为" * 301, "因为。")], ROOT_CAUSE, "steps"),
        (FIVE_WHYS, "", "root_cause"),
        (FIVE_WHYS, "根" * 2001, "root_cause"),
    ],
)
def test_bad_whys_are_refused_and_nothing_is_written(pm, requirement, steps, root_cause, field):
    whys_set(actor=pm, requirement=requirement, steps=FIVE_WHYS[:1], root_cause="旧结论")
    before = db_state()
    with pytest.raises(ValidationError) as info:
        whys_set(actor=pm, requirement=requirement, steps=steps, root_cause=root_cause)
    assert set(info.value.message_dict) == {field}
    assert db_state() == before


@pytest.mark.parametrize(
    "causes",
    [[("money", "预算不足")], [("people", "人" * 201)], [("method", f"原因{i}") for i in range(61)]],
)
def test_bad_fishbone_is_refused_and_nothing_is_written(pm, requirement, causes):
    fishbone_set(actor=pm, requirement=requirement, causes=FISHBONE)
    before = db_state()
    with pytest.raises(ValidationError) as info:
        fishbone_set(actor=pm, requirement=requirement, causes=causes)
    assert set(info.value.message_dict) == {"causes"}
    assert db_state() == before


# ------------------------------------------------------------------ feasibility and compliance


def test_engineer_estimates_feasibility(users, requirement):
    engineer = users["engineer"]
    analysis = feasibility_update(
        actor=engineer,
        requirement=requirement,
        tech_difficulty="3",
        effort_days="12.5",
        cost_estimate=50000,
        resources="  两名后端、一名测试  ",
    )
    analysis.refresh_from_db()
    assert analysis.tech_difficulty == 3
    assert str(analysis.effort_days) == "12.5"
    assert analysis.cost_estimate == 50000
    assert analysis.resources == "两名后端、一名测试"
    assert last_audit(requirement).actor == engineer
    assert last_audit(requirement).changes["analysis.tech_difficulty"] == [None, 3]
    assert priority_of(requirement) == ""  # an estimate does not touch the priority
    analysis = feasibility_update(actor=engineer, requirement=requirement, effort_days="", resources=None)
    assert (analysis.effort_days, analysis.resources, analysis.tech_difficulty) == (None, "", 3)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("tech_difficulty", 0),
        ("tech_difficulty", 6),
        ("tech_difficulty", "难"),
        ("tech_difficulty", 2.5),
        ("effort_days", -1),
        ("effort_days", "很多"),
        ("effort_days", 10**8),
        ("cost_estimate", "-0.01"),
        ("cost_estimate", "NaN"),
        ("priority", "P0"),
    ],
)
def test_bad_estimates_are_refused_and_nothing_is_written(users, requirement, field, value):
    feasibility_update(actor=users["engineer"], requirement=requirement, tech_difficulty=2)
    before = db_state()
    with pytest.raises(ValidationError) as info:
        feasibility_update(actor=users["engineer"], requirement=requirement, resources="新资源", **{field: value})
    assert set(info.value.message_dict) == {field}
    assert db_state() == before


def test_compliance_sign_off(users, requirement):
    officer = users["compliance"]
    before = db_state()
    for status, note, field in (("rejected", "  ", "note"), ("pending", "", "status"), ("ok", "", "status")):
        with pytest.raises(ValidationError) as info:
            compliance_sign_off(actor=officer, requirement=requirement, status=status, note=note)
        assert set(info.value.message_dict) == {field}
    assert db_state() == before

    analysis = compliance_sign_off(
        actor=officer, requirement=requirement, status="rejected", note="涉及客户个人信息，需先做隐私评估"
    )
    assert (analysis.compliance_status, analysis.compliance_by) == ("rejected", officer)
    assert analysis.compliance_at is not None
    assert last_audit(requirement).changes["analysis.compliance_status"] == ["pending", "rejected"]
    analysis = compliance_sign_off(actor=officer, requirement=requirement, status="approved")
    assert (analysis.compliance_status, analysis.compliance_note) == ("approved", "")
    assert analysis_of(requirement).compliance_by == officer


# ------------------------------------------------------------------ Kano


@pytest.fixture
def survey(pm, requirement):
    return kano_survey_create(
        actor=pm,
        requirement=requirement,
        functional_question="如果提供按客户等级的批量折扣，您觉得如何？",
        dysfunctional_question="如果不提供按客户等级的批量折扣，您觉得如何？",
    )


def test_kano_survey_needs_both_questions(pm, requirement):
    before = db_state()
    with pytest.raises(ValidationError) as info:
        kano_survey_create(actor=pm, requirement=requirement, functional_question=" ", dysfunctional_question="")
    assert set(info.value.message_dict) == {"functional_question", "dysfunctional_question"}
    assert db_state() == before


def test_kano_answers_public_and_by_staff(users, pm, requirement, customer, survey):
    assert survey.is_open and len(survey.token) >= 16
    assert kano_survey_by_token(survey.token) == survey

    # Through the public link: no actor, no customer.
    public = kano_answer(survey=survey, functional="like", dysfunctional="dislike", respondent="  李经理 ")
    assert (public.category, public.respondent, public.entered_by, public.customer) == ("O", "李经理", None, None)
    assert kano_answer(survey=survey, functional="like", dysfunctional="neutral").category == "A"

    # Staff enter an answer for a customer; one answer per customer.
    staff = kano_answer(
        actor=users["sales"], survey=survey, customer=customer, functional="neutral", dysfunctional="dislike"
    )
    assert (staff.category, staff.entered_by, staff.customer) == ("M", users["sales"], customer)
    before = db_state()
    with pytest.raises(ValidationError) as info:
        kano_answer(actor=pm, survey=survey, customer=customer, functional="like", dysfunctional="dislike")
    assert set(info.value.message_dict) == {"customer"}
    assert db_state() == before

    found, summary = kano_of(requirement)
    assert found == survey
    assert summary.distribution == {"A": 1, "O": 1, "M": 1, "I": 0, "R": 0, "Q": 0}
    assert (summary.category, summary.total) == ("M", 3)  # a three-way tie goes to must-be
    assert (summary.better, summary.worse) == (0.6667, -0.6667)

    other = customer_create(actor=users["sales"], name="B制造企业", industry="制造")
    kano_answer(actor=users["service"], survey=survey, customer=other, functional="like", dysfunctional="dislike")
    _found, summary = kano_of(requirement)
    assert (summary.category, summary.distribution["O"], summary.total) == ("O", 2, 4)
    assert (summary.better, summary.worse) == (0.75, -0.75)


@pytest.mark.parametrize(
    ("functional", "dysfunctional", "fields"),
    [
        ("", "dislike", {"functional"}),
        ("like", None, {"dysfunctional"}),
        (None, "", {"functional", "dysfunctional"}),
        ("love", "hate", {"functional", "dysfunctional"}),
    ],
)
def test_a_missing_kano_answer_is_refused(survey, functional, dysfunctional, fields):
    before = db_state()
    with pytest.raises(ValidationError) as info:
        kano_answer(survey=survey, functional=functional, dysfunctional=dysfunctional)
    assert set(info.value.message_dict) == fields
    assert "请为" in info.value.message_dict[sorted(fields)[0]][0]
    assert db_state() == before


def test_closed_survey_refuses_the_public_but_not_staff(users, survey, customer):
    KanoSurvey.objects.filter(pk=survey.pk).update(is_open=False)
    survey.refresh_from_db()
    with pytest.raises(Http404):
        kano_survey_by_token(survey.token)
    with pytest.raises(Http404):
        kano_survey_by_token("no-such-token")
    with pytest.raises(ValidationError) as info:
        kano_answer(survey=survey, functional="like", dysfunctional="dislike")
    assert set(info.value.message_dict) == {"survey"}
    kano_answer(actor=users["sales"], survey=survey, customer=customer, functional="like", dysfunctional="dislike")
    assert KanoResponse.objects.count() == 1


def test_staff_may_answer_only_for_customers_they_see(make_user, survey, customer):
    from needpool.accounts.models import Team

    outsider = make_user(Role.SALES, username="outsider", team=Team.objects.create(name="销售二部"))
    before = db_state()
    with pytest.raises(ValidationError) as info:
        kano_answer(actor=outsider, survey=survey, customer=customer, functional="like", dysfunctional="dislike")
    assert set(info.value.message_dict) == {"customer"}
    assert db_state() == before


def test_editing_a_survey_keeps_its_link_and_answers(pm, requirement, survey):
    kano_answer(survey=survey, functional="like", dysfunctional="dislike")
    again = kano_survey_create(
        actor=pm, requirement=requirement, functional_question="有批量折扣的话？", dysfunctional_question="没有的话？"
    )
    assert (again.pk, again.token, again.functional_question) == (survey.pk, survey.token, "有批量折扣的话？")
    assert again.responses.count() == 1
