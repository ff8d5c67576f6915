"""Worked example 3 (PRODUCT.md §4) end to end: the demo enters C2024001 A科技公司 and C2024002 B制造企业 through
the services; their needs reports show the explicit and implicit needs and the next step on its date."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from needpool.accounts.roles import Role
from needpool.customers.models import Customer
from needpool.demo.examples import load_examples
from needpool.demo.users import DEMO_SALES, demo_users_ensure
from needpool.reports import customer_report
from needpool.reports.document import Report, Table, Text

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo() -> dict[str, Any]:
    users = demo_users_ensure()
    load_examples(users=users)
    return users


def titles(report: Report, key: str) -> set[str]:
    block = report.block(key)
    assert isinstance(block, Table)
    return {row[1] for row in block.rows}


def actions(report: Report) -> list[str]:
    block = report.block("next_actions")
    assert isinstance(block, Text)
    return block.items


def figure(report: Report, key: str) -> Any:
    found = report.figure(key)
    assert found is not None, key
    return found


def test_a_tech_company_explicit_and_implicit_needs_and_the_next_step(demo: dict[str, Any]) -> None:
    sales = demo[DEMO_SALES]
    report = customer_report.build_from_query(sales, {"customer": "C2024001"})
    assert report.title == "客户需求报告 · A科技公司"
    assert titles(report, "explicit_needs") == {"实时监控：业务系统运行状态与告警大屏", "开放 API：与客户自有平台对接"}
    assert titles(report, "implicit_needs") == {"降低运营成本：上线后的运维投入测算与优化"}
    assert (figure(report, "explicit").value, figure(report, "implicit").value) == (2, 1)
    assert figure(report, "industry").value == "互联网"
    assert figure(report, "segment").value == "潜力"
    assert figure(report, "contact").value == "王磊" and figure(report, "contact").note == "采购总监 · 决策者"
    assert figure(report, "owner").value == str(sales)
    assert figure(report, "pending").value == 3 and figure(report, "resolved").value == 0
    next_step = timezone.localdate() + dt.timedelta(days=14)
    assert figure(report, "next_follow_up").value == next_step
    assert actions(report)[0] == f"{next_step.isoformat()}：发送实时监控与开放 API 方案及运营成本测算"


def test_b_manufacturer_erp_reports_excel_and_monthly_updates(demo: dict[str, Any]) -> None:
    report = customer_report.build_from_query(demo[DEMO_SALES], {"customer": "c2024002"})
    assert titles(report, "explicit_needs") == {"定制报表：与 ERP 系统口径一致", "报表导出 Excel"}
    assert titles(report, "implicit_needs") == set()
    assert figure(report, "industry").value == "制造业"
    next_step = timezone.localdate() + dt.timedelta(days=30)
    assert figure(report, "next_follow_up").value == next_step
    assert actions(report)[0] == f"{next_step.isoformat()}：决策周期长：每月发送一次产品与方案进展更新"


def test_the_example_pages_for_the_owner_and_a_rep_who_may_not_see_them(demo: dict[str, Any], make_user: Any) -> None:
    customer = Customer.objects.get(code="C2024001")
    owner = Client()
    owner.force_login(demo[DEMO_SALES])
    html = owner.get(reverse("reports:customer", args=[customer.pk])).content.decode()
    for text in ("显性需求", "隐性需求", "开放 API：与客户自有平台对接", "降低运营成本", "发送实时监控与开放 API 方案"):
        assert text in html
    stranger = Client()
    stranger.force_login(make_user(Role.SALES, username="another-rep"))
    assert stranger.get(reverse("reports:customer", args=[customer.pk])).status_code == 404
