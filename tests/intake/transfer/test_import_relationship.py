"""客户需求与关系管理记录表: customer, contact (privacy rule), interaction and the needs heard in it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from needpool.customers.models import Contact, Customer, Interaction
from needpool.requirements.models import Feedback
from tests.intake.transfer.conftest import RELATIONSHIP_HEADERS, errors_of

pytestmark = pytest.mark.django_db

SEED = [
    RELATIONSHIP_HEADERS,
    [
        "C2024001",
        "A科技公司",
        "互联网",
        "张*",
        "采购总监",
        "010-62345678",
        "2024-03-15",
        "线下会议",
        "系统响应速度慢,需提升数据处理效率",
        "支持实时数据监控；API接口开放",
        "担忧后期运维成本高,希望提供技术培训",
        "高",
        "处理中",
        "sales",
        "2024-03-20提供技术方案",
        "客户提到竞品报价低10%,需突出性价比优势",
    ],
    [
        "C2024002",
        "B制造企业",
        "工业",
        "王*",
        "生产经理",
        "",
        "2024/3/10",
        "电话沟通",
        "需定制化报表功能,适配现有ERP系统",
        "报表支持Excel导出、自定义字段",
        "希望供应商能提供行业案例参考",
        "中",
        "待跟进",
        "",
        "2024-03-25发送行业案例",
        "客户决策周期较长,需每月同步产品迭代进展",
    ],
]


def test_seed_rows_create_customers_contacts_interactions_and_feedback(users, sheet, run_sheet):
    result = run_sheet(users["sales"], sheet(SEED))
    assert result.error_total == 0, result.errors
    assert result.counts["create"] == 2
    a = Customer.objects.get(code="C2024001")
    assert (a.name, a.industry, a.follow_status, a.owner, a.notes) == (
        "A科技公司",
        "互联网",
        "ongoing",
        users["sales"],
        "客户提到竞品报价低10%,需突出性价比优势",
    )
    contact = Contact.objects.get(customer=a)
    assert (contact.name, contact.title, contact.phone) == ("张*", "采购总监", "010-62345678")
    interaction = Interaction.objects.get(customer=a)
    assert timezone.localtime(interaction.occurred_at).date() == dt.date(2024, 3, 15)
    assert interaction.channel == "visit"
    assert interaction.key_ask_lines() == [
        "支持实时数据监控",
        "API接口开放",
        "隐性：担忧后期运维成本高,希望提供技术培训",
    ]
    assert interaction.next_follow_up_date == dt.date(2024, 3, 20)
    assert interaction.is_late  # entered long after the contact, as the service flags it
    feedback = Feedback.objects.filter(interaction=interaction)
    assert feedback.count() == 3
    assert set(feedback.values_list("importance", flat=True)) == {3}
    b = Customer.objects.get(code="C2024002")
    assert b.owner == users["sales"]  # blank owner: the importing user, as on the form
    assert Interaction.objects.get(customer=b).channel == "phone"


def test_reimport_is_unchanged_and_a_new_contact_time_adds_an_interaction(users, sheet, run_sheet):
    run_sheet(users["sales"], sheet(SEED))
    again = run_sheet(users["sales"], sheet(SEED))
    assert again.counts == {"create": 0, "update": 0, "unchanged": 2, "error": 0}, again.rows
    later = [row[:] for row in SEED]
    later[1][6] = "2024-04-02 14:00"
    later[1][8] = "演示实时监控原型"
    later[1][12] = "已解决"
    result = run_sheet(users["sales"], sheet(later), update_policy={"follow_status": "overwrite"})
    assert result.counts["update"] == 1
    assert result.rows[0]["changes"] == ["当前状态", "最近接触时间"]
    assert Interaction.objects.filter(customer__code="C2024001").count() == 2
    assert Customer.objects.get(code="C2024001").follow_status == "resolved"
    assert Customer.objects.count() == 2


def test_an_existing_interaction_is_never_rewritten(users, sheet, run_sheet):
    run_sheet(users["sales"], sheet(SEED))
    edited = [row[:] for row in SEED]
    edited[2][8] = "改写过的沟通要点"
    result = run_sheet(users["sales"], sheet(edited))
    assert errors_of(result) == [(3, "最近接触时间", "2024/3/10")]
    assert "沟通要点" in result.errors[0]["message"]


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ("13800138000", "手机号"),
        ("138 0013 8000", "手机号"),
        ("+86 139 1234 5678", "手机号"),
        ("zhang@qq.com", "个人邮箱"),
    ],
)
def test_privacy_rule_on_contact_details(value, field, users, sheet, run_sheet):
    rows = [RELATIONSHIP_HEADERS[:6], ["", "C公司", "零售", "赵*", "店长", value]]
    result = run_sheet(users["sales"], sheet(rows))
    assert errors_of(result) == [(2, "联系方式", value)]
    assert "隐私规则" in result.errors[0]["message"] and field in result.errors[0]["message"]
    assert not Customer.objects.exists()
    assert not Contact.objects.exists()


def test_work_phone_and_mail_together(users, sheet, run_sheet):
    rows = [RELATIONSHIP_HEADERS[:6], ["", "C公司", "零售", "赵*", "店长", "010-88886666；zhao@c-corp.com.cn"]]
    assert run_sheet(users["sales"], sheet(rows)).error_total == 0
    contact = Contact.objects.get()
    assert (contact.phone, contact.email) == ("010-88886666", "zhao@c-corp.com.cn")


def test_customer_rows_need_customer_write(users, sheet, run_sheet):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        run_sheet(users["engineer"], sheet(SEED))
    with pytest.raises(PermissionDenied):
        run_sheet(users["viewer"], sheet(SEED))


def test_someone_elses_customer_code_is_not_found_and_not_overwritten(users, make_user, sheet, run_sheet):
    from needpool.accounts.models import Team
    from needpool.customers.services import customer_create

    other = make_user("sales", username="sales-2", team=Team.objects.create(name="二部"))
    theirs = customer_create(actor=other, name="别队客户", code="C2024099", owner=other)
    rows = [RELATIONSHIP_HEADERS[:3], ["C2024099", "改名", "互联网"]]
    result = run_sheet(users["sales"], sheet(rows))
    assert errors_of(result) == [(2, "客户编号", "C2024099")]
    theirs.refresh_from_db()
    assert theirs.name == "别队客户"


def test_needs_without_a_contact_time_and_a_bad_priority(users, sheet, run_sheet):
    rows = [RELATIONSHIP_HEADERS, ["", "D公司", "", "", "", "", "", "", "", "希望开放接口", "", "很高", "", "", "", ""]]
    result = run_sheet(users["sales"], sheet(rows))
    assert errors_of(result) == [(2, "最近接触时间", ""), (2, "需求优先级", "很高")]  # both at once
    rows[1][11] = "高"
    result = run_sheet(users["sales"], sheet(rows))
    assert errors_of(result) == [(2, "最近接触时间", "")]
