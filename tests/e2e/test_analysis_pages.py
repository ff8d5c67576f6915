"""The analysis desk with a drawn fishbone and Kano results, and the public Kano survey, on desktop and phone."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from needpool.analysis.models import KanoResponse
from needpool.analysis.services import (
    analysis_update,
    fishbone_set,
    kano_answer,
    kano_survey_create,
    priority_override,
    whys_set,
)
from tests.conftest import PASSWORD
from tests.e2e.conftest import ARTIFACTS, sign_in
from tests.e2e.helpers import assert_no_horizontal_overflow, other_context, screenshot

WIDTH = 375
PHONE = {"viewport": {"width": WIDTH, "height": 812}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}


@pytest.fixture
def phone(browser: Any, live_server: Any, django_db_serialized_rollback: None, request: Any) -> Iterator[Any]:
    with other_context(browser, live_server.url, f"phone-{request.node.name}", **PHONE) as page:
        yield page


@pytest.fixture
def analysed(users, requirement):
    pm = users["product_manager"]
    analysis_update(
        actor=pm,
        requirement=requirement,
        urgency_score=4,
        importance_score=5,
        value_score=4,
        cost_score=2,
        pain_points="财务每月手工核对批量折扣，耗时两天",
        value_statement="节省 50% 人工对账时间",
    )
    priority_override(actor=pm, requirement=requirement, priority="P1", reason="与二季度路线图合并交付")
    whys_set(
        actor=pm,
        requirement=requirement,
        steps=[
            ("为什么客户要手工算折扣？", "系统不支持按客户等级配置折扣"),
            ("为什么系统不支持？", "定价模块只支持单一折扣"),
        ],
        root_cause="定价模块缺少分层折扣规则",
    )
    fishbone_set(
        actor=pm,
        requirement=requirement,
        causes=[
            ("people", "销售不了解折扣政策"),
            ("people", "财务人手不足"),
            ("people", "客户经理频繁更换导致折扣口径不一致"),
            ("machine", "ERP 不支持分层折扣"),
            ("machine", "报表导出慢"),
            ("material", "客户等级数据不全"),
            ("method", "折扣审批靠邮件"),
            ("method", "没有统一的折扣规则表"),
            ("method", "月底集中对账"),
            ("environment", "促销季订单激增"),
            ("measurement", "没有折扣准确率指标"),
        ],
    )
    survey = kano_survey_create(
        actor=pm,
        requirement=requirement,
        functional_question="如果可以按客户等级自动计算批量折扣，您觉得如何？",
        dysfunctional_question="如果不能按客户等级自动计算批量折扣，您觉得如何？",
    )
    for functional, dysfunctional in [
        ("like", "dislike"),
        ("like", "neutral"),
        ("must_be", "dislike"),
        ("like", "dislike"),
    ]:
        kano_answer(survey=survey, functional=functional, dysfunctional=dysfunctional)
    return requirement


def test_analysis_desk_shows_fishbone_and_results(page, users, analysed):
    sign_in(page, "product_manager", PASSWORD)
    page.goto(page.base_url + f"/analysis/requirements/{analysed.pk}/")
    expect(page.locator("#why-text")).to_contain_text("紧急 4 ≥ 3 · 重要 5 ≥ 3 → P0")
    expect(page.locator("#override-reason")).to_contain_text("与二季度路线图合并交付")
    svg = page.locator("#fishbone-picture svg.fishbone")
    expect(svg).to_be_visible()
    expect(svg.locator(".fb-bone")).to_have_count(6)
    expect(svg.locator(".fb-cause")).to_have_count(11)
    expect(svg.locator(".fb-head-text")).to_contain_text("按客户等级")
    box = svg.bounding_box()
    assert box is not None and box["width"] > 500 and box["height"] > 200
    expect(page.locator("#kano-majority")).to_contain_text("期望型")
    expect(page.locator("#kano-link")).to_have_value(re.compile(r"^http://.+/portal/kano/[\w-]+/$"))
    screenshot(page, "analysis-desk")
    for card in ("fishbone", "kano", "scores", "priority"):
        page.locator(f"#{card}").screenshot(path=str(ARTIFACTS / f"analysis-desk-{card}.png"))


def test_analysis_pages_fit_a_phone(phone, users, analysed):
    sign_in(phone, "product_manager", PASSWORD)
    for path in ("/analysis/", "/analysis/ranked/", f"/analysis/requirements/{analysed.pk}/", "/analysis/settings/"):
        phone.goto(phone.base_url + path)
        phone.wait_for_load_state("networkidle")
        assert_no_horizontal_overflow(phone, WIDTH)
    phone.goto(phone.base_url + "/analysis/")
    phone.wait_for_function("() => window.needpoolMatrixChart !== undefined")
    screenshot(phone, "phone-analysis-matrix")
    phone.goto(phone.base_url + f"/analysis/requirements/{analysed.pk}/")
    screenshot(phone, "phone-analysis-desk")
    for card in ("analysis-summary", "whys", "fishbone"):
        phone.locator(f"#{card}").screenshot(path=str(ARTIFACTS / f"phone-analysis-desk-{card}.png"))


def test_public_kano_survey_on_a_phone(phone, analysed):
    survey = analysed.kano_survey
    phone.goto(phone.base_url + f"/portal/kano/{survey.token}/")
    expect(phone.locator("#kano-title")).to_have_text(analysed.title)
    assert_no_horizontal_overflow(phone, WIDTH)
    screenshot(phone, "phone-kano-public")
    before = KanoResponse.objects.count()

    # Only one answer: refused, nothing saved, the chosen answer stays.
    phone.locator("#question-functional").get_by_text("我喜欢").click()
    phone.get_by_role("button", name="提交").click()
    expect(phone.locator("#question-dysfunctional")).to_contain_text("请为反向问题选择一个回答")
    expect(phone.locator("#question-functional input[value=like]")).to_be_checked()
    assert KanoResponse.objects.count() == before
    screenshot(phone, "phone-kano-public-error")

    phone.locator("#question-dysfunctional").get_by_text("能忍受").click()
    phone.locator("input[name=respondent]").fill("李经理")
    phone.get_by_role("button", name="提交").click()
    expect(phone.locator("#kano-thanks")).to_contain_text("感谢您的回答")
    saved = KanoResponse.objects.get(respondent="李经理")
    assert (saved.functional, saved.dysfunctional, saved.category) == ("like", "live_with", "A")


def test_settings_ranked_and_project_pages(page, users, analysed, customer):
    from needpool.analysis.services import project_create

    project = project_create(
        actor=users["manager"],
        name="互联网客户折扣需求梳理",
        goal="梳理互联网行业客户对批量折扣的共性需求",
        leader=users["product_manager"],
        start_date=dt.date(2024, 1, 1),
        end_date=dt.date(2024, 12, 31),
        scope={"industries": ["互联网"], "top_n_by_order": 20},
        members=[(users["engineer"], "评估技术可行性"), (users["sales"], "访谈重点客户")],
    )
    sign_in(page, "product_manager", PASSWORD)
    page.goto(page.base_url + "/analysis/ranked/")
    expect(page.locator("#ranked-table .ranked-row")).to_have_count(1)
    badge = page.locator(".override-badge")
    badge.hover()
    expect(page.locator(".tooltip")).to_contain_text("与二季度路线图合并交付")  # Bootstrap tooltip
    screenshot(page, "analysis-ranked")

    page.goto(page.base_url + "/analysis/settings/")
    page.locator("#id_active_model").select_option("rice")
    page.get_by_role("button", name="保存设置").click()
    expect(page.locator(".alert-success")).to_contain_text("优先级已重新计算")
    screenshot(page, "analysis-settings")

    page.goto(page.base_url + f"/analysis/projects/{project.pk}/")
    page.wait_for_function("() => window.needpoolMatrixChart !== undefined")
    expect(page.locator("#project-requirements .project-requirement")).to_have_count(1)
    expect(page.locator("#project-scope")).to_contain_text("订单金额前 20 名")
    screenshot(page, "analysis-project")
