"""Model settings (with the recompute job page) and analysis projects."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from needpool.analysis import services
from needpool.analysis.models import AnalysisProject, AnalysisSettings
from needpool.analysis.services import analysis_settings, project_create
from needpool.core.models import AuditEntry, BackgroundJob
from needpool.customers.models import Customer
from needpool.requirements.models import Requirement
from tests.analysis.pages.conftest import html
from tests.conftest import count_queries

pytestmark = pytest.mark.django_db


def _settings_post(config: AnalysisSettings | None = None, **changes: object) -> dict:
    """The settings form as the page shows it (every field at its current value), with ``changes``."""
    config = config or analysis_settings()
    weights = config.weights_3d or {"importance": 40, "urgency": 40, "cost": 20}
    data: dict[str, object] = {
        "active_model": config.active_model,
        "matrix_cutoff": config.matrix_cutoff,
        "weight_importance": weights["importance"],
        "weight_urgency": weights["urgency"],
        "weight_cost": weights["cost"],
        "threshold_matrix_3d_0": 75,
        "threshold_matrix_3d_1": 50,
        "threshold_matrix_3d_2": 25,
        "threshold_value_cost_0": 2,
        "threshold_value_cost_1": 1,
        "threshold_value_cost_2": 0.5,
        "threshold_weighted_0": 75,
        "threshold_weighted_1": 50,
        "threshold_weighted_2": 25,
        "threshold_rice_0": 100,
        "threshold_rice_1": 30,
        "threshold_rice_2": 10,
        "criteria-TOTAL_FORMS": len(config.criteria) + 2,
        "criteria-INITIAL_FORMS": len(config.criteria),
        "criteria-MIN_NUM_FORMS": 0,
        "criteria-MAX_NUM_FORMS": 20,
    }
    if config.require_whys_for_review:
        data["require_whys_for_review"] = "on"
    for i, criterion in enumerate(config.criteria):
        data[f"criteria-{i}-key"] = criterion["key"]
        data[f"criteria-{i}-label"] = criterion["label"]
        data[f"criteria-{i}-weight"] = criterion["weight"]
    data.update(changes)
    return data


# ---------------------------------------------------------------- settings


@pytest.mark.parametrize("role", ["sales", "engineer", "compliance", "viewer"])
def test_settings_are_read_only_without_analyse(client, users, role):
    client.force_login(users[role])
    response = client.get(reverse("analysis:settings"))
    assert response.status_code == 200
    page = html(response)
    assert 'id="settings-readonly"' in page
    assert "保存设置" not in page
    assert " disabled" in page
    assert client.post(reverse("analysis:settings"), _settings_post(active_model="rice")).status_code == 403
    assert analysis_settings().active_model == "matrix"


@pytest.mark.parametrize("role", ["admin", "manager", "product_manager"])
def test_settings_page_for_analysts(client, users, role):
    client.force_login(users[role])
    page = html(client.get(reverse("analysis:settings")))
    assert "保存设置" in page
    assert 'id="settings-readonly"' not in page
    assert 'name="criteria-0-key"' in page and 'value="customer_value"' in page
    assert 'name="criteria-0-weight" value="30"' in page  # as stored, not 30.0
    assert 'name="threshold_value_cost_2" value="0.5"' in page


def test_unchanged_settings_save_nothing(client, users):
    client.force_login(users["product_manager"])
    response = client.post(reverse("analysis:settings"), _settings_post(), follow=True)
    assert "没有需要保存的修改" in html(response)
    assert analysis_settings().version == 1
    assert not AuditEntry.objects.filter(object_repr="分析设置").exists()


def test_switching_the_model_recomputes_priorities_inline(client, users, requirement, score):
    score(requirement, urgency_score=1, importance_score=1, value_score=5, cost_score=1)
    requirement.refresh_from_db()
    assert requirement.priority == "P3"
    client.force_login(users["product_manager"])
    response = client.post(reverse("analysis:settings"), _settings_post(active_model="value_cost"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("analysis:settings")
    assert "优先级已重新计算" in html(response)
    config = analysis_settings()
    assert (config.active_model, config.version) == ("value_cost", 2)
    assert config.criteria[0]["weight"] == 30  # untouched settings are not rewritten
    requirement.refresh_from_db()
    assert requirement.priority == "P0"  # 5 ÷ 1 ≥ 2


def test_settings_change_weights_criteria_and_thresholds(client, users):
    client.force_login(users["manager"])
    data = _settings_post(
        weight_importance=50,
        weight_urgency=30,
        weight_cost=20,
        threshold_rice_0=200,
        **{"criteria-4-key": "ease", "criteria-4-label": "易实现", "criteria-4-weight": 10},
    )
    client.post(reverse("analysis:settings"), data)
    config = analysis_settings()
    assert config.weights_3d == {"importance": 50, "urgency": 30, "cost": 20}
    assert config.thresholds == {"rice": [200, 30, 10]}
    assert [c["key"] for c in config.criteria][-1] == "ease"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"threshold_weighted_0": 10, "threshold_weighted_1": 50}, "阈值必须从高到低"),
        ({"matrix_cutoff": 9}, "没有“9”这一项"),
        ({"criteria-0-key": "", "criteria-0-label": "无键", "criteria-0-weight": 5}, "请填写键"),
        (
            {f"criteria-{i}-{f}": "" for i in range(4) for f in ("key", "label", "weight")},
            "评分维度必须有不重复的键和数字权重",
        ),
        ({"criteria-1-key": "customer_value"}, "评分维度必须有不重复的键和数字权重"),
    ],
)
def test_bad_settings_show_messages_and_change_nothing(client, users, changes, message):
    client.force_login(users["product_manager"])
    response = client.post(reverse("analysis:settings"), _settings_post(**changes))
    assert response.status_code == 200
    page = html(response)
    assert message in page
    assert "未保存" in page
    assert analysis_settings().version == 1


def test_a_big_recompute_goes_to_a_job_page_that_polls(client, users, requirement, score, monkeypatch):
    score(requirement, urgency_score=4, importance_score=4)
    monkeypatch.setattr(services.settings, "INLINE_RECOMPUTE_LIMIT", 0)
    client.force_login(users["product_manager"])
    response = client.post(reverse("analysis:settings"), _settings_post(active_model="moscow"))
    job = BackgroundJob.objects.get(kind="priority_recompute")
    assert response.status_code == 302
    assert response["Location"] == reverse("analysis:job", args=[job.pk])
    page = html(client.get(response["Location"]))
    assert 'id="job-progress"' in page
    assert f'hx-get="{reverse("analysis:job_progress", args=[job.pk])}"' in page
    assert 'hx-trigger="every 1s"' in page
    assert '<noscript><meta http-equiv="refresh"' in page
    # While it runs the partial keeps polling; once done it stops and links to the ranked list.
    BackgroundJob.objects.filter(pk=job.pk).update(status="running", done=0, total=2)
    partial = html(client.get(reverse("analysis:job_progress", args=[job.pk])))
    assert "hx-trigger" in partial and "0%" in partial
    BackgroundJob.objects.filter(pk=job.pk).update(status="done", done=2)
    partial = html(client.get(reverse("analysis:job_progress", args=[job.pk])))
    assert "hx-trigger" not in partial
    assert "100%" in partial
    assert reverse("analysis:ranked") in partial


def test_job_page_is_404_for_others(client, users):
    job = BackgroundJob.objects.create(kind="priority_recompute", total=10, created_by=users["manager"])
    client.force_login(users["sales"])
    assert client.get(reverse("analysis:job", args=[job.pk])).status_code == 404
    assert client.get(reverse("analysis:job_progress", args=[job.pk])).status_code == 404
    other = BackgroundJob.objects.create(kind="import", total=1)
    client.force_login(users["product_manager"])
    assert client.get(reverse("analysis:job", args=[job.pk])).status_code == 200
    assert client.get(reverse("analysis:job", args=[other.pk])).status_code == 404


# ---------------------------------------------------------------- projects


@pytest.fixture
def project(users, customer):
    return project_create(
        actor=users["manager"],
        name="提升新客户转化",
        goal="提升新客户转化率",
        leader=users["product_manager"],
        start_date=dt.date(2024, 1, 1),
        end_date=dt.date(2024, 12, 31),
        scope={"industries": ["互联网"]},
        members=[(users["engineer"], "评估技术可行性")],
    )


def _project_post(**changes: object) -> dict:
    data: dict[str, object] = {
        "name": "华东制造业需求梳理",
        "goal": "找出华东制造业客户的共性需求",
        "leader": "",
        "start_date": "2024-03-01",
        "end_date": "2024-06-30",
        "industries": "制造、汽车",
        "regions": "华东",
        "segments": ["high_value"],
        "top_n_by_order": "20",
        "period_start": "2024-01-01",
        "period_end": "",
        "members": "engineer: 评估技术可行性\nsales：访谈重点客户",
    }
    data.update(changes)
    return data


@pytest.mark.parametrize("role", ["admin", "manager", "product_manager", "engineer", "viewer", "compliance"])
def test_project_list_for_pool_wide_roles(client, users, project, role):
    client.force_login(users[role])
    response = client.get(reverse("analysis:projects"))
    assert response.status_code == 200
    assert "提升新客户转化" in html(response)


def test_project_list_for_sales_shows_only_their_projects(client, users, project):
    client.force_login(users["sales"])
    page = html(client.get(reverse("analysis:projects")))
    assert "提升新客户转化" not in page
    assert "新建分析项目" not in page
    assert client.get(reverse("analysis:project", args=[project.pk])).status_code == 404
    assert client.get(reverse("analysis:project_edit", args=[project.pk])).status_code == 404


def test_create_project(client, users):
    client.force_login(users["product_manager"])
    assert client.get(reverse("analysis:project_create")).status_code == 200
    response = client.post(reverse("analysis:project_create"), _project_post(leader=users["manager"].pk), follow=True)
    project = AnalysisProject.objects.get()
    assert response.redirect_chain[-1][0] == reverse("analysis:project", args=[project.pk])
    assert project.scope == {
        "industries": ["制造", "汽车"],
        "regions": ["华东"],
        "segments": ["high_value"],
        "top_n_by_order": 20,
        "period_start": "2024-01-01",
    }
    assert sorted((m.user.username, m.duty) for m in project.members.all()) == [
        ("engineer", "评估技术可行性"),
        ("sales", "访谈重点客户"),
    ]
    page = html(response)
    assert "已创建" in page
    assert "订单金额前 20 名" in page
    assert "评估技术可行性" in page


@pytest.mark.parametrize("role", ["sales", "engineer", "viewer", "compliance"])
def test_create_project_is_refused_without_analyse(client, users, role):
    client.force_login(users[role])
    assert client.get(reverse("analysis:project_create")).status_code == 403
    assert client.post(reverse("analysis:project_create"), _project_post(leader=users[role].pk)).status_code == 403
    assert not AnalysisProject.objects.exists()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"members": "nobody: 不存在"}, "没有这些用户：nobody"),
        ({"end_date": "2024-01-01"}, "结束日期不能早于开始日期"),
        ({"name": ""}, "请填写项目名称"),
        ({"period_start": "2024-09-01", "period_end": "2024-01-01"}, "范围的开始日期不能晚于结束日期"),
    ],
)
def test_bad_project_input_shows_messages_and_writes_nothing(client, users, changes, message):
    client.force_login(users["product_manager"])
    response = client.post(reverse("analysis:project_create"), _project_post(leader=users["manager"].pk, **changes))
    assert response.status_code == 200
    page = html(response)
    assert message in page
    assert 'id="project-errors"' in page
    assert not AnalysisProject.objects.exists()


def test_leader_edits_the_scope_and_the_history_shows_it(client, users, project):
    client.force_login(users["product_manager"])  # the leader
    url = reverse("analysis:project_edit", args=[project.pk])
    page = html(client.get(url))
    assert 'value="互联网"' in page
    assert "engineer: 评估技术可行性" in page
    data = _project_post(
        name=project.name,
        goal=project.goal,
        leader=project.leader_id,
        start_date="2024-01-01",
        end_date="2024-12-31",
        industries="互联网、制造",
        regions="",
        segments=[],
        top_n_by_order="",
        period_start="",
        members="engineer: 评估技术可行性",
    )
    response = client.post(url, data, follow=True)
    project.refresh_from_db()
    assert project.scope == {"industries": ["互联网", "制造"]}
    history = response.context["history"]
    assert any(row["field"] == "scope" for item in history for row in item["rows"])
    page = html(response)
    assert "分析范围" in page
    assert "行业：互联网、制造" in page  # the scope change, readable
    assert "{&#x27;industries&#x27;" not in page


def test_only_leader_and_analysts_may_edit(client, users, project):
    client.force_login(users["engineer"])  # a member, not the leader
    assert client.get(reverse("analysis:project", args=[project.pk])).status_code == 200
    assert client.get(reverse("analysis:project_edit", args=[project.pk])).status_code == 403
    assert client.post(reverse("analysis:project_edit", args=[project.pk]), _project_post()).status_code == 403


def test_project_detail_shows_only_in_scope_needs(client, users, project, requirement, score, make_requirements):
    score(requirement, urgency_score=5, importance_score=5)
    others = make_requirements(3)  # customers without an industry: out of scope
    for other in others:
        score(other, urgency_score=2, importance_score=2)
    client.force_login(users["manager"])
    response = client.get(reverse("analysis:project", args=[project.pk]))
    assert response.status_code == 200
    page = html(response)
    assert [row["requirement"].pk for row in response.context["rows"]] == [requirement.pk]
    assert [p["id"] for p in response.context["points"]] == [requirement.pk]
    assert [d["requirement"].pk for d in response.context["demand"]] == [requirement.pk]
    assert response.context["counts"]["total"] == 1
    assert "范围内需求 1 条" in page
    for other in others:
        assert other.code not in page
    assert 'id="matrix-chart"' in page
    assert "互联网" in page


def _grow(make_requirements, score, customers, n):
    made = make_requirements(n)
    Customer.objects.filter(name__startswith="需求客户").update(industry="互联网")
    for i, requirement in enumerate(made):
        score(requirement, urgency_score=i % 5 + 1, importance_score=(i + 2) % 5 + 1)
    return made


def test_project_detail_query_count_is_constant(client, users, project, make_requirements, score):
    client.force_login(users["manager"])
    url = reverse("analysis:project", args=[project.pk])
    _grow(make_requirements, score, None, 3)
    client.get(url)
    few = count_queries(client, url)
    _grow(make_requirements, score, None, 30)
    assert Requirement.objects.count() == 33
    response = client.get(url)
    assert response.context["counts"]["total"] == 33
    assert count_queries(client, url) == few


def test_project_list_query_count_is_constant(client, users, project):
    client.force_login(users["manager"])
    url = reverse("analysis:projects")
    client.get(url)
    few = count_queries(client, url)
    for i in range(20):
        project_create(
            actor=users["manager"],
            name=f"项目{i}",
            goal="目标",
            leader=users["product_manager"],
            start_date=dt.date(2024, 1, 1),
            end_date=dt.date(2024, 2, 1),
            members=[(users["engineer"], "评估"), (users["sales"], "访谈")],
        )
    assert count_queries(client, url) == few
