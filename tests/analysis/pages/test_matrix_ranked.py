"""The matrix page (charts + table fallback) and the ranked list."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse

from needpool.analysis.services import priority_override
from needpool.requirements.models import Requirement
from tests.analysis.pages.conftest import html
from tests.conftest import count_queries

pytestmark = pytest.mark.django_db
ROLES = ["admin", "manager", "product_manager", "sales", "service", "engineer", "compliance", "viewer"]


def _json_script(page: str, element_id: str) -> object:
    match = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', page, re.S)
    assert match, f"no json_script #{element_id}"
    return json.loads(match.group(1))


# ---------------------------------------------------------------- matrix


@pytest.mark.parametrize("role", ROLES)
def test_matrix_page_renders_for_every_role(client, users, requirement, score, role):
    score(requirement, urgency_score=4, importance_score=5, value_score=4, cost_score=2)
    client.force_login(users[role])
    response = client.get(reverse("analysis:matrix"))
    assert response.status_code == 200
    page = html(response)
    assert 'id="matrix-chart"' in page
    assert "vendor/echarts.min.js" in page and "needpool/analysis.js" in page
    points = _json_script(page, "matrix-data")
    assert points == [
        {
            "id": requirement.pk,
            "code": requirement.code,
            "title": requirement.title,
            "priority": "P0",
            "urgency": 4,
            "importance": 5,
            "value": 4,
            "cost": 2,
            "effort": None,
            "computed": "P0",
            "overridden": False,
            "reason": "",
            "url": reverse("analysis:requirement", args=[requirement.pk]),
        }
    ]
    assert _json_script(page, "matrix-config")["cutoff"] == 3
    assert _json_script(page, "value-effort-data")[0]["effort"] == 2  # the cost score while no days are estimated
    # The table fallback lists the same point with a link to its analysis page.
    assert f'href="/analysis/requirements/{requirement.pk}/"' in page
    assert 'class="matrix-row"' in page


def test_matrix_page_is_scoped_to_what_the_user_sees(client, users, outsider, requirement, score):
    score(requirement, urgency_score=4, importance_score=5)
    client.force_login(outsider)
    page = html(client.get(reverse("analysis:matrix")))
    assert _json_script(page, "matrix-data") == []
    assert requirement.code not in page
    assert 'id="matrix-chart"' not in page  # an empty state instead of an empty canvas


def test_matrix_filters_live_in_the_url(client, users, scored):
    made = scored(6)
    client.force_login(users["manager"])
    response = client.get(reverse("analysis:matrix"), {"priority": "P0"})
    points = _json_script(html(response), "matrix-data")
    expected = {r.pk for r in Requirement.objects.filter(pk__in=[m.pk for m in made], priority="P0")}
    assert expected and {p["id"] for p in points} == expected
    assert 'value="P0" selected' in html(response)


def test_status_filter_lists_the_statuses_requirements_hold_after_a_flow_switch(client, users, make_requirements):
    from needpool.requirements.models import Workflow, WorkflowStatus
    from needpool.requirements.services import workflow_activate

    old_new, old_testing = make_requirements(2)  # in the standard flow
    Requirement.objects.filter(pk=old_testing.pk).update(
        status=WorkflowStatus.objects.get(workflow__key="standard", key="testing")
    )
    workflow_activate(actor=users["admin"], workflow=Workflow.objects.get(key="reviewed"))
    new_analyse, new_testing = make_requirements(2)  # in the reviewed flow
    Requirement.objects.filter(pk=new_testing.pk).update(
        status=WorkflowStatus.objects.get(workflow__key="reviewed", key="testing")
    )
    client.force_login(users["manager"])
    choices = dict(client.get(reverse("analysis:matrix")).context["filter_form"].fields["status"].choices)
    reviewed = WorkflowStatus.objects.filter(workflow__key="reviewed").exclude(key="testing")
    assert {s.key: s.label for s in reviewed}.items() <= choices.items()  # the active flow's, all of them
    assert choices["new"] == "待处理"  # the old flow's, held by a requirement; its own name when unique
    assert choices["standard:testing"] == "测试中（标准流程）"
    assert choices["reviewed:testing"] == "测试中（评审流程）"
    assert "launched" not in {value.rpartition(":")[2] for value in choices if value.startswith("standard:")}
    assert len(choices) == 1 + reviewed.count() + 3  # 全部, the reviewed flow's, 待处理 and the two 测试中

    url = reverse("analysis:ranked")
    for status, expected in (
        ("new", [old_new]),
        ("to_analyse", [new_analyse]),
        ("standard:testing", [old_testing]),
        ("reviewed:testing", [new_testing]),
        ("testing", [old_testing, new_testing]),  # a bare key: that status in every flow
    ):
        response = client.get(url, {"status": status})
        assert {row["requirement"].pk for row in response.context["rows"]} == {r.pk for r in expected}, status
        assert not response.context["filter_form"]["status"].errors
    client.cookies["django_language"] = "en"
    english = dict(client.get(reverse("analysis:matrix")).context["filter_form"].fields["status"].choices)
    assert english["standard:testing"] == "Testing (标准流程)"


def test_matrix_leaves_out_requirements_without_both_scores(client, users, requirement, score):
    score(requirement, urgency_score=4)
    client.force_login(users["manager"])
    page = html(client.get(reverse("analysis:matrix")))
    assert _json_script(page, "matrix-data") == []


def test_matrix_query_count_is_constant(client, users, scored, django_assert_max_num_queries):
    client.force_login(users["product_manager"])
    url = reverse("analysis:matrix")
    scored(3)
    client.get(url)
    few = count_queries(client, url)
    scored(30)
    assert count_queries(client, url) == few
    with django_assert_max_num_queries(20):
        client.get(url)


# ---------------------------------------------------------------- ranked list


@pytest.mark.parametrize("role", ROLES)
def test_ranked_list_renders_for_every_role(client, users, requirement, score, role):
    score(requirement, urgency_score=4, importance_score=5)
    client.force_login(users[role])
    response = client.get(reverse("analysis:ranked"))
    assert response.status_code == 200
    page = html(response)
    assert requirement.code in page
    assert "紧急 4 ≥ 3 · 重要 5 ≥ 3 → P0" in page  # why is this P0?


def test_ranked_list_orders_by_priority_then_score_and_shows_overrides(client, users, make_requirements, score):
    low, high, top, unscored = make_requirements(4)
    score(low, urgency_score=1, importance_score=1)  # P3
    score(high, urgency_score=3, importance_score=3)  # P0, lower score
    score(top, urgency_score=5, importance_score=5)  # P0, top score
    priority_override(actor=users["manager"], requirement=low, priority="P1", reason="大客户续约的关键条件")
    client.force_login(users["product_manager"])
    response = client.get(reverse("analysis:ranked"))
    codes = [row["requirement"].code for row in response.context["rows"]]
    assert codes == [top.code, high.code, low.code, unscored.code]
    page = html(response)
    assert "人工调整：大客户续约的关键条件" in page
    assert 'data-bs-toggle="tooltip"' in page
    assert "紧急 1 &lt; 3 · 重要 1 &lt; 3 → P3" in page  # the computed reason stays beside the override
    assert "未评分" in page


def test_ranked_list_leaves_out_rejected_and_merged_requirements(client, users, make_requirements, score):
    from needpool.requirements.services import requirement_transition

    kept, rejected, merged = make_requirements(3)
    for requirement in (kept, rejected, merged):
        score(requirement, urgency_score=5, importance_score=5)
    requirement_transition(actor=users["product_manager"], requirement=rejected, to="rejected")
    Requirement.objects.filter(pk=merged.pk).update(merged_into=kept)
    client.force_login(users["product_manager"])
    response = client.get(reverse("analysis:ranked"))
    assert [row["requirement"].code for row in response.context["rows"]] == [kept.code]
    assert rejected.code not in html(response)


def test_ranked_list_shows_why_for_threshold_models(client, users, requirement, score):
    from needpool.analysis.services import analysis_settings_update

    analysis_settings_update(actor=users["manager"], active_model="value_cost")
    score(requirement, value_score=4, cost_score=2)
    client.force_login(users["manager"])
    page = html(client.get(reverse("analysis:ranked")))
    assert "价值 4 ÷ 成本 2 = 2 ≥ 2 → P0" in page


def test_ranked_list_shows_missing_inputs(client, users, requirement, score):
    score(requirement, urgency_score=4)
    client.force_login(users["manager"])
    page = html(client.get(reverse("analysis:ranked")))
    assert "无法计算" in page


def test_ranked_list_is_scoped_and_paginated(client, users, outsider, scored):
    scored(27)
    client.force_login(outsider)
    assert client.get(reverse("analysis:ranked")).context["page_obj"].paginator.count == 0
    client.force_login(users["manager"])
    response = client.get(reverse("analysis:ranked"), {"page": 2})
    assert response.context["page_obj"].paginator.count == 27
    assert len(response.context["rows"]) == 2
    assert ">26<" in html(response)  # rank numbers continue on page 2


def test_ranked_list_query_count_is_constant(client, users, scored, django_assert_max_num_queries):
    client.force_login(users["product_manager"])
    url = reverse("analysis:ranked")
    made = scored(3)
    priority_override(actor=users["manager"], requirement=made[0], priority="P0", reason="战略客户")
    client.get(url)
    few = count_queries(client, url)
    scored(30)
    assert count_queries(client, url) == few
    with django_assert_max_num_queries(20):
        client.get(url)


def test_sales_query_count_on_ranked_list_is_constant(client, users, scored):
    client.force_login(users["sales"])
    url = reverse("analysis:ranked")
    scored(3)
    client.get(url)
    few = count_queries(client, url)
    scored(20)
    assert count_queries(client, url) == few


def test_analysis_nav_links_every_page(client, users):
    client.force_login(users["viewer"])
    page = html(client.get(reverse("analysis:matrix")))
    for name in ("analysis:matrix", "analysis:ranked", "analysis:projects", "analysis:settings"):
        assert f'href="{reverse(name)}"' in page
