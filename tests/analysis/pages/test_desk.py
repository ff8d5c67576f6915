"""One requirement's analysis desk: scores, override, insights, 5 Whys, fishbone, feasibility,
compliance, demand and Kano — every form goes through its service; bad input writes nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from needpool.analysis.models import FishboneCause, KanoResponse, KanoSurvey, RequirementAnalysis, WhyStep
from needpool.analysis.services import kano_answer, kano_survey_create
from needpool.core.models import AuditEntry
from needpool.requirements.models import Requirement
from tests.analysis.pages.conftest import html

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def desk(requirement: Requirement, action: str = "requirement") -> str:
    return reverse(f"analysis:{action}", args=[requirement.pk])


def _analysis(requirement: Requirement) -> RequirementAnalysis | None:
    return RequirementAnalysis.objects.filter(requirement=requirement).first()


# ---------------------------------------------------------------- the page


@pytest.mark.parametrize("role", ["admin", "manager", "product_manager", "sales", "engineer", "compliance", "viewer"])
def test_desk_renders_for_every_role_that_sees_the_requirement(client, users, requirement, role):
    client.force_login(users[role])
    response = client.get(desk(requirement))
    assert response.status_code == 200
    page = html(response)
    assert requirement.title in page
    assert f'href="{reverse("requirements:detail", args=[requirement.pk])}"' in page  # back to the requirement
    assert '<svg class="fishbone"' in page
    for anchor in ("scores", "priority", "insights", "whys", "fishbone", "demand", "feasibility", "compliance", "kano"):
        assert f'id="{anchor}"' in page


def test_desk_is_404_for_a_requirement_the_user_cannot_see(client, outsider, requirement):
    client.force_login(outsider)
    assert client.get(desk(requirement)).status_code == 404
    assert client.post(desk(requirement, "scores"), {"urgency_score": 3}).status_code == 404
    assert client.get(reverse("analysis:requirement", args=[999999])).status_code == 404


def test_forms_are_shown_by_capability(client, users, requirement):
    client.force_login(users["product_manager"])
    page = html(client.get(desk(requirement)))
    for form in ("scores-form", "override-form", "insights-form", "whys-form", "fishbone-form", "kano-survey-form"):
        assert f'id="{form}"' in page
    assert 'id="feasibility-form"' in page  # product managers estimate too
    assert 'id="compliance-form"' not in page  # only the compliance role signs

    client.force_login(users["viewer"])
    page = html(client.get(desk(requirement)))
    for form in ("override-form", "insights-form", "fishbone-form", "feasibility-form", "compliance-form"):
        assert f'id="{form}"' not in page
    assert 'id="why-save"' not in page

    client.force_login(users["engineer"])
    page = html(client.get(desk(requirement)))
    assert 'id="feasibility-form"' in page
    assert 'id="override-form"' not in page


# ---------------------------------------------------------------- scores


def test_saving_scores_computes_the_priority_and_shows_the_parts(client, users, requirement):
    client.force_login(users["product_manager"])
    response = client.post(desk(requirement, "scores"), {"urgency_score": "4", "importance_score": "5"}, follow=True)
    assert response.redirect_chain[-1][0].endswith(desk(requirement) + "#scores")
    analysis = _analysis(requirement)
    assert (analysis.urgency_score, analysis.importance_score, analysis.computed_priority) == (4, 5, "P0")
    requirement.refresh_from_db()
    assert requirement.priority == "P0"
    page = html(response)
    assert "评分已保存" in page
    assert "紧急 4 ≥ 3 · 重要 5 ≥ 3 → P0" in page
    assert 'class="table table-sm mb-0 parts-table"' in page


def test_saving_scores_without_the_active_models_inputs_shows_computed_error(client, users, requirement):
    client.force_login(users["product_manager"])
    response = client.post(desk(requirement, "scores"), {"value_score": "4"}, follow=True)
    page = html(response)
    assert _analysis(requirement).computed_error
    assert 'id="computed-error"' in page
    assert "无法计算优先级" in page
    assert "紧急度：必填" in page  # the missing input by its label, not its field name


def test_bad_scores_show_messages_and_write_nothing(client, users, requirement):
    client.force_login(users["product_manager"])
    response = client.post(desk(requirement, "scores"), {"urgency_score": "9", "confidence": "150"})
    assert response.status_code == 200
    page = html(response)
    assert "未保存" in page
    assert "is-invalid" in page
    assert _analysis(requirement) is None
    assert not AuditEntry.objects.filter(object_id=requirement.pk, changes__has_key="analysis.urgency_score").exists()


def test_weighted_criteria_are_scored_per_configured_criterion(client, users, requirement):
    from needpool.analysis.services import analysis_settings_update

    analysis_settings_update(actor=users["manager"], active_model="weighted")
    client.force_login(users["product_manager"])
    data = {"criterion_0": "10", "criterion_1": "5", "criterion_2": "5", "criterion_3": "0"}
    client.post(desk(requirement, "scores"), data)
    analysis = _analysis(requirement)
    assert analysis.criteria_scores == {"customer_value": 10, "strategic_fit": 5, "revenue": 5, "risk": 0}
    assert analysis.computed_score == 55.0
    assert "客户价值 +30 · 战略匹配 +12.5 · 收入影响 +12.5 · 风险降低 +0 = 55 ≥ 50 → P1" in html(
        client.get(desk(requirement))
    )


@pytest.mark.parametrize("role", ["sales", "engineer", "viewer", "compliance"])
def test_scores_are_refused_to_roles_without_analyse(client, users, requirement, role):
    client.force_login(users[role])
    assert client.post(desk(requirement, "scores"), {"urgency_score": "3"}).status_code == 403
    assert client.post(desk(requirement, "override"), {"priority": "P0", "reason": "x"}).status_code == 403
    assert (
        client.post(desk(requirement, "whys"), {"question": "a", "answer": "b", "root_cause": "c"}).status_code == 403
    )
    assert client.post(desk(requirement, "fishbone"), {"fishbone_people": "a"}).status_code == 403
    assert _analysis(requirement) is None


# ---------------------------------------------------------------- override


def test_override_needs_a_reason(client, users, requirement):
    client.force_login(users["product_manager"])
    response = client.post(desk(requirement, "override"), {"priority": "P0", "reason": ""})
    assert response.status_code == 200
    assert "人工调整优先级必须填写理由" in html(response)
    assert _analysis(requirement) is None
    requirement.refresh_from_db()
    assert requirement.priority == ""


def test_override_keeps_the_computed_priority_beside_it(client, users, requirement):
    client.force_login(users["product_manager"])
    client.post(desk(requirement, "scores"), {"urgency_score": "1", "importance_score": "2"})
    response = client.post(desk(requirement, "override"), {"priority": "P0", "reason": "战略客户续约"}, follow=True)
    analysis = _analysis(requirement)
    assert (analysis.computed_priority, analysis.override_priority) == ("P3", "P0")
    requirement.refresh_from_db()
    assert requirement.priority == "P0"
    page = html(response)
    assert "优先级调整已保存" in page
    assert "战略客户续约" in page
    # Clearing the override goes back to the computed priority.
    client.post(desk(requirement, "override"), {"priority": "", "reason": ""})
    requirement.refresh_from_db()
    assert requirement.priority == "P3"


# ---------------------------------------------------------------- pain points and value


def test_insights_are_saved(client, users, requirement):
    client.force_login(users["manager"])
    client.post(desk(requirement, "insights"), {"pain_points": "手工对账耗时", "value_statement": "节省 50% 人工操作"})
    analysis = _analysis(requirement)
    assert (analysis.pain_points, analysis.value_statement) == ("手工对账耗时", "节省 50% 人工操作")
    client.force_login(users["viewer"])
    assert "节省 50% 人工操作" in html(client.get(desk(requirement)))


# ---------------------------------------------------------------- 5 Whys


def _whys(*pairs: tuple[str, str], root_cause: str = "", **extra: str) -> dict:
    return {
        "question": [q for q, _a in pairs],
        "answer": [a for _q, a in pairs],
        "root_cause": root_cause,
        **extra,
    }


def test_whys_save_without_js_redirects_and_shows_them(client, users, requirement):
    client.force_login(users["product_manager"])
    data = _whys(
        ("为什么交付慢？", "供应商延期"), ("为什么供应商延期？", "没有考核"), root_cause="缺少供应商交付考核机制"
    )
    response = client.post(desk(requirement, "whys"), {**data, "action": "save"}, follow=True)
    assert response.redirect_chain[-1][0].endswith("#whys")
    assert [(w.position, w.question, w.answer) for w in WhyStep.objects.filter(requirement=requirement)] == [
        (1, "为什么交付慢？", "供应商延期"),
        (2, "为什么供应商延期？", "没有考核"),
    ]
    assert _analysis(requirement).root_cause == "缺少供应商交付考核机制"
    page = html(response)
    assert 'value="为什么供应商延期？"' in page
    assert "缺少供应商交付考核机制" in page


def test_whys_add_and_remove_rows_do_not_save(client, users, requirement):
    client.force_login(users["product_manager"])
    data = _whys(("为什么一", "因为一"), ("为什么二", "因为二"))
    added = client.post(desk(requirement, "whys"), {**data, "action": "add"}, **HTMX)
    assert added.status_code == 200
    assert added.templates[0].name == "analysis/_whys.html"  # only the editor comes back
    page = html(added)
    assert page.count('name="question"') == 3
    assert "autofocus" in page
    removed = client.post(desk(requirement, "whys"), {**data, "remove": "0"}, **HTMX)
    page = html(removed)
    assert page.count('name="question"') == 1
    assert 'value="为什么二"' in page and 'value="为什么一"' not in page
    assert not WhyStep.objects.exists()
    # Without JS the same buttons re-render the whole desk.
    full = client.post(desk(requirement, "whys"), {**data, "action": "add"})
    assert full.templates[0].name == "analysis/requirement.html"
    assert html(full).count('name="question"') == 3


def test_whys_save_with_htmx_returns_the_editor(client, users, requirement):
    client.force_login(users["product_manager"])
    data = _whys(("为什么？", "因为"), root_cause="根因")
    response = client.post(desk(requirement, "whys"), {**data, "action": "save"}, **HTMX)
    assert response.status_code == 200
    assert 'id="whys-saved"' in html(response)
    assert WhyStep.objects.filter(requirement=requirement).count() == 1


def test_a_why_without_an_answer_is_refused_and_nothing_is_saved(client, users, requirement):
    from needpool.analysis.services import whys_set

    whys_set(actor=users["manager"], requirement=requirement, steps=[("旧问题", "旧回答")], root_cause="旧根因")
    client.force_login(users["product_manager"])
    data = _whys(("为什么一", "因为一"), ("为什么二", ""), root_cause="新根因")
    response = client.post(desk(requirement, "whys"), {**data, "action": "save"}, **HTMX)
    page = html(response)
    assert 'id="whys-error"' in page
    assert "第 2 步的“为什么”和“因为”都要填写" in page
    assert "why-row-invalid" in page
    assert 'value="为什么二"' in page  # what was typed stays
    assert [(w.question, w.answer) for w in WhyStep.objects.filter(requirement=requirement)] == [("旧问题", "旧回答")]
    assert _analysis(requirement).root_cause == "旧根因"
    # Without JS: the desk with a message.
    response = client.post(desk(requirement, "whys"), {**data, "action": "save"})
    assert "5 Whys 未保存" in html(response)


def test_whys_need_a_root_cause(client, users, requirement):
    client.force_login(users["product_manager"])
    response = client.post(desk(requirement, "whys"), {**_whys(("为什么？", "因为")), "action": "save"}, **HTMX)
    assert "5 Whys 必须以根本原因结束" in html(response)
    assert not WhyStep.objects.exists()


# ---------------------------------------------------------------- fishbone


def test_fishbone_is_saved_and_drawn(client, users, requirement):
    client.force_login(users["product_manager"])
    data = {
        "fishbone_people": "采购缺少培训\n人手不足",
        "fishbone_machine": "ERP 没有交付提醒",
        "fishbone_method": "没有供应商考核机制",
        "fishbone_environment": "",
        "fishbone_material": "",
        "fishbone_measurement": "",
    }
    response = client.post(desk(requirement, "fishbone"), data, follow=True)
    assert response.redirect_chain[-1][0].endswith("#fishbone")
    causes = [(c.category, c.text) for c in FishboneCause.objects.filter(requirement=requirement).order_by("position")]
    assert causes == [
        ("people", "采购缺少培训"),
        ("people", "人手不足"),
        ("machine", "ERP 没有交付提醒"),
        ("method", "没有供应商考核机制"),
    ]
    page = html(response)
    svg = page[page.index('<svg class="fishbone"') : page.index("</svg>", page.index('<svg class="fishbone"'))]
    for label in ("人", "机", "料", "法", "环", "测"):
        assert f">{label}</text>" in svg
    assert ">采购缺少培训</text>" in svg
    assert "ERP 没有交付提醒" in svg
    assert 'class="fb-head"' in svg and 'class="fb-spine"' in svg
    assert requirement.title[:8] in svg  # the head holds the problem


def test_fishbone_with_too_many_causes_is_refused(client, users, requirement):
    client.force_login(users["product_manager"])
    data = {"fishbone_people": "\n".join(f"原因{i}" for i in range(61))}
    response = client.post(desk(requirement, "fishbone"), data)
    assert response.status_code == 200
    assert "原因太多" in html(response)
    assert not FishboneCause.objects.exists()


def test_fishbone_picture_clips_long_causes_and_counts_hidden_ones(client, users, requirement):
    from needpool.analysis.services import fishbone_set

    causes = [("people", f"第{i}个原因：" + "很长的说明" * 5) for i in range(9)]
    fishbone_set(actor=users["manager"], requirement=requirement, causes=causes)
    client.force_login(users["viewer"])
    page = html(client.get(desk(requirement)))
    assert "另有 2 条" in page
    assert "…</text>" in page
    assert "<title>第0个原因：" in page  # the full text on hover


# ---------------------------------------------------------------- feasibility and compliance


def test_feasibility_by_an_engineer(client, users, requirement):
    client.force_login(users["engineer"])
    data = {"tech_difficulty": "3", "effort_days": "12.5", "cost_estimate": "80000", "resources": "2 名后端"}
    client.post(desk(requirement, "feasibility"), data)
    analysis = _analysis(requirement)
    assert (analysis.tech_difficulty, str(analysis.effort_days), analysis.resources) == (3, "12.5", "2 名后端")


def test_feasibility_bad_input_and_refusals(client, users, requirement):
    client.force_login(users["engineer"])
    response = client.post(desk(requirement, "feasibility"), {"effort_days": "-1"})
    assert response.status_code == 200 and "未保存" in html(response)
    assert _analysis(requirement) is None
    for role in ("sales", "viewer", "compliance"):
        client.force_login(users[role])
        assert client.post(desk(requirement, "feasibility"), {"tech_difficulty": "3"}).status_code == 403
    assert _analysis(requirement) is None


def test_compliance_form_only_for_compliance(client, users, requirement):
    client.force_login(users["compliance"])
    page = html(client.get(desk(requirement)))
    assert 'id="compliance-form"' in page
    response = client.post(desk(requirement, "compliance"), {"status": "approved", "note": "无个人信息"}, follow=True)
    assert "合规结论已签署" in html(response)
    analysis = _analysis(requirement)
    assert (analysis.compliance_status, analysis.compliance_by) == ("approved", users["compliance"])
    # Not even an admin may sign.
    for role in ("admin", "manager", "product_manager", "engineer"):
        client.force_login(users[role])
        assert 'id="compliance-form"' not in html(client.get(desk(requirement)))
        assert client.post(desk(requirement, "compliance"), {"status": "rejected", "note": "x"}).status_code == 403
    analysis.refresh_from_db()
    assert analysis.compliance_status == "approved"


def test_rejecting_compliance_needs_a_note(client, users, requirement):
    client.force_login(users["compliance"])
    response = client.post(desk(requirement, "compliance"), {"status": "rejected", "note": ""})
    assert "判定不合规时必须说明原因" in html(response)
    assert _analysis(requirement) is None


# ---------------------------------------------------------------- demand


def test_demand_lists_customers_with_tier_and_importance(client, users, requirement, customer):
    client.force_login(users["manager"])
    page = html(client.get(desk(requirement)))
    assert 'id="demand-table"' in page
    assert customer.name in page
    demand = client.get(desk(requirement)).context["demand"]
    assert demand.score == 3.0  # a high-value customer (×3) with importance 1


# ---------------------------------------------------------------- Kano


def test_kano_survey_setup_gives_an_absolute_public_link(client, users, requirement):
    client.force_login(users["product_manager"])
    page = html(client.get(desk(requirement)))
    assert 'id="kano-none"' in page
    data = {
        "functional_question": "如果提供批量折扣，您觉得如何？",
        "dysfunctional_question": "如果不提供，您觉得如何？",
    }
    response = client.post(desk(requirement, "kano_survey"), data, follow=True)
    survey = KanoSurvey.objects.get(requirement=requirement)
    assert f'value="http://testserver/portal/kano/{survey.token}/"' in html(response)


def test_kano_survey_setup_needs_both_questions(client, users, requirement):
    client.force_login(users["product_manager"])
    response = client.post(desk(requirement, "kano_survey"), {"functional_question": "只有正向"})
    assert response.status_code == 200 and "未保存" in html(response)
    assert not KanoSurvey.objects.exists()


def test_staff_enter_kano_answers_for_a_customer_and_see_results(client, users, requirement, customer):
    survey = kano_survey_create(
        actor=users["manager"],
        requirement=requirement,
        functional_question="提供时？",
        dysfunctional_question="不提供时？",
    )
    kano_answer(survey=survey, functional="like", dysfunctional="dislike")  # O
    client.force_login(users["sales"])
    page = html(client.get(desk(requirement)))
    assert 'id="kano-entry-form"' in page
    assert 'id="kano-survey-form"' not in page  # sales may answer for a customer, not set up surveys
    data = {"customer": customer.pk, "functional": "like", "dysfunctional": "neutral"}  # A
    response = client.post(desk(requirement, "kano_entry"), data, follow=True)
    assert "已代客户录入" in html(response)
    entered = KanoResponse.objects.get(customer=customer)
    assert (entered.category, entered.entered_by) == ("A", users["sales"])
    page = html(response)
    assert 'id="kano-distribution"' in page
    assert "共 2 份回答" in page
    # better = (A + O) / 2 = 1.00; worse = -(O) / 2 = -0.50
    assert "1.00" in page and "-0.50" in page
    # The same customer cannot answer twice.
    response = client.post(desk(requirement, "kano_entry"), data)
    assert "该客户已经回答过此问卷" in html(response)
    assert KanoResponse.objects.count() == 2


def test_kano_entry_needs_both_answers_and_a_survey(client, users, requirement):
    client.force_login(users["sales"])
    response = client.post(desk(requirement, "kano_entry"), {"functional": "like"}, follow=True)
    assert "请先创建 Kano 问卷" in html(response)
    kano_survey_create(
        actor=users["manager"],
        requirement=requirement,
        functional_question="提供时？",
        dysfunctional_question="不提供时？",
    )
    response = client.post(desk(requirement, "kano_entry"), {"functional": "like"})
    assert "请为反向问题选择一个回答" in html(response)
    assert not KanoResponse.objects.exists()
    client.force_login(users["viewer"])
    assert (
        client.post(desk(requirement, "kano_entry"), {"functional": "like", "dysfunctional": "like"}).status_code == 403
    )


def test_desk_query_count_does_not_grow_with_whys_and_causes(client, users, requirement, django_assert_max_num_queries):
    from needpool.analysis.services import fishbone_set, whys_set

    client.force_login(users["product_manager"])
    url = desk(requirement)
    whys_set(actor=users["manager"], requirement=requirement, steps=[("a", "b")], root_cause="c")
    client.get(url)
    with django_assert_max_num_queries(40):
        client.get(url)
    from tests.conftest import count_queries

    few = count_queries(client, url)
    whys_set(
        actor=users["manager"], requirement=requirement, steps=[(f"q{i}", f"a{i}") for i in range(8)], root_cause="c"
    )
    fishbone_set(actor=users["manager"], requirement=requirement, causes=[("people", f"原因{i}") for i in range(20)])
    assert count_queries(client, url) == few
