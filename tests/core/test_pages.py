"""Notifications: the list, marking read, and their links."""

from __future__ import annotations

import pytest
from django.urls import reverse

from needpool.core.models import Notification
from needpool.core.services import notifications_mark_read
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


def test_notifications_render_in_english(client, users):
    client.force_login(users["manager"])
    response = client.get(reverse("core:notifications"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200 and '<html lang="en">' in _html(response)
    client.cookies["django_language"] = "en"
    assert '<html lang="en">' in _html(client.get(reverse("core:notifications")))
