"""Sheets filled the way people fill them, in the four layouts: each imports after the mapping step, with the
proposals as they come and nothing changed in the admin first.

Banner rows above a merged title, headers with trailing spaces, mixed date styles, tags separated by / , 、 ；,
company names with and without 有限公司, statuses of the other default flow, an owner given as a role.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from needpool.customers.models import Customer, Interaction
from needpool.intake.transfer.imports.mapping import proposals
from needpool.requirements.models import ClassOption, Requirement
from tests.intake.transfer.conftest import MANAGEMENT_HEADERS, RELATIONSHIP_HEADERS

pytestmark = pytest.mark.django_db


def _workbook(path: Path, title: str, header: list[str], rows: list[list[Any]]) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Sheet1"
    sheet.append([title])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
    sheet.append(["填表人：市场部    更新日期：2024/06/01"])
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def _import(run_sheet: Any, user: Any, path: Path, **options: Any) -> Any:
    scanned = run_sheet(user, path, dry_run=True, mapping_confirmed=False, **options)
    assert scanned.needs_mapping, "these sheets name values the pool does not know yet"
    chosen = proposals(scanned.mapping)
    preview = run_sheet(user, path, dry_run=True, mapping=chosen, **options)
    assert preview.error_total == 0, preview.errors
    done = run_sheet(user, path, mapping=chosen, **options)
    assert done.error_total == 0, done.errors
    return scanned, preview, done


def test_a_customer_needs_information_sheet(users, customer, tmp_path, run_sheet):
    header = ["需求ID ", " 客户名称", "联系人", "需求来源", "需求类型 ", "描述内容", "期望时间", "初步标签", "提交时间"]
    rows = [
        [
            "DEM20240301001",
            "A科技有限公司",
            "王总",
            "客户访谈",
            "功能改进",
            "希望增加批量订单折扣功能，支持按数量分档",
            "2024年Q2",
            "批量操作/价格策略",
            dt.datetime(2024, 3, 1, 10, 30),
        ],
        [
            "DEM20240302001",
            "C制造股份有限公司",
            "李工",
            "问卷调查",
            "体验优化",
            "导出报表太慢，希望十秒内完成",
            "2024/9/30",
            "效率提升, 报表",
            "2024-03-02",
        ],
        [
            "DEM20240303001",
            "Ｃ制造有限公司",
            "",
            "官网留言",
            "新功能",
            "希望支持企业微信登录",
            "2024.12.31",
            "登录、集成",
            "2024年3月3日",
        ],
        [
            "DEM20240304001",
            "D零售",
            "赵经理",
            "电话沟通",
            "缺陷",
            "订单导出后金额列为空",
            "",
            "报表；缺陷",
            "2024/3/4 09:00",
        ],
    ]
    path = _workbook(tmp_path / "客户需求信息表.xlsx", "客户需求信息表（2024年一季度）", header, rows)
    scanned, _preview, _done = _import(run_sheet, users["admin"], path)
    unknown = {c["column"]: sorted(v["text"] for v in c["values"]) for c in scanned.mapping}
    assert unknown["tags"] == ["价格策略", "报表", "登录", "缺陷", "集成"]
    assert unknown["customer"] == ["C制造股份有限公司", "D零售"]  # Ｃ制造有限公司 is the same company
    assert Requirement.objects.count() == 4
    assert Customer.objects.filter(name__startswith="C制造").count() == 1
    assert Customer.objects.filter(name="A科技公司").count() == 1 and Customer.objects.count() == 3
    assert ClassOption.objects.filter(dimension="tag", label="报表").count() == 1
    first = Requirement.objects.get(code="DEM20240301001")
    assert first.type.key == "function_improvement"
    assert first.expected_date == dt.date(2024, 6, 30)
    assert {t.label for t in first.tags.all()} == {"批量操作", "价格策略"}
    assert first.feedback_items.get().channel == "interview"
    assert Requirement.objects.get(code="DEM20240302001").feedback_items.get().channel == "survey"


def test_a_needs_management_sheet(users, customer, tmp_path, run_sheet):
    header = MANAGEMENT_HEADERS
    rows = [
        [
            "XQ-2024-001",
            "客户A电话反馈",
            "A科技有限公司、王总",
            "功能需求",
            "报表页面增加批量导出功能",
            "高",
            "P1",
            "2024-05-06",
            "2024年Q3",
            "产品经理",
            "待分析",
        ],
        [
            "XQ-2024-002",
            "销售部门提案",
            "销售部",
            "体验需求",
            "下单页面减少必填项",
            "一般",
            "P2",
            "2024/5/8",
            "2024-08-31",
            "product_manager",
            "评审中",
        ],
        [
            "XQ-2024-003",
            "展会收集",
            "E物流集团有限公司、周总",
            "新功能",
            "支持多仓库库存同步",
            "非常紧急",
            "P0",
            "2024年5月9日",
            "2024/7/1",
            "研发负责人",
            "开发中",
        ],
    ]
    path = _workbook(tmp_path / "客户需求管理表.xlsx", "客户需求管理表", header, rows)
    user = users["product_manager"]
    scanned = run_sheet(user, path, dry_run=True, mapping_confirmed=False)
    status_values = {v["text"] for c in scanned.mapping if c["column"] == "status" for v in c["values"]}
    assert status_values == {"待分析", "评审中", "开发中"}
    chosen = proposals(scanned.mapping)
    # With the sheet's statuses applied, the flow's standardisation gate refuses moves out of 待处理 for rows
    # without 背景 / 具体诉求: every such row is named; the same sheet imports with statuses left as they are.
    gated = run_sheet(user, path, dry_run=True, mapping=chosen)
    assert sorted(e["row"] for e in gated.errors) == [5, 6]
    done = run_sheet(user, path, mapping=chosen, apply_status=False)
    assert done.error_total == 0, done.errors
    assert Requirement.objects.count() == 3
    assert Requirement.objects.get(code="XQ-2024-001").urgency.key == "urgent"
    assert Requirement.objects.get(code="XQ-2024-001").owner is None  # 产品经理 is a role: left to nobody
    assert Requirement.objects.get(code="XQ-2024-002").feedback_items.get().customer is None  # internal
    assert Customer.objects.filter(name="E物流集团有限公司").count() == 1


def test_a_priority_assessment_sheet(users, requirement, tmp_path, run_sheet):
    header = [
        "需求ID",
        "需求描述",
        "紧急程度(1-5分,5最急)",
        "重要性(1-5分,5最重要)",
        "资源成本(1-5分,5最高)",
        "优先级 ",
    ]
    rows = [[requirement.code, "批量订单折扣功能", 5, "4", 3.0, "高"]]
    path = _workbook(tmp_path / "需求优先级评估表.xlsx", "需求优先级评估表 2024-06", header, rows)
    description = requirement.description
    _scanned, preview, _done = _import(run_sheet, users["admin"], path)
    warnings = [w for row in preview.rows for w in row["warnings"]]
    assert any("不作人工调整" in w for w in warnings), warnings
    requirement.refresh_from_db()
    assert requirement.description == description  # the short label did not replace the full description


def test_a_customer_relationship_sheet(users, customer, tmp_path, run_sheet):
    header = RELATIONSHIP_HEADERS
    rows = [
        [
            "",
            "A科技有限公司",
            "互联网",
            "王总",
            "CTO",
            "010-88886666；wang@a-tech.com",
            "2024/3/15",
            "线下拜访",
            "讨论批量折扣",
            "批量订单折扣",
            "希望降低采购成本",
            "高",
            "跟进中",
            "客户经理",
            "2024-03-20提供技术方案",
            "",
        ],
        [
            "",
            "F医疗器械有限公司",
            "医疗",
            "孙主任",
            "采购主任",
            "0571-86001234",
            "2024年3月18日",
            "电话",
            "询问售后响应时间",
            "售后4小时响应",
            "",
            "中",
            "待跟进",
            "sales",
            "",
            "新客户",
        ],
    ]
    path = _workbook(tmp_path / "客户需求与关系管理记录表.xlsx", "客户需求与关系管理记录表", header, rows)
    _import(run_sheet, users["admin"], path)
    assert Customer.objects.filter(name__in=["A科技公司", "A科技有限公司"]).count() == 1
    assert Customer.objects.filter(name="F医疗器械有限公司").count() == 1
    assert Interaction.objects.filter(customer=customer).exists()
