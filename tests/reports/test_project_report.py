"""The analysis-project report: only the requirements in the project's scope (as the reader may open them),
every figure against a hand-counted fixture, 404 for a project the reader may not see, the page and its
query count."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from needpool.analysis.models import AnalysisProject
from needpool.analysis.selectors import project_counts
from needpool.analysis.services.projects import project_create
from needpool.customers.services import customer_create
from needpool.reports import project_report
from needpool.reports.document import Chart, Report, Table, Text
from needpool.requirements.models import Feedback, Requirement, WorkflowStatus
from needpool.requirements.services import requirement_create
from tests.conftest import PASSWORD, count_queries

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def client_for(user: Any) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def set_status(requirement: Requirement, key: str) -> None:
    status = WorkflowStatus.objects.get(workflow=requirement.status.workflow, key=key)
    Requirement.objects.filter(pk=requirement.pk).update(status=status)


@pytest.fixture
def story(users: dict[str, Any]) -> dict[str, Any]:
    """Scope: industry 制造. M1 (制造, sales's) a P0 已上线 · b P1 待处理 · f P2 待处理; M2 (制造, the product
    manager's) c P1 处理中 · d (no priority) 已拒绝; R1 (零售) e P0 — out of scope.
    The product manager counts a, b, c, d, f; sales (a member) only M1's a, b, f."""
    sales, pm = users["sales"], users["product_manager"]
    m1 = customer_create(actor=sales, name="华东机床", industry="制造", owner=sales, segment="high_value")
    m2 = customer_create(actor=pm, name="华南五金", industry="制造", owner=pm, segment="potential")
    r1 = customer_create(actor=sales, name="北方超市", industry="零售", owner=sales)

    def need(actor: Any, customer: Any, title: str, priority: str, days_ago: int) -> Requirement:
        return requirement_create(
            actor=actor,
            customer=customer,
            title=title,
            description=title,
            background="背景",
            concrete_ask="诉求",
            priority=priority,
            submitted_at=NOW - dt.timedelta(days=days_ago),
        )

    a = need(sales, m1, "设备联网监控", "P0", 40)
    set_status(a, "launched")
    b = need(sales, m1, "批量导入工单", "P1", 30)
    f = need(sales, m1, "移动端审批", "P2", 5)
    c = need(pm, m2, "库存预警", "P1", 20)
    set_status(c, "in_progress")
    d = need(pm, m2, "界面换肤", "", 10)
    set_status(d, "rejected")
    e = need(sales, r1, "会员积分", "P0", 15)
    project = project_create(
        actor=pm,
        name="制造业客户需求分析",
        goal="提升制造业客户续约率\n找出影响续约的需求",
        leader=pm,
        start_date=dt.date(2026, 1, 1),
        end_date=dt.date(2026, 12, 31),
        scope={"industries": ["制造"]},
        members=[(sales, "访谈客户")],
    )
    return {"project": project, "m1": m1, "m2": m2, "r": {"a": a, "b": b, "c": c, "d": d, "e": e, "f": f}}


def figure(report: Report, key: str) -> Any:
    found = report.figure(key)
    assert found is not None, key
    return found.value


def table(report: Report, key: str) -> Table:
    block = report.block(key)
    assert isinstance(block, Table), key
    return block


def chart(report: Report, key: str) -> Chart:
    block = report.block(key)
    assert isinstance(block, Chart), key
    return block


def test_the_report_counts_the_scope_only(story: dict[str, Any], users: Any) -> None:
    report = project_report.build(users["product_manager"], story["project"], NOW)
    assert report.kind == "project" and report.title == "分析项目报告 · 制造业客户需求分析"
    assert report.subtitle == "提升制造业客户续约率"
    assert figure(report, "total") == 5  # e is a 零售 customer's
    assert figure(report, "resolved") == 1
    assert figure(report, "fulfilment_rate") == 20.0
    assert chart(report, "by_priority").categories == ["P0", "P1", "P2", "P3", "未定"]
    assert chart(report, "by_priority").series[0].values == [1, 2, 1, 0, 1]
    status = chart(report, "by_status")
    assert dict(zip(status.categories, status.series[0].values, strict=True)) == {
        "未处理": 2,
        "处理中": 1,
        "已完成": 1,
        "暂缓": 0,
        "已拒绝": 1,
    }
    assert table(report, "top_customers").rows == [
        [story["m1"].code, "华东机床", "高价值", 3],
        [story["m2"].code, "华南五金", "潜力", 2],
    ]
    assert table(report, "top_customers").hrefs[0][0] == reverse("reports:customer", args=[story["m1"].pk])


def test_the_about_section_names_goal_scope_leader_period_and_team(story: dict[str, Any], users: Any) -> None:
    report = project_report.build(users["product_manager"], story["project"], NOW)
    assert figure(report, "leader") == str(users["product_manager"])
    assert figure(report, "period") == "2026-01-01 — 2026-12-31"
    goal = report.block("goal")
    scope = report.block("scope")
    assert isinstance(goal, Text) and goal.body.startswith("提升制造业客户续约率")
    assert isinstance(scope, Text) and scope.items == ["行业：制造"]
    assert table(report, "team").rows == [[str(users["sales"]), "访谈客户"]]


def test_the_figures_agree_with_the_project_page(story: dict[str, Any], users: Any) -> None:
    for reader in (users["product_manager"], users["sales"]):
        report = project_report.build(reader, story["project"], NOW)
        assert figure(report, "total") == project_counts(story["project"], user=reader)["total"]


def test_a_member_rep_counts_only_what_they_may_open(story: dict[str, Any], users: Any) -> None:
    report = project_report.build(users["sales"], story["project"], NOW)
    assert figure(report, "total") == 3  # a, b, f: M2 is not the rep's customer
    assert figure(report, "fulfilment_rate") == pytest.approx(33.3)
    assert chart(report, "by_priority").series[0].values == [1, 1, 1, 0, 0]
    assert [row[1] for row in table(report, "top_customers").rows] == ["华东机床"]


def test_a_scope_period_limits_the_figures(story: dict[str, Any], users: Any) -> None:
    start = timezone.localdate(NOW - dt.timedelta(days=25))
    project = story["project"]
    AnalysisProject.objects.filter(pk=project.pk).update(
        scope={"industries": ["制造"], "period_start": start.isoformat()}
    )
    project.refresh_from_db()
    report = project_report.build(users["product_manager"], project, NOW)
    assert figure(report, "total") == 3  # c, d, f: a and b were submitted before the period
    assert f"需求提交 {start.isoformat()} 至 {timezone.localdate(NOW).isoformat()}" in report.scope


def test_an_empty_scope_reads_as_nothing_yet(users: Any) -> None:
    pm = users["product_manager"]
    project = project_create(
        actor=pm,
        name="农业",
        goal="农业客户",
        leader=pm,
        start_date=dt.date(2026, 1, 1),
        end_date=dt.date(2026, 3, 31),
        scope={"industries": ["农业"]},
    )
    report = project_report.build(pm, project, NOW)
    assert figure(report, "total") == 0 and figure(report, "fulfilment_rate") is None
    assert table(report, "top_customers").rows == []
    assert table(report, "top_customers").note == "范围内的需求还没有客户反馈"


def test_a_requirement_with_two_in_scope_customers_counts_once(story: dict[str, Any], users: Any) -> None:
    Feedback.objects.create(
        customer=story["m2"], requirement=story["r"]["a"], channel="sales", raw_text="也要", received_at=NOW
    )
    report = project_report.build(users["product_manager"], story["project"], NOW)
    assert figure(report, "total") == 5
    assert [row[3] for row in table(report, "top_customers").rows] == [3, 3]


def test_who_may_not_see_the_project_gets_404(story: dict[str, Any], other_sales: Any) -> None:
    with pytest.raises(Http404):
        project_report.build(other_sales, story["project"], NOW)
    with pytest.raises(Http404):
        project_report.build_from_query(other_sales, {"project": str(story["project"].pk)})
    assert client_for(other_sales).get(reverse("reports:project", args=[story["project"].pk])).status_code == 404


@pytest.mark.parametrize("bad", [{}, {"project": ""}, {"project": "abc"}, {"project": "9" * 30}])
def test_build_from_query_refuses_what_names_no_project(users: Any, bad: dict[str, str]) -> None:
    with pytest.raises(ValidationError) as caught:
        project_report.build_from_query(users["manager"], bad)
    assert "project" in caught.value.message_dict


def test_build_from_query_builds_the_same_report(story: dict[str, Any], users: Any) -> None:
    report = project_report.build_from_query(users["manager"], {"project": str(story["project"].pk)})
    assert figure(report, "total") == 5


def test_the_page_and_the_link_from_the_project(story: dict[str, Any], users: Any) -> None:
    project = story["project"]
    client = client_for(users["product_manager"])
    url = reverse("reports:project", args=[project.pk])
    assert url == f"/reports/projects/{project.pk}/"
    html = client.get(url).content.decode()
    assert "分析项目报告 · 制造业客户需求分析" in html and "华东机床" in html and "北方超市" not in html
    assert f'href="{url}"' in client.get(reverse("analysis:project", args=[project.pk])).content.decode()
    assert '<input type="hidden" name="kind" value="project">' in html
    assert f'<input type="hidden" name="project" value="{project.pk}">' in html


def test_the_page_query_count_does_not_grow_with_the_scope(
    story: dict[str, Any], users: Any, django_assert_max_num_queries: Any
) -> None:
    client = client_for(users["product_manager"])
    url = reverse("reports:project", args=[story["project"].pk])
    few = count_queries(client, url)
    assert few <= 40  # the summary's aggregates, the project, its team, the scope's counts and customers
    for i in range(8):
        client_row = customer_create(actor=users["sales"], name=f"制造客户{i}", industry="制造")
        requirement_create(
            actor=users["sales"],
            customer=client_row,
            title=f"需求{i}",
            description="d",
            background="b",
            concrete_ask="c",
            priority=["P0", "P1", "P2", "P3"][i % 4],
        )
    assert count_queries(client, url) == few
    with django_assert_max_num_queries(few):
        assert client.get(url).status_code == 200
