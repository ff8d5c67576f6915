"""客户需求信息表: requirements with their customer's words, from real .xlsx files made here."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from needpool.customers.models import Contact, Customer
from needpool.requirements.models import Feedback, Requirement
from tests.conftest import option
from tests.intake.transfer.conftest import INTAKE_HEADERS, errors_of

pytestmark = pytest.mark.django_db


def test_seed_row_creates_the_requirement_with_its_code_customer_contact_and_tags(users, customer, sheet, run_sheet):
    path = sheet(
        [
            INTAKE_HEADERS,
            [
                "DEM20240301001",
                "A科技公司",
                "王总",
                "销售沟通",
                "功能优化",
                "希望增加批量订单折扣功能,支持按客户等级设置不同折扣规则",
                "2024-06-30",
                "批量操作/效率提升",
                "2024-03-01",
            ],
        ]
    )
    result = run_sheet(users["sales"], path)
    assert result.error_total == 0, result.errors
    assert result.counts["create"] == 1
    requirement = Requirement.objects.get(code="DEM20240301001")
    assert requirement.title == "希望增加批量订单折扣功能,支持按客户等级设置不同折扣规则"
    assert requirement.type == option("type", "function_improvement")
    assert requirement.expected_date == dt.date(2024, 6, 30)
    assert {t.key for t in requirement.tags.all()} == {"bulk_operation", "efficiency"}
    assert timezone.localtime(requirement.submitted_at).date() == dt.date(2024, 3, 1)
    evidence = Feedback.objects.get(requirement=requirement)
    assert evidence.customer == customer
    assert evidence.contact == Contact.objects.get(customer=customer, name="王总")
    assert evidence.channel == "sales"
    assert requirement.customer_value == "high"  # derived from the customer, as when entered by hand


def test_reimport_updates_instead_of_duplicating(users, customer, sheet, run_sheet):
    rows = [
        INTAKE_HEADERS,
        ["DEM20240301001", "A科技公司", "王总", "销售沟通", "功能", "批量导出报表", "2024-06-30", "", ""],
    ]
    assert run_sheet(users["sales"], sheet(rows)).counts["create"] == 1
    again = run_sheet(users["sales"], sheet(rows))
    assert again.counts == {"create": 0, "update": 0, "unchanged": 1, "error": 0}
    rows[1][6] = "2024年Q3"
    rows[1][4] = "体验需求"  # the management sheet's wording of 体验 is understood too
    kept = run_sheet(users["sales"], sheet(rows))  # filled fields are kept unless the column is overwritten
    assert kept.counts["unchanged"] == 1 and [d["applied"] for d in kept.rows[0]["diffs"]] == [False, False]
    overwrite = {"type": "overwrite", "expected_date": "overwrite"}
    changed = run_sheet(users["sales"], sheet(rows), update_policy=overwrite)
    assert changed.counts["update"] == 1
    assert changed.rows[0]["changes"] == ["需求类型", "期望时间"]
    assert Requirement.objects.count() == 1
    requirement = Requirement.objects.get()
    assert requirement.expected_date == dt.date(2024, 9, 30)  # a quarter means its last day
    assert requirement.type == option("type", "experience")
    assert Feedback.objects.count() == 1


def test_blank_code_creates_with_a_new_code_and_new_code_keeps_its_own(users, customer, sheet, run_sheet):
    path = sheet(
        [
            INTAKE_HEADERS,
            ["", "A科技公司", "", "", "", "第一条：报表导出", "", "", ""],
            ["202405-001", "A科技公司", "", "", "", "第二条：权限细分", "", "", ""],
        ]
    )
    result = run_sheet(users["sales"], path)
    assert result.counts["create"] == 2, result.errors
    codes = set(Requirement.objects.values_list("code", flat=True))
    assert "202405-001" in codes
    generated = (codes - {"202405-001"}).pop()
    assert generated.startswith("DEM")


def test_errors_name_row_column_value_and_reason_and_nothing_is_written(users, customer, sheet, run_sheet):
    path = sheet(
        [
            ["客户需求信息表"],
            INTAKE_HEADERS,
            ["DEM1", "A科技公司", "", "销售沟通", "功能", "正常的一行", "2024-06-30", "", ""],
            ["DEM2", "不存在的客户", "", "销售沟通", "功能", "客户不存在", "2024-06-30", "", ""],
            ["DEM3", "A科技公司", "", "飞鸽传书", "功能", "渠道不对", "2024-13-45", "不存在的标签", ""],
        ],
        merge=["A1:I1"],
    )
    result = run_sheet(users["sales"], path)
    assert result.header_row == 2
    assert errors_of(result) == [
        (4, "客户名称", "不存在的客户"),
        (5, "需求来源", "飞鸽传书"),
        (5, "期望时间", "2024-13-45"),
        (5, "初步标签", "不存在的标签"),
    ]
    messages = [e["message"] for e in result.errors]
    assert "客户不存在或您无权访问" in messages[0]
    assert "可选" in messages[1] and "销售沟通" in messages[1]
    assert messages[2] == "日期不存在。"
    assert result.counts == {"create": 1, "update": 0, "unchanged": 0, "error": 2}
    assert not Requirement.objects.exists()  # all or nothing: the good row is not kept either
    assert not Customer.objects.exclude(pk=customer.pk).exists()


def test_an_error_in_the_last_row_writes_nothing(users, customer, sheet, run_sheet):
    rows = [INTAKE_HEADERS] + [
        [f"DEM{i:03d}", "A科技公司", "新联系人", "销售沟通", "功能", f"需求 {i}", "2024-06-30", "", ""]
        for i in range(30)
    ]
    rows.append(["DEM999", "A科技公司", "", "销售沟通", "功能", "", "", "", ""])  # no description: cannot be created
    result = run_sheet(users["sales"], sheet(rows))
    assert errors_of(result) == [(32, "描述内容", "")]
    assert result.counts["create"] == 30
    assert not Requirement.objects.exists()
    assert not Feedback.objects.exists()
    assert not Contact.objects.filter(name="新联系人").exists()


def test_dry_run_reports_the_same_and_writes_nothing(users, customer, sheet, run_sheet):
    path = sheet([INTAKE_HEADERS, ["DEM1", "A科技公司", "", "", "", "报表导出", "", "", ""]])
    preview = run_sheet(users["sales"], path, dry_run=True)
    assert preview.counts["create"] == 1
    assert preview.rows[0]["code"] == "DEM1"
    assert not Requirement.objects.exists()
    real = run_sheet(users["sales"], path)
    assert real.counts == preview.counts
    assert Requirement.objects.filter(code="DEM1").exists()


def test_missing_customer_is_created_when_asked(users, sheet, run_sheet):
    path = sheet(
        [INTAKE_HEADERS, ["", "电商", "*", "销售沟通", "功能优化", "批量折扣", "2024-06-30", "", "2024-03-01"]]
    )
    refused = run_sheet(users["sales"], path)
    assert errors_of(refused) == [(2, "客户名称", "电商")]
    result = run_sheet(users["sales"], path, create_customers=True)
    assert result.error_total == 0, result.errors
    created = Customer.objects.get(name="电商")
    assert created.owner == users["sales"]
    assert any("新建客户" in w for w in result.rows[0]["warnings"])


def test_source_columns_of_an_existing_requirement_are_warnings_not_changes(users, requirement, sheet, run_sheet):
    path = sheet(
        [
            INTAKE_HEADERS,
            [
                requirement.code,
                "A科技公司",
                "",
                "工单系统",
                "功能优化",
                requirement.description,
                "2024-06-30",
                "批量操作",
                "",
            ],
        ]
    )
    result = run_sheet(users["sales"], path)
    assert result.counts["unchanged"] == 1, result.rows
    warnings = result.rows[0]["warnings"]
    assert len(warnings) == 1  # the source differs; the customer and (no) contact match
    assert "需求来源" in warnings[0] and "工单系统" in warnings[0] and "销售沟通" in warnings[0]


def test_a_viewer_cannot_import_and_a_sales_rep_cannot_edit_others_requirements(users, sheet, run_sheet):
    from django.core.exceptions import PermissionDenied

    from needpool.requirements.services import requirement_create

    others = requirement_create(actor=users["product_manager"], title="别人的需求", code="DEM-PM-1")
    path = sheet([INTAKE_HEADERS, ["DEM-PM-1", "", "", "", "", "改掉别人的需求", "", "", ""]])
    with pytest.raises(PermissionDenied):
        run_sheet(users["viewer"], path)
    result = run_sheet(users["sales"], path)
    assert errors_of(result) == [(2, "需求ID", "DEM-PM-1")]
    assert "无权" in result.errors[0]["message"]
    others.refresh_from_db()
    assert others.description == ""


def test_a_code_twice_in_one_sheet_creates_then_updates(users, customer, sheet, run_sheet):
    rows = [
        INTAKE_HEADERS,
        ["DEM7", "A科技公司", "", "", "功能", "第一次写的描述", "", "", ""],
        ["DEM7", "A科技公司", "", "", "功能", "第二次改过的描述", "", "", ""],
    ]
    result = run_sheet(users["sales"], sheet(rows), update_policy={"description": "overwrite"})
    assert [r["action"] for r in result.rows] == ["create", "update"], result.errors
    assert Requirement.objects.get(code="DEM7").description == "第二次改过的描述"


def test_a_disabled_option_may_stay_but_not_be_newly_chosen(users, requirement, sheet, run_sheet):
    from needpool.requirements.models import ClassOption

    ClassOption.objects.filter(dimension="type", key="function_improvement").update(is_active=False)
    same = [INTAKE_HEADERS, [requirement.code, "", "", "", "功能优化", "", "", "批量操作", ""]]
    assert run_sheet(users["sales"], sheet(same)).error_total == 0
    new = [INTAKE_HEADERS, ["DEM-X", "A科技公司", "", "", "功能优化", "新需求", "", "", ""]]
    result = run_sheet(users["sales"], sheet(new))
    assert errors_of(result) == [(2, "需求类型", "功能优化")]
    assert "停用" in result.errors[0]["message"]


def test_an_expected_date_already_past_is_imported_and_flagged(users, customer, sheet, run_sheet):
    import datetime as dt

    from django.utils import timezone

    future = (timezone.localdate() + dt.timedelta(days=30)).isoformat()
    path = sheet(
        [
            INTAKE_HEADERS,
            ["OLD001", "A科技公司", "", "销售沟通", "功能", "旧表里的需求", "2024-06-30", "", "2024-03-01"],
            ["NEW002", "A科技公司", "", "销售沟通", "功能", "新的需求", future, "", ""],
        ]
    )
    result = run_sheet(users["sales"], path)
    assert result.error_total == 0, result.errors
    old, new = result.rows
    assert any("期望时间" in w and "2024-06-30" in w and "已经过去" in w for w in old["warnings"])
    assert not any("已经过去" in w for w in new["warnings"])
    assert Requirement.objects.get(code="OLD001").expected_date == dt.date(2024, 6, 30)  # kept as written
