"""A requirement being built in an active iteration changes its scope only through an approved change request."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from needpool.delivery import services
from needpool.requirements.models import Requirement
from needpool.requirements.services import requirement_transition, requirement_update

pytestmark = pytest.mark.django_db


@pytest.fixture
def building(pm, requirement, iteration):
    services.iteration_plan_requirements(actor=pm, iteration=iteration, requirements=[requirement])
    services.iteration_update(actor=pm, iteration=iteration, status="active")
    return requirement


def _approved_change(pm, requirement):
    change = services.change_request_create(actor=pm, requirement=requirement, what="增加阶梯折扣", why="客户追加")
    change = services.change_evaluate(
        actor=pm,
        change=change,
        impact_scope="订单模块",
        impact_schedule="+3 天",
        impact_cost="1 人周",
        impact_risk="低",
    )
    return services.change_decide(actor=pm, change=change, approved=True, reason="值得做")


def test_a_scope_edit_in_an_active_iteration_is_refused_and_writes_nothing(pm, building):
    before = Requirement.objects.get(pk=building.pk)
    with pytest.raises(ValidationError) as refused:
        requirement_update(actor=pm, requirement=building, title="按客户等级和阶梯数量设置批量折扣")
    assert "需求变更" in str(refused.value) and "正在进行中" in str(refused.value)
    after = Requirement.objects.get(pk=building.pk)
    assert (after.title, after.version) == (before.title, before.version)


def test_an_approved_change_request_lets_the_scope_change(pm, building):
    _approved_change(pm, building)
    updated = requirement_update(actor=pm, requirement=building, title="按客户等级和阶梯数量设置批量折扣")
    assert updated.title == "按客户等级和阶梯数量设置批量折扣"


def test_edits_outside_the_scope_or_outside_an_active_iteration_are_free(pm, users, building, iteration):
    assert requirement_update(actor=pm, requirement=building, priority="P1").priority == "P1"  # not its scope
    services.iteration_update(actor=pm, iteration=iteration, status="done")
    assert requirement_update(actor=pm, requirement=building, title="迭代结束后修改").title == "迭代结束后修改"


def test_a_requirement_no_longer_being_built_is_not_guarded(pm, users, building):
    requirement_transition(actor=users["admin"], requirement=building, to="rejected", note="不做")
    assert requirement_update(actor=pm, requirement=building, title="已拒绝后补充标题").title == "已拒绝后补充标题"
