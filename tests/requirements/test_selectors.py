import datetime as dt

import pytest
from django.http import Http404
from django.utils import timezone

from needpool.accounts.models import Team
from needpool.customers.services import customer_create
from needpool.requirements.selectors import (
    board_columns,
    my_open_requirements,
    requirement_get,
    requirement_list,
    sla_breaches,
)
from needpool.requirements.services import active_workflow, requirement_create, requirement_transition
from tests.conftest import option


@pytest.fixture
def outsider(make_user):
    return make_user("sales", username="outsider", team=Team.objects.create(name="销售二部"))


@pytest.mark.parametrize("role", ["admin", "manager", "product_manager", "engineer", "compliance", "viewer"])
def test_pool_wide_roles_see_every_requirement(users, requirement, outsider, role):
    theirs = requirement_create(
        actor=outsider, title="外部门需求", customer=customer_create(actor=outsider, name="外客户")
    )
    assert set(requirement_list(user=users[role])) == {requirement, theirs}


def test_sales_see_their_team_customers_requirements_and_their_own(users, requirement, outsider):
    theirs = requirement_create(
        actor=outsider, title="外部门需求", customer=customer_create(actor=outsider, name="外客户")
    )
    own_without_customer = requirement_create(actor=users["service"], title="内部反馈")
    assert set(requirement_list(user=users["service"])) == {requirement, own_without_customer}
    assert set(requirement_list(user=outsider)) == {theirs}
    with pytest.raises(Http404):
        requirement_get(user=outsider, pk=requirement.pk)
    with pytest.raises(Http404):
        requirement_get(user=users["sales"], pk="not-a-number")


def test_filters_narrow_the_list(users, customer, requirement):
    other = requirement_create(actor=users["product_manager"], title="价格咨询", urgency=option("urgency", "urgent"))
    pm = users["product_manager"]
    assert list(requirement_list(user=pm, filters={"urgency": option("urgency", "urgent").pk})) == [other]
    assert list(requirement_list(user=pm, filters={"customer": customer.pk})) == [requirement]
    assert list(requirement_list(user=pm, filters={"tag": option("tag", "bulk_operation").pk})) == [requirement]
    assert list(requirement_list(user=pm, filters={"status": "new", "sort": "code"})) == [requirement, other]
    assert list(requirement_list(user=pm, filters={"expected_before": "2024-07-01"})) == [requirement]
    assert list(requirement_list(user=pm, filters={"urgency": "not-an-id"})) == []


def test_list_query_count_does_not_grow_with_rows(users, customer, django_assert_num_queries):
    for i in range(3):
        requirement_create(
            actor=users["sales"], title=f"需求{i}", customer=customer, tags=[option("tag", "efficiency")]
        )
    with django_assert_num_queries(4) as ctx:  # the page's ids, its rows, tags, customers
        list(requirement_list(user=users["sales"], filters={"sort": "-submitted_at"})[:25])
    for i in range(20):
        requirement_create(
            actor=users["sales"], title=f"更多{i}", customer=customer, tags=[option("tag", "efficiency")]
        )
    with django_assert_num_queries(len(ctx.captured_queries)):
        rows = list(requirement_list(user=users["sales"], filters={"sort": "-submitted_at"})[:25])
    assert len(rows) == 23
    assert all(r.evidence[0].customer.name == "A科技公司" for r in rows)


def test_board_columns_follow_the_active_flow(users, customer):
    reqs = [
        requirement_create(
            actor=users["sales"],
            title=f"看板{i}",
            customer=customer,
            background="b",
            concrete_ask="c",
            expected_date=dt.date(2030, 1, 1),
        )
        for i in range(3)
    ]
    requirement_transition(actor=users["product_manager"], requirement=reqs[0], to="in_progress")
    columns = board_columns(user=users["manager"], workflow=active_workflow())
    assert [c["status"].key for c in columns] == [
        "new",
        "in_progress",
        "testing",
        "launched",
        "closed",
        "deferred",
        "rejected",
    ]
    assert {c["status"].key: c["count"] for c in columns}["new"] == 2
    assert [r.pk for r in columns[1]["cards"]] == [reqs[0].pk]


def test_home_lists(users, customer):
    late = requirement_create(
        actor=users["sales"],
        title="紧急故障",
        customer=customer,
        urgency=option("urgency", "urgent"),
        submitted_at=timezone.now() - dt.timedelta(hours=48),
    )
    fine = requirement_create(actor=users["sales"], title="普通建议", customer=customer)
    assert list(sla_breaches(user=users["sales"])) == [late]
    assert set(my_open_requirements(user=users["sales"])) == {late, fine}
    assert list(my_open_requirements(user=users["manager"])) == []


def test_evidence_shows_only_customers_the_user_may_see(users, requirement, outsider):
    from needpool.requirements.services import feedback_create, feedback_link

    theirs = customer_create(actor=outsider, name="外部门客户")
    item = feedback_create(actor=outsider, customer=theirs, channel="ticket", raw_text="我们也需要批量折扣")
    feedback_link(actor=users["product_manager"], feedback=item, requirement=requirement)
    seen_by_sales = requirement_list(user=users["sales"]).get(pk=requirement.pk)
    assert [f.customer.name for f in seen_by_sales.evidence] == ["A科技公司"]
    assert [f.customer.name for f in requirement_get(user=users["sales"], pk=requirement.pk).feedback_items.all()] == [
        "A科技公司"
    ]
    seen_by_manager = requirement_list(user=users["manager"]).get(pk=requirement.pk)
    assert [f.customer.name for f in seen_by_manager.evidence] == ["A科技公司", "外部门客户"]
