"""Home (my open requirements, SLA breaches, follow-ups, unread count) and notifications."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from needpool.core.models import Notification
from needpool.core.services import notifications_mark_read
from needpool.customers.models import Customer
from needpool.requirements.models import Requirement
from tests.pages.conftest import count_queries

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
    response = client.get(reverse("core:home"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("role", ["admin", "manager", "product_manager", "sales", "service", "engineer", "viewer"])
def test_home_renders_for_every_role(client, users, role):
    client.force_login(users[role])
    response = client.get(reverse("core:home"))
    assert response.status_code == 200
    assert ('href="/requirements/new/"' in _html(response)) is (role not in ("engineer", "compliance", "viewer"))


def test_home_shows_my_open_breaches_follow_ups_and_unread(client, users, requirement, customer):
    Requirement.objects.filter(pk=requirement.pk).update(sla_breached=True)
    Customer.objects.filter(pk=customer.pk).update(next_follow_up=timezone.localdate() - dt.timedelta(days=1))
    _notify(users["sales"], 3, actor=users["manager"])
    client.force_login(users["sales"])
    response = client.get(reverse("core:home"))
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
    html = _html(client.get(reverse("core:home")))
    assert requirement.code not in html and "A科技公司" not in html


def test_home_query_count_is_constant(client, users, make_requirements, make_customers, django_assert_max_num_queries):
    client.force_login(users["sales"])
    url = reverse("core:home")

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


def test_notifications_list_and_mark_all_read(client, users):
    _notify(users["engineer"], 30, actor=users["product_manager"])
    _notify(users["viewer"], 2)
    client.force_login(users["engineer"])
    response = client.get(reverse("core:notifications"))
    html = _html(response)
    assert response.status_code == 200
    assert len(response.context["items"]) == 25
    assert "?page=2" in html and 'id="mark-all-read"' in html
    assert "product_manager" in html
    response = client.post(reverse("core:notifications_read"), follow=True)
    assert "已将 30 条通知标为已读" in _html(response)
    assert not Notification.objects.filter(recipient=users["engineer"], read_at__isnull=True).exists()
    assert Notification.objects.filter(recipient=users["viewer"], read_at__isnull=True).count() == 2


def test_notifications_mark_one_read_only_own(client, users):
    _notify(users["engineer"], 2)
    _notify(users["viewer"], 1)
    theirs = Notification.objects.get(recipient=users["viewer"])
    mine = Notification.objects.filter(recipient=users["engineer"]).earliest("id")
    client.force_login(users["engineer"])
    client.post(reverse("core:notifications_read"), {"id": theirs.pk})
    client.post(reverse("core:notifications_read"), {"id": mine.pk})
    theirs.refresh_from_db()
    mine.refresh_from_db()
    assert theirs.read_at is None and mine.read_at is not None
    assert Notification.objects.filter(recipient=users["engineer"], read_at__isnull=True).count() == 1


def test_notifications_mark_read_service_counts(users):
    _notify(users["engineer"], 4)
    assert notifications_mark_read(actor=users["engineer"]) == 4
    assert notifications_mark_read(actor=users["engineer"]) == 0


def test_notifications_query_count_is_constant(client, users, django_assert_max_num_queries):
    client.force_login(users["engineer"])
    url = reverse("core:notifications")
    _notify(users["engineer"], 5, actor=users["manager"])
    client.get(url)
    few = count_queries(client, url)
    _notify(users["engineer"], 25, actor=users["product_manager"])
    assert count_queries(client, url) == few
    with django_assert_max_num_queries(6):
        client.get(url)


def test_notification_links_only_to_local_paths(client, users):
    Notification.objects.create(recipient=users["engineer"], kind="mention", text="坏链接", url="javascript:alert(1)")
    client.force_login(users["engineer"])
    html = _html(client.get(reverse("core:notifications")))
    assert "坏链接" in html and "javascript:alert(1)" not in html


@pytest.mark.parametrize("name", ["core:home", "core:notifications"])
def test_pages_render_in_english(client, users, name):
    client.force_login(users["manager"])
    response = client.get(reverse(name), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200 and '<html lang="en">' in _html(response)
    client.cookies["django_language"] = "en"
    assert '<html lang="en">' in _html(client.get(reverse(name)))
