"""Every error of a row at once: all its cells are read and checked before the row stops."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from needpool.customers.models import Contact, Customer
from needpool.requirements.models import Requirement
from tests.intake.transfer.conftest import MANAGEMENT_HEADERS, RELATIONSHIP_HEADERS, errors_of

pytestmark = pytest.mark.django_db


def _relationship(**values: str) -> list[str]:
    base = {header: "" for header in RELATIONSHIP_HEADERS}
    base.update(
        {
            "客户编号": "C2024101",
            "客户名称": "E软件公司",
            "对接人": "李*",
            "联系方式": "010-62345678",
            "最近接触时间": "2024-03-15",
            "接触方式": "线下会议",
            "沟通要点": "系统响应速度慢",
            "显性需求": "支持实时数据监控",
            "负责人": "sales",
        }
    )
    base.update(values)
    return [base[h] for h in RELATIONSHIP_HEADERS]


def _management(**values: str) -> list[str]:
    base = {
        "需求编号": "202405-101",
        "需求来源": "销售沟通",
        "提出方信息": "A科技公司、王总",
        "需求类型": "功能需求",
        "需求描述": "希望在报表页面增加批量导出功能",
        "紧急程度": "常规",
        "优先级": "P2",
        "提出时间": "2024-05-06",
        "期望完成时间": "2024-09-30",
        "负责人": "product_manager",
        "当前状态": "待处理",
    }
    base.update(values)
    return [base[h] for h in MANAGEMENT_HEADERS]


def test_relationship_row_reports_owner_personal_mobile_and_bad_date_at_once(users, sheet, run_sheet):
    row = _relationship(负责人="查无此人", 联系方式="13812345678", 最近接触时间="2024-02-30")
    result = run_sheet(users["sales"], sheet([RELATIONSHIP_HEADERS, row]))
    assert errors_of(result) == [
        (2, "联系方式", "13812345678"),
        (2, "最近接触时间", "2024-02-30"),
        (2, "负责人", "查无此人"),
    ]
    assert "个人手机号" in result.errors[0]["message"]
    assert not Customer.objects.filter(code="C2024101").exists()


def test_personal_mobile_is_reported_with_an_unknown_owner_alone(users, sheet, run_sheet):
    """The reported case: the privacy rule used to answer only once the owner was fixed."""
    row = _relationship(负责人="查无此人", 联系方式="138-1234-5678；li@example.com")
    result = run_sheet(users["sales"], sheet([RELATIONSHIP_HEADERS, row]))
    assert [e[1] for e in errors_of(result)] == ["联系方式", "负责人"]
    fixed = run_sheet(users["sales"], sheet([RELATIONSHIP_HEADERS, _relationship(联系方式="13812345678")]))
    assert errors_of(fixed) == [(2, "联系方式", "13812345678")]  # still refused without other errors


def test_unchanged_contact_details_of_an_existing_contact_are_not_checked_again(users, sheet, run_sheet):
    """The rule is checked on what would be written: a record's own details round-trip as they are."""
    first = run_sheet(users["sales"], sheet([RELATIONSHIP_HEADERS, _relationship()]))
    assert first.error_total == 0, first.errors
    Contact.objects.filter(name="李*").update(phone="13812345678")  # recorded before the rule
    again = run_sheet(users["sales"], sheet([RELATIONSHIP_HEADERS, _relationship(联系方式="13812345678")]))
    assert again.error_total == 0, again.errors
    changed = run_sheet(users["sales"], sheet([RELATIONSHIP_HEADERS, _relationship(联系方式="13900001111")]))
    assert errors_of(changed) == [(2, "联系方式", "13900001111")]


def test_contact_details_without_a_contact_and_a_missing_name_are_reported_together(users, sheet, run_sheet):
    row = _relationship(客户编号="", 客户名称="", 对接人="", 负责人="查无此人")
    result = run_sheet(users["sales"], sheet([RELATIONSHIP_HEADERS, row]))
    assert [e[1] for e in errors_of(result)] == ["客户名称", "对接人", "负责人"]


def test_management_row_reports_status_owner_and_date_at_once(users, customer, sheet, run_sheet):
    row = _management(当前状态="神秘状态", 负责人="查无此人", 期望完成时间="2024-13-01")
    result = run_sheet(users["product_manager"], sheet([MANAGEMENT_HEADERS, row]))
    assert errors_of(result) == [
        (2, "期望完成时间", "2024-13-01"),
        (2, "负责人", "查无此人"),
        (2, "当前状态", "神秘状态"),
    ]
    assert not Requirement.objects.exists()


def test_management_update_reports_the_status_gate_with_cell_errors(users, customer, sheet, run_sheet):
    created = run_sheet(users["product_manager"], sheet([MANAGEMENT_HEADERS, _management()]))
    assert created.error_total == 0, created.errors
    # 待处理 → 处理中 needs a standardised requirement (背景, 具体诉求 are empty): refused with the bad owner.
    row = _management(当前状态="处理中", 负责人="查无此人")
    result = run_sheet(users["product_manager"], sheet([MANAGEMENT_HEADERS, row]))
    assert errors_of(result) == [(2, "负责人", "查无此人"), (2, "当前状态", "处理中")]
    assert "未标准化" in result.errors[1]["message"]
    # The same move without other errors: the service refuses it with the same words.
    alone = run_sheet(users["product_manager"], sheet([MANAGEMENT_HEADERS, _management(当前状态="处理中")]))
    assert errors_of(alone) == [(2, "当前状态", "处理中")]
    assert result.errors[1]["message"] == alone.errors[0]["message"]
    # A rejection with its note passes the gate: no error is invented for it.
    rejected = run_sheet(
        users["product_manager"], sheet([MANAGEMENT_HEADERS, _management(当前状态="已拒绝", 负责人="查无此人")])
    )
    assert errors_of(rejected) == [(2, "负责人", "查无此人")]


def test_management_create_reports_the_status_gate_and_a_missing_description(users, customer, sheet, run_sheet):
    row = _management(需求描述="", 当前状态="处理中", 负责人="查无此人")
    result = run_sheet(users["product_manager"], sheet([MANAGEMENT_HEADERS, row]))
    assert [e[1] for e in errors_of(result)] == ["需求描述", "负责人", "当前状态"]
    assert "未标准化" in result.errors[2]["message"]


# Independent bad cells of one management row: each is refused on its own column, whatever else is wrong.
BAD_CELLS = {
    "需求类型": "神秘需求",
    "紧急程度": "十万火急",
    "优先级": "P9",
    "提出时间": "2024-02-30",
    "期望完成时间": "明年某天",
    "负责人": "查无此人",
    "当前状态": "神秘状态",
}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bad=st.sets(st.sampled_from(sorted(BAD_CELLS))))
def test_property_the_reported_columns_are_exactly_the_bad_cells(users, customer, sheet, run_sheet, bad):
    row = _management(**{column: BAD_CELLS[column] for column in bad})
    result = run_sheet(users["product_manager"], sheet([MANAGEMENT_HEADERS, row]), dry_run=True)
    columns = [e["column"] for e in result.errors]
    assert columns == [h for h in MANAGEMENT_HEADERS if h in bad]  # each once, in the sheet's column order
    assert result.counts["error" if bad else "create"] == 1


def test_an_unreadable_source_leaves_the_requester_unjudged(users, sheet, run_sheet):
    """An internal source needs no customer: with the source unreadable, a requester that is no customer is
    not reported as one (only the source is)."""
    row = _management(需求来源="飞鸽传书", 提出方信息="销售部", 负责人="查无此人")
    result = run_sheet(users["product_manager"], sheet([MANAGEMENT_HEADERS, row]))
    assert [e[1] for e in errors_of(result)] == ["需求来源", "负责人"]
    fixed = run_sheet(users["product_manager"], sheet([MANAGEMENT_HEADERS, _management(提出方信息="销售部")]))
    assert [e[1] for e in errors_of(fixed)] == ["提出方信息"]  # a customer source names a customer
