"""Analysis projects over the API: create, read, edit per role; requirements in scope and the summary."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from needpool.analysis.models import AnalysisProject, ProjectMember
from needpool.analysis.services import analysis_update, project_create
from needpool.core.models import AuditEntry
from tests.analysis.api.conftest import ANALYSTS, NON_ANALYSTS, assert_constant_queries
from tests.conftest import ALL_ROLES

LIST = "/api/v1/analysis/projects/"


def detail(project, tail=""):
    return f"{LIST}{project.pk}/{tail}"


def payload(users, **extra):
    return {
        "name": "制造业转化提升",
        "goal": "提高制造业新客户转化率",
        "leader": users["product_manager"].pk,
        "start_date": "2024-01-01",
        "end_date": "2024-06-30",
        "scope": {"industries": ["制造"], "top_n_by_order": 20},
        "members": [{"user": users["sales"].pk, "duty": "客户访谈"}, {"user": users["engineer"].pk}],
        **extra,
    }


@pytest.fixture
def project(users):
    return project_create(
        actor=users["manager"],
        name="制造业专项",
        goal="制造业客户需求梳理",
        leader=users["product_manager"],
        start_date=dt.date(2024, 1, 1),
        end_date=dt.date(2024, 12, 31),
        scope={"industries": ["制造"]},
        members=[(users["service"], "整理反馈")],
    )


# ---------------------------------------------------------------- create


@pytest.mark.parametrize("role", ANALYSTS)
def test_analysts_create_projects(api, users, role):
    response = api(users[role]).post(LIST, payload(users), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "制造业转化提升"
    assert body["leader"] == users["product_manager"].pk
    assert body["leader_name"]
    assert body["scope"] == {"industries": ["制造"], "top_n_by_order": 20}
    assert sorted((m["user"], m["duty"]) for m in body["members"]) == sorted(
        [(users["sales"].pk, "客户访谈"), (users["engineer"].pk, "")]
    )
    assert body["created_by"] == users[role].pk
    assert body["url"].endswith(f"{LIST}{body['id']}/")


@pytest.mark.parametrize("role", NON_ANALYSTS)
def test_other_roles_may_not_create_projects(api, users, role):
    response = api(users[role]).post(LIST, payload(users), format="json")
    assert response.status_code == 403, response.content
    assert not AnalysisProject.objects.exists()


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"name": ""}, "name"),
        ({"leader": None}, "leader"),
        ({"leader": 99999}, "leader"),
        ({"end_date": "2023-12-31"}, "end_date"),
        ({"scope": {"top_n_by_order": 0}}, "scope"),
        ({"scope": {"period_start": "2024-05-01", "period_end": "2024-04-01"}}, "scope"),
        ({"members": [{"user": 99999, "duty": "x"}]}, "members"),
        ({"members": [{"user": 1, "duty": "长" * 201}]}, "members"),
    ],
)
def test_bad_project_is_400_and_writes_nothing(api, users, extra, field):
    audits = AuditEntry.objects.count()
    response = api(users["manager"]).post(LIST, payload(users, **extra), format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not AnalysisProject.objects.exists()
    assert not ProjectMember.objects.exists()
    assert AuditEntry.objects.count() == audits


def test_no_delete(api, users, project):
    assert api(users["admin"]).delete(detail(project)).status_code == 405
    assert AnalysisProject.objects.filter(pk=project.pk).exists()


# ---------------------------------------------------------------- read


@pytest.mark.parametrize("role", ALL_ROLES)
def test_who_sees_a_project(api, users, project, role):
    """Pool-wide roles, the leader and members see it; sales (not a member) does not."""
    client = api(users[role])
    visible = role != "sales"
    assert [p["id"] for p in client.get(LIST).json()["results"]] == ([project.pk] if visible else [])
    assert client.get(detail(project)).status_code == (200 if visible else 404)


# ---------------------------------------------------------------- edit


@pytest.mark.parametrize("role", ANALYSTS)
def test_analysts_edit_projects(api, users, project, role):
    response = api(users[role]).patch(
        detail(project), {"goal": "新目标", "members": [{"user": users["engineer"].pk, "duty": "评估"}]}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["goal"] == "新目标"
    assert [(m["user"], m["duty"]) for m in body["members"]] == [(users["engineer"].pk, "评估")]
    assert body["scope"] == {"industries": ["制造"]}


def test_the_leader_edits_the_project(api, users, make_user, project):
    leader = make_user("service", username="leader-service", team=users["service"].team)
    api(users["manager"]).patch(detail(project), {"leader": leader.pk}, format="json")
    response = api(leader).put(
        detail(project),
        {
            "name": "改名",
            "goal": "目标",
            "leader": leader.pk,
            "start_date": "2024-02-01",
            "end_date": "2024-03-01",
            "scope": {"regions": ["华东"]},
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["scope"] == {"regions": ["华东"]}
    assert response.json()["members"][0]["user"] == users["service"].pk  # members not sent: kept


@pytest.mark.parametrize("role", ["service", "engineer", "compliance", "viewer"])
def test_members_and_readers_may_not_edit(api, users, project, role):
    response = api(users[role]).patch(detail(project), {"goal": "改"}, format="json")
    assert response.status_code == 403, response.content
    project.refresh_from_db()
    assert project.goal == "制造业客户需求梳理"


def test_outsider_edit_is_404(api, users, project):
    assert api(users["sales"]).patch(detail(project), {"goal": "改"}, format="json").status_code == 404


def test_bad_edit_is_400_and_writes_nothing(api, users, project):
    response = api(users["manager"]).patch(detail(project), {"scope": {"top_n_by_order": -3}}, format="json")
    assert response.status_code == 400
    assert "scope" in response.json()
    project.refresh_from_db()
    assert project.scope == {"industries": ["制造"]}


# ---------------------------------------------------------------- requirements and summary


def test_project_requirements_are_those_in_scope(api, users, project, pool):
    r2 = pool["r2"]  # the only requirement with feedback from a 制造 customer
    analysis_update(actor=users["product_manager"], requirement=r2, urgency_score=4, importance_score=4)
    body = api(users["manager"]).get(detail(project, "requirements/")).json()
    assert body["count"] == 1
    row = body["results"][0]
    assert (row["code"], row["priority"], row["computed_priority"]) == (r2.code, "P0", "P0")
    assert row["parts"]["urgency"] == 4.0


def test_project_summary(api, users, project, pool):
    r2 = pool["r2"]
    analysis_update(actor=users["product_manager"], requirement=r2, urgency_score=2, importance_score=4)
    body = api(users["viewer"]).get(detail(project, "summary/")).json()
    assert body["counts"] == {"total": 1, "by_priority": {"P1": 1}, "by_status": {"active": 1}}
    assert [(p["code"], p["urgency"], p["importance"]) for p in body["points"]] == [(r2.code, 2, 4)]
    assert [(d["code"], d["customers"]) for d in body["demand"]] == [(r2.code, 1)]


def test_project_views_are_404_for_outsiders(api, users, project):
    client = api(users["sales"])
    assert client.get(detail(project, "requirements/")).status_code == 404
    assert client.get(detail(project, "summary/")).status_code == 404


@pytest.mark.parametrize("role", ["manager", "service"])
def test_project_requirements_do_not_grow_queries_with_rows(api, users, project, customer_b, role):
    from needpool.requirements.services import requirement_create

    def add(n: int) -> None:
        for i in range(n):
            req = requirement_create(
                actor=users["manager"],
                customer=customer_b,
                title=f"制造业需求{i}{timezone.now().timestamp()}",
                priority="P2",
            )
            analysis_update(
                actor=users["product_manager"], requirement=req, urgency_score=3, importance_score=1 + i % 5
            )

    # service is a member but sees no customer B requirement: scope rows stay within what one may see
    client = api(users[role])
    if role == "service":
        add(3)
        assert client.get(detail(project, "requirements/")).json()["count"] == 0
        return
    count = assert_constant_queries(
        client, detail(project, "requirements/"), add, lambda body: body["count"], params={"page_size": 50}
    )
    assert count <= 8
