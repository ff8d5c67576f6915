"""The per-customer needs report: every figure against a hand-counted fixture, the reader's scope (a customer
they may not see is 404; requirements they may not open are never counted), the page and its query count."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from needpool.customers.models import Customer, FollowUpReminder
from needpool.customers.services import interaction_create
from needpool.loop.models import NpsCampaign, SurveyInvitation
from needpool.reports import customer_report
from needpool.reports.document import Chart, Report, Table, Text
from needpool.requirements.models import Feedback, Requirement, WorkflowStatus
from needpool.requirements.services import requirement_create
from tests.conftest import PASSWORD, option

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def client_for(user: Any) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def set_status(requirement: Requirement, key: str) -> None:
    status = WorkflowStatus.objects.get(workflow=requirement.status.workflow, key=key)
    Requirement.objects.filter(pk=requirement.pk).update(status=status)


def need(actor: Any, customer: Customer, title: str, *, source: str | None, priority: str = "", **extra: Any) -> Any:
    return requirement_create(
        actor=actor,
        customer=customer,
        title=title,
        description=title,
        background="背景",
        concrete_ask="诉求",
        source=option("source", source) if source else None,
        priority=priority,
        **extra,
    )


def answer(kind: str, customer: Customer, score: int, at: dt.datetime, **subject: Any) -> SurveyInvitation:
    return SurveyInvitation.objects.create(
        kind=kind,
        customer=customer,
        email="wang@a-tech.com.cn",
        token_hash=uuid.uuid4().hex,
        created_at=at,
        expires_at=at + dt.timedelta(days=30),
        score=score,
        answered_at=at,
        **subject,
    )


@pytest.fixture
def story(users: dict[str, Any], customer: Customer, customer_b: Customer) -> dict[str, Any]:
    """Customer A (owned by sales), hand-counted:

    visible to sales:  r1 显性 P0 待处理 · r2 显性 P1 处理中 · r3 隐性 P2 已上线 · r4 隐性 (no priority) 暂缓 ·
                       r5 unmarked P1 已拒绝
    admin only:        r9 显性 P1 已关闭 (customer B's, with a vote from A that opens nothing to sales)
    never counted:     r6 merged into r1 · r7 deleted · r8 customer B only
    CSAT: r1 5, r2 3, r9 1 (admin: 3.0 of 3; sales: 4.0 of 2) · NPS: 6 then 9 (latest 9, 推荐者)
    """
    sales, pm = users["sales"], users["product_manager"]
    r1 = need(sales, customer, "实时监控大屏", source="explicit", priority="P0")
    r2 = need(sales, customer, "开放 API 接口", source="explicit", priority="P1")
    set_status(r2, "in_progress")
    r3 = need(sales, customer, "降低运营成本", source="implicit", priority="P2")
    set_status(r3, "launched")
    r4 = need(sales, customer, "担心数据迁移工作量", source="implicit")
    set_status(r4, "deferred")
    r5 = need(sales, customer, "界面换肤", source=None, priority="P1")
    set_status(r5, "rejected")
    r6 = need(sales, customer, "实时监控（重复）", source="explicit", priority="P0")
    Requirement.objects.filter(pk=r6.pk).update(merged_into=r1, merged_at=timezone.now())
    r7 = need(sales, customer, "已删除的需求", source="explicit", priority="P0")
    Requirement.objects.filter(pk=r7.pk).update(deleted_at=timezone.now())
    r8 = need(pm, customer_b, "B 的定制报表", source="explicit", priority="P0")
    r9 = need(pm, customer_b, "B 的导出 Excel", source="explicit", priority="P1")
    set_status(r9, "closed")
    Feedback.objects.create(
        customer=customer,
        channel="sales",
        raw_text="A 也想要导出 Excel",
        received_at=timezone.now(),
        requirement=r9,
        scope_vote=True,
    )
    answer("csat", customer, 5, NOW - dt.timedelta(days=3), requirement=r1)
    answer("csat", customer, 3, NOW - dt.timedelta(days=2), requirement=r2)
    answer("csat", customer, 1, NOW - dt.timedelta(days=1), requirement=r9)
    campaign = NpsCampaign.objects.create(name="年度 NPS")
    campaign_2 = NpsCampaign.objects.create(name="季度 NPS")
    answer("nps", customer, 6, NOW - dt.timedelta(days=40), campaign=campaign)
    answer("nps", customer, 9, NOW - dt.timedelta(days=5), campaign=campaign_2)
    answer("nps", customer_b, 0, NOW - dt.timedelta(days=1), campaign=campaign_2)
    interaction_create(
        actor=sales,
        customer=customer,
        occurred_at=timezone.now() - dt.timedelta(days=20),
        channel="phone",
        key_content="首次电话沟通",
        next_follow_up_plan="发送产品介绍",
        next_follow_up_date=timezone.localdate() - dt.timedelta(days=10),
    )
    interaction_create(
        actor=sales,
        customer=customer,
        occurred_at=timezone.now() - dt.timedelta(days=3),
        channel="im",
        key_content="确认会议纪要",
    )
    interaction_create(
        actor=sales,
        customer=customer,
        occurred_at=timezone.now() - dt.timedelta(hours=2),
        channel="online_meeting",
        key_content="采购总监介绍业务扩张计划",
        next_follow_up_plan="发送实时监控与开放 API 方案及运营成本测算",
        next_follow_up_date=timezone.localdate() + dt.timedelta(days=10),
    )
    customer.refresh_from_db()
    return {"r": [None, r1, r2, r3, r4, r5, r6, r7, r8, r9], "customer": customer}


def value(report: Report, key: str) -> Any:
    figure = report.figure(key)
    assert figure is not None, key
    return figure.value


def table(report: Report, key: str) -> Table:
    block = report.block(key)
    assert isinstance(block, Table), key
    return block


def codes(report: Report, key: str) -> list[str]:
    return [row[0] for row in table(report, key).rows]


def test_the_report_counts_what_the_reader_may_open(story: dict[str, Any], users: Any) -> None:
    r = story["r"]
    report = customer_report.build(users["sales"], story["customer"], NOW)
    assert report.kind == "customer" and "A科技公司" in report.title
    assert value(report, "requirements") == 5
    assert (value(report, "explicit"), value(report, "implicit")) == (2, 2)
    assert codes(report, "explicit_needs") == [r[1].code, r[2].code]  # P0 before P1
    assert codes(report, "implicit_needs") == [r[3].code, r[4].code]  # P2 before no priority
    assert codes(report, "unmarked_needs") == [r[5].code]
    assert table(report, "explicit_needs").rows[0][1:] == ["实时监控大屏", "P0", "待处理"]
    assert table(report, "implicit_needs").rows[1][2:] == ["未定", "暂缓"]
    chart = report.block("by_priority")
    assert isinstance(chart, Chart)
    assert chart.categories == ["P0", "P1", "P2", "P3", "未定"]
    assert chart.series[0].values == [1, 2, 1, 0, 1]
    priority_table = table(report, "priority_table")
    assert priority_table.columns == ["优先级", "需求数", "已解决", "处理中", "待处理", "暂缓", "已拒绝"]
    assert priority_table.rows == [
        ["P0", 1, 0, 0, 1, 0, 0],
        ["P1", 2, 0, 1, 0, 0, 1],
        ["P2", 1, 1, 0, 0, 0, 0],
        ["P3", 0, 0, 0, 0, 0, 0],
        ["未定", 1, 0, 0, 0, 1, 0],
        ["合计", 5, 1, 1, 1, 1, 1],
    ]
    assert [value(report, k) for k in ("resolved", "in_progress", "pending", "deferred", "rejected")] == [1, 1, 1, 1, 1]
    assert value(report, "fulfilment_rate") == 20.0  # 1 resolved of 5
    assert value(report, "csat_avg") == 4.0  # r1 5 and r2 3; r9's 1 is not the reader's to count
    assert value(report, "nps_latest") == 9
    assert report.figure("nps_latest").note.startswith("推荐者")  # type: ignore[union-attr]


def test_every_count_links_to_the_list_that_counts_it(story: dict[str, Any], users: Any) -> None:
    sales = users["sales"]
    customer = story["customer"]
    report = customer_report.build(sales, customer, NOW)
    client = client_for(sales)
    checks = {
        "explicit": 2,
        "implicit": 2,
        "resolved": 1,
        "in_progress": 1,
        "pending": 1,
        "deferred": 1,
        "rejected": 1,
        "requirements": 5,
    }
    for key, expected in checks.items():
        href = report.figure(key).href  # type: ignore[union-attr]
        assert f"customer={customer.pk}" in href
        html = client.get(href).content.decode()
        listed = {r.code for r in story["r"][1:] if r.code in html}
        assert len(listed) == expected, (key, href, listed)
    chart = report.block("by_priority")
    assert isinstance(chart, Chart)
    p1 = client.get(chart.hrefs[1]).content.decode()
    assert story["r"][2].code in p1 and story["r"][5].code in p1 and story["r"][1].code not in p1


def test_a_reader_who_sees_all_counts_the_vote_too(story: dict[str, Any], users: Any) -> None:
    r = story["r"]
    report = customer_report.build(users["manager"], story["customer"], NOW)
    assert value(report, "requirements") == 6
    assert codes(report, "explicit_needs") == [r[1].code, r[9].code, r[2].code]  # P1s newest first
    assert value(report, "resolved") == 2 and value(report, "fulfilment_rate") == pytest.approx(33.3)
    assert value(report, "csat_avg") == 3.0  # (5 + 3 + 1) / 3


def test_the_profile_names_the_customer_and_its_owner(story: dict[str, Any], users: Any) -> None:
    report = customer_report.build(users["sales"], story["customer"], NOW)
    assert value(report, "industry") == "互联网"
    assert value(report, "segment") == "普通"
    assert value(report, "value_tier") == story["customer"].get_value_tier_display()
    assert value(report, "owner") == str(users["sales"])
    assert value(report, "contact") == "王总"
    assert report.figure("contact").note == "采购总监 · 决策者"  # type: ignore[union-attr]
    assert "客户 " + story["customer"].code + " A科技公司" in report.scope


def test_the_next_follow_up_is_the_latest_plan_and_its_date(story: dict[str, Any], users: Any) -> None:
    report = customer_report.build(users["sales"], story["customer"], NOW)
    planned = timezone.localdate() + dt.timedelta(days=10)
    assert value(report, "next_follow_up") == planned
    assert report.figure("next_follow_up").note == "还有 10 天"  # type: ignore[union-attr]
    assert value(report, "follow_status") == story["customer"].get_follow_status_display()
    actions = report.block("next_actions")
    assert isinstance(actions, Text)
    assert actions.items == [f"{planned.isoformat()}：发送实时监控与开放 API 方案及运营成本测算"]
    plans = table(report, "follow_up_plans")
    assert [row[2] for row in plans.rows] == ["发送实时监控与开放 API 方案及运营成本测算", "发送产品介绍"]
    assert [row[1] for row in plans.rows] == ["线上会议", "电话"]


def test_an_open_reminder_and_an_overdue_date_are_said(story: dict[str, Any], users: Any) -> None:
    customer = story["customer"]
    due = timezone.localdate() - dt.timedelta(days=3)
    Customer.objects.filter(pk=customer.pk).update(next_follow_up=due)
    customer.refresh_from_db()
    FollowUpReminder.objects.create(customer=customer, on=timezone.localdate() - dt.timedelta(days=1), due=due)
    report = customer_report.build(users["sales"], customer, NOW)
    assert report.figure("next_follow_up").note == "已逾期 3 天"  # type: ignore[union-attr]
    actions = report.block("next_actions")
    assert isinstance(actions, Text) and any("提醒客户负责人跟进" in item for item in actions.items)


def test_a_reminder_of_an_earlier_date_is_no_longer_open(story: dict[str, Any], users: Any) -> None:
    customer = story["customer"]
    FollowUpReminder.objects.create(
        customer=customer, on=timezone.localdate() - dt.timedelta(days=9), due=timezone.localdate()
    )
    actions = customer_report.build(users["sales"], customer, NOW).block("next_actions")
    assert isinstance(actions, Text) and not any("提醒" in item for item in actions.items)


def test_a_need_whose_feedback_from_the_customer_was_deleted_is_not_theirs(
    users: Any, customer: Customer, customer_b: Customer
) -> None:
    shared = need(users["sales"], customer, "两家都提的需求", source="explicit", priority="P1")
    Feedback.objects.create(
        customer=customer_b, requirement=shared, channel="sales", raw_text="B 也提了", received_at=timezone.now()
    )
    Feedback.all_objects.filter(requirement=shared, customer=customer).update(deleted_at=timezone.now())
    assert value(customer_report.build(users["admin"], customer, NOW), "requirements") == 0
    assert value(customer_report.build(users["admin"], customer_b, NOW), "requirements") == 1


def test_a_customer_with_nothing_yet(users: Any, customer_b: Customer) -> None:
    report = customer_report.build(users["product_manager"], customer_b, NOW)
    assert value(report, "requirements") == 0
    assert value(report, "fulfilment_rate") is None
    assert value(report, "csat_avg") is None and value(report, "nps_latest") is None
    assert table(report, "explicit_needs").rows == [] and table(report, "explicit_needs").note == "没有显性需求"
    assert report.block("unmarked_needs") is None
    actions = report.block("next_actions")
    assert isinstance(actions, Text) and actions.body == "还没有跟进计划。"


def test_a_long_list_is_cut_and_says_how_many(users: Any, customer: Customer, monkeypatch: Any) -> None:
    monkeypatch.setattr(customer_report, "LIST_LIMIT", 2)
    for i in range(3):
        need(users["sales"], customer, f"显性 {i}", source="explicit", priority="P2")
    report = customer_report.build(users["sales"], customer, NOW)
    assert len(table(report, "explicit_needs").rows) == 2
    assert table(report, "explicit_needs").note == "共 3 条，列出优先级最高的 2 条。"
    assert value(report, "explicit") == 3


# ---------------------------------------------------------------- scope


def test_a_rep_of_another_team_gets_404(story: dict[str, Any], other_sales: Any) -> None:
    with pytest.raises(Http404):
        customer_report.build(other_sales, story["customer"], NOW)
    assert client_for(other_sales).get(reverse("reports:customer", args=[story["customer"].pk])).status_code == 404


def test_build_from_query_takes_an_id_or_a_code(story: dict[str, Any], users: Any) -> None:
    customer = story["customer"]
    by_id = customer_report.build_from_query(users["sales"], {"customer": str(customer.pk)})
    by_code = customer_report.build_from_query(users["sales"], {"customer": customer.code.lower()})
    assert by_id.title == by_code.title and value(by_code, "requirements") == 5


@pytest.mark.parametrize("bad", [{}, {"customer": ""}, {"customer": "  "}, {"customer": "9" * 40}])
def test_build_from_query_refuses_what_names_no_customer(users: Any, bad: dict[str, str]) -> None:
    with pytest.raises(ValidationError) as caught:
        customer_report.build_from_query(users["sales"], bad)
    assert "customer" in caught.value.message_dict


def test_build_from_query_hides_unknown_and_unseen_customers(story: dict[str, Any], other_sales: Any) -> None:
    for query in ({"customer": "C1999999"}, {"customer": "987654"}, {"customer": story["customer"].code}):
        with pytest.raises(Http404):
            customer_report.build_from_query(other_sales, query)


# ---------------------------------------------------------------- the page


def test_the_page_shows_the_report_and_the_customer_page_links_it(story: dict[str, Any], users: Any) -> None:
    customer = story["customer"]
    client = client_for(users["sales"])
    url = reverse("reports:customer", args=[customer.pk])
    assert url == f"/reports/customers/{customer.pk}/"
    html = client.get(url).content.decode()
    assert "客户需求报告 · A科技公司" in html and story["r"][1].code in html and "降低运营成本" in html
    assert story["r"][9].code not in html
    detail = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert f'href="{url}"' in detail and "需求报告" in detail


def test_the_export_buttons_export_this_customers_report(
    story: dict[str, Any], users: Any, django_capture_on_commit_callbacks: Any
) -> None:
    import io

    from openpyxl import load_workbook

    from needpool.core.models import BackgroundJob

    customer = story["customer"]
    client = client_for(users["sales"])
    html = client.get(reverse("reports:customer", args=[customer.pk])).content.decode()
    assert '<input type="hidden" name="kind" value="customer">' in html
    assert f'<input type="hidden" name="customer" value="{customer.pk}">' in html
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(
            reverse("reports:export_start"), {"kind": "customer", "format": "xlsx", "customer": str(customer.pk)}
        )
    assert started.status_code == 302
    job = BackgroundJob.objects.get()
    assert job.status == BackgroundJob.Status.DONE
    download = client.get(reverse("reports:export_download", args=[job.pk]))
    book = load_workbook(io.BytesIO(b"".join(download.streaming_content)))
    cells = {cell.value for sheet in book.worksheets for row in sheet.iter_rows() for cell in row}
    assert story["r"][1].code in cells and story["r"][9].code not in cells


def test_the_page_needs_sign_in(story: dict[str, Any]) -> None:
    response = Client().get(reverse("reports:customer", args=[story["customer"].pk]))
    assert response.status_code in (302, 403) and "A科技公司" not in response.content.decode()


def test_the_page_query_count_does_not_grow_with_the_customers_needs(
    users: Any, customer: Customer, django_assert_max_num_queries: Any
) -> None:
    from tests.conftest import count_queries

    client = client_for(users["sales"])
    url = reverse("reports:customer", args=[customer.pk])
    need(users["sales"], customer, "一条", source="explicit", priority="P1")
    few = count_queries(client, url)
    assert few <= 20
    for i in range(12):
        need(users["sales"], customer, f"更多 {i}", source=["explicit", "implicit"][i % 2], priority="P2")
    many = count_queries(client, url)
    assert many == few
    with django_assert_max_num_queries(few):
        assert client.get(url).status_code == 200
