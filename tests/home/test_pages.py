"""Home (my open requirements, SLA breaches, follow-ups, unread count)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from needpool.core.models import Notification
from needpool.customers.models import Customer
from needpool.requirements.models import Requirement
from tests.conftest import count_queries

pytestmark = pytest.mark.django_db


def _html(response) -> str:
    return response.content.decode()


def _notify(user, n: int, actor=None) -> None:
    Notification.objects.bulk_create(
        Notification(
            recipient=user, kind=Notification.Kind.MENTION, text=f"提醒 {i}", url="/requirements/", actor=actor
        )
        for i in range(n)
    )


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("home:home"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("role", ["admin", "manager", "product_manager", "sales", "service", "engineer", "viewer"])
def test_home_renders_for_every_role(client, users, role):
    client.force_login(users[role])
    response = client.get(reverse("home:home"))
    assert response.status_code == 200
    assert ('href="/requirements/new/"' in _html(response)) is (role not in ("engineer", "compliance", "viewer"))


def test_home_shows_my_open_breaches_follow_ups_and_unread(client, users, requirement, customer):
    Requirement.objects.filter(pk=requirement.pk).update(sla_breached=True)
    Customer.objects.filter(pk=customer.pk).update(next_follow_up=timezone.localdate() - dt.timedelta(days=1))
    _notify(users["sales"], 3, actor=users["manager"])
    client.force_login(users["sales"])
    response = client.get(reverse("home:home"))
    html = _html(response)
    assert [r.pk for r in response.context["my_open"]] == [requirement.pk]
    assert [r.pk for r in response.context["breaches"]] == [requirement.pk]
    assert [c.pk for c in response.context["follow_ups"]] == [customer.pk]
    assert response.context["unread_count"] == 3
    assert requirement.code in html and "A科技公司" in html and "已逾期" in html


def test_home_hides_other_teams_work(client, outsider, requirement, customer):
    Requirement.objects.filter(pk=requirement.pk).update(sla_breached=True)
    Customer.objects.filter(pk=customer.pk).update(next_follow_up=timezone.localdate())
    client.force_login(outsider)
    html = _html(client.get(reverse("home:home")))
    assert requirement.code not in html and "A科技公司" not in html


def test_home_query_count_is_constant(client, users, make_requirements, make_customers, django_assert_max_num_queries):
    client.force_login(users["sales"])
    url = reverse("home:home")

    def grow(n: int) -> None:
        made = make_requirements(n)
        Requirement.objects.filter(pk__in=[r.pk for r in made]).update(sla_breached=True, owner=users["sales"])
        make_customers(n)
        _notify(users["sales"], n, actor=users["manager"])

    grow(5)
    client.get(url)
    few = count_queries(client, url)
    grow(25)
    assert count_queries(client, url) == few
    with django_assert_max_num_queries(10):
        client.get(url)


def test_home_renders_in_english(client, users):
    client.force_login(users["manager"])
    response = client.get(reverse("home:home"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200 and '<html lang="en">' in _html(response)
    client.cookies["django_language"] = "en"
    assert '<html lang="en">' in _html(client.get(reverse("home:home")))


def test_home_is_the_site_root():
    assert reverse("home:home") == "/"


def _plan_with_overdue_tasks(users, requirement, n: int):
    from needpool.delivery.services import plan_create, task_create

    pm = users["product_manager"]
    plan = plan_create(
        actor=pm,
        requirements=[requirement],
        title=f"批量折扣落地计划 {n}",
        strategy="product_iteration",
        owner=users["manager"],
        start_date=timezone.localdate() - dt.timedelta(days=30),
        end_date=timezone.localdate() + dt.timedelta(days=30),
    )
    today = timezone.localdate()
    for i in range(n):
        task_create(
            actor=pm,
            plan=plan,
            title=f"开发任务 {n}-{i}",
            owner=users["engineer"],
            start_date=today - dt.timedelta(days=10),
            due_date=today - dt.timedelta(days=1),
        )
    return plan


def test_home_lists_overdue_tasks_to_their_owner_and_the_plans_manager(client, users, requirement):
    _plan_with_overdue_tasks(users, requirement, 2)
    for who, expected in (("engineer", 2), ("manager", 2), ("sales", 0)):
        client.force_login(users[who])
        response = client.get(reverse("home:home"))
        assert len(response.context["overdue_tasks"]) == expected
        assert ("开发任务 2-0" in _html(response)) is bool(expected)


def test_home_query_count_stays_flat_as_overdue_tasks_grow(client, users, requirement, make_requirements):
    client.force_login(users["engineer"])
    url = reverse("home:home")
    _plan_with_overdue_tasks(users, requirement, 2)
    client.get(url)
    few = count_queries(client, url)
    _plan_with_overdue_tasks(users, make_requirements(1)[0], 12)
    assert count_queries(client, url) == few
