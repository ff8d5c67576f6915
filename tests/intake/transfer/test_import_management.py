"""客户需求管理表: source, requester, classification, owner and status (through the workflow rules)."""

from __future__ import annotations

import datetime as dt

import pytest

from needpool.requirements.models import Feedback, Requirement
from tests.conftest import option
from tests.intake.transfer.conftest import MANAGEMENT_HEADERS, errors_of

pytestmark = pytest.mark.django_db


def _row(**values):
    base = {
        "需求编号": "202405-001",
        "需求来源": "客户A电话反馈",
        "提出方信息": "A科技公司、王总",
        "需求类型": "功能需求",
        "需求描述": "希望在报表页面增加批量导出功能",
        "紧急程度": "常规",
        "优先级": "P2",
        "提出时间": "2024-05-06",
        "期望完成时间": "2024年Q3",
        "负责人": "product_manager",
        "当前状态": "待处理",
    }
    base.update(values)
    return [base[h] for h in MANAGEMENT_HEADERS]


def test_seed_row(users, customer, sheet, run_sheet):
    result = run_sheet(users["product_manager"], sheet([MANAGEMENT_HEADERS, _row()]))
    assert result.error_total == 0, result.errors
    assert any("识别为" in w for w in result.rows[0]["warnings"])  # free-text source matched by keyword
    requirement = Requirement.objects.get(code="202405-001")
    assert requirement.type == option("type", "function")
    assert requirement.urgency == option("urgency", "normal")
    assert requirement.priority == "P2"
    assert requirement.expected_date == dt.date(2024, 9, 30)
    assert requirement.owner == users["product_manager"]
    evidence = Feedback.objects.get(requirement=requirement)
    assert (evidence.customer, evidence.contact.name, evidence.channel) == (customer, "王总", "sales")


def test_status_moves_only_along_the_workflow(users, customer, sheet, run_sheet):
    run_sheet(users["product_manager"], sheet([MANAGEMENT_HEADERS, _row()]))
    jump = run_sheet(users["product_manager"], sheet([MANAGEMENT_HEADERS, _row(当前状态="已上线")]))
    assert errors_of(jump) == [(2, "当前状态", "已上线")]
    assert "不允许" in jump.errors[0]["message"] or "未标准化" in jump.errors[0]["message"]
    assert "不修改状态" in jump.errors[0]["message"]
    ignored = run_sheet(
        users["product_manager"], sheet([MANAGEMENT_HEADERS, _row(当前状态="已上线")]), apply_status=False
    )
    assert ignored.error_total == 0
    assert ignored.counts["unchanged"] == 1
    assert "状态" in ignored.rows[0]["warnings"][-1]
    assert Requirement.objects.get().status.key == "new"
    rejected = run_sheet(users["product_manager"], sheet([MANAGEMENT_HEADERS, _row(当前状态="已拒绝")]))
    assert rejected.error_total == 0, rejected.errors
    assert Requirement.objects.get().status.key == "rejected"


def test_unknown_owner_type_and_internal_requester(users, sheet, run_sheet):
    bad = run_sheet(users["product_manager"], sheet([MANAGEMENT_HEADERS, _row(负责人="查无此人", 需求类型="神秘需求")]))
    # Every error of the row at once: the unknown requester too (no customer in the pool).
    assert errors_of(bad) == [
        (2, "提出方信息", "A科技公司、王总"),
        (2, "需求类型", "神秘需求"),
        (2, "负责人", "查无此人"),
    ]
    internal = run_sheet(
        users["product_manager"],
        sheet([MANAGEMENT_HEADERS, _row(需求来源="销售部门提案", 提出方信息="销售部", 需求编号="202405-002")]),
    )
    assert internal.error_total == 0, internal.errors
    evidence = Feedback.objects.get(requirement__code="202405-002")
    assert evidence.channel == "internal" and evidence.customer is None


def test_priority_edit_on_an_analysed_requirement_is_refused_by_the_service(users, requirement, sheet, run_sheet):
    from needpool.analysis.services import analysis_update

    analysis_update(actor=users["product_manager"], requirement=requirement, urgency_score=5, importance_score=5)
    row = _row(需求编号=requirement.code, 优先级="P3")
    result = run_sheet(
        users["product_manager"],
        sheet([MANAGEMENT_HEADERS, row]),
        apply_status=False,
        update_policy={"priority": "overwrite"},
    )
    assert errors_of(result)[0][:2] == (2, "优先级")
    assert "分析" in result.errors[0]["message"]


def test_a_contact_name_over_the_limit_is_refused_not_cut(users, customer, sheet, run_sheet):
    long_name = "王" * 61
    result = run_sheet(users["admin"], sheet([MANAGEMENT_HEADERS, _row(提出方信息=f"A科技公司、{long_name}")]))
    assert any("最多 60 个字" in e["message"] and "61" in e["message"] for e in result.errors), result.errors
    assert not customer.contacts.filter(name__startswith="王" * 60).exists()
