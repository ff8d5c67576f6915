"""Saved views on the pages: the dropdown on the requirement and customer lists, saving the current filters, a
default view applied when a list opens bare, and the page that renames, shares, deletes and sets defaults."""

from __future__ import annotations

import pytest
from django.urls import reverse

from needpool.savedviews.models import DefaultView, SavedView
from needpool.savedviews.services import saved_view_create, saved_view_set_default
from tests.conftest import count_queries

pytestmark = pytest.mark.django_db
REQS = "/requirements/"
CUSTOMERS = "/customers/"
INBOX = "/requirements/feedback/"


def test_the_dropdown_shows_own_and_shared_views_on_both_lists(client, users):
    mine = saved_view_create(actor=users["service"], kind="requirements", name="我的紧急", query="urgency=urgent")
    shared = saved_view_create(actor=users["sales"], kind="requirements", name="团队视图", visibility="team")
    saved_view_create(actor=users["manager"], kind="requirements", name="经理私人")
    saved_view_create(actor=users["service"], kind="customers", name="潜在客户", query="segment=potential")
    client.force_login(users["service"])
    html = client.get(REQS + "?sort=priority").content.decode()
    assert 'id="saved-views"' in html
    assert "我的紧急" in html and "团队视图" in html and "经理私人" not in html and "潜在客户" not in html
    assert f'href="?urgency=urgent&amp;view={mine.pk}"' in html
    assert f'data-view="{shared.pk}"' in html
    assert 'name="query" value="sort=priority"' in html
    customers = client.get(CUSTOMERS + "?q=x").content.decode()
    assert "潜在客户" in customers and "我的紧急" not in customers


def test_the_chosen_view_is_named_until_its_filters_change(client, users):
    view = saved_view_create(actor=users["sales"], kind="requirements", name="我的紧急", query="urgency=urgent")
    client.force_login(users["sales"])
    html = client.get(REQS + f"?urgency=urgent&view={view.pk}").content.decode()
    assert '<span class="saved-views-current text-truncate">我的紧急</span>' in html
    html = client.get(REQS + f"?urgency=important&view={view.pk}").content.decode()
    assert '<span class="saved-views-current text-truncate">我的紧急</span>' not in html


def test_save_the_current_filters_then_open_the_list_with_that_view(client, users):
    client.force_login(users["sales"])
    response = client.post(
        reverse("savedviews:save"),
        {
            "kind": "requirements",
            "query": "urgency=urgent&page=2",
            "name": "紧急",
            "visibility": "team",
            "make_default": "on",
        },
    )
    view = SavedView.objects.get()
    assert response.status_code == 302 and response["Location"] == f"{REQS}?urgency=urgent&view={view.pk}"
    assert (view.visibility, view.team_id, view.query) == ("team", users["sales"].team_id, "urgency=urgent")
    assert DefaultView.objects.get(user=users["sales"]).view == view
    # Opening the list bare applies the default; any query (even ?page=1) shows the list as asked.
    bare = client.get(REQS)
    assert bare.status_code == 302 and bare["Location"] == f"{REQS}?urgency=urgent&view={view.pk}"
    assert client.get(REQS + "?page=1").status_code == 200


def test_saving_bad_input_says_why_and_saves_nothing(client, users):
    client.force_login(users["sales"])
    response = client.post(
        reverse("savedviews:save"), {"kind": "requirements", "query": "hack=1", "name": "坏的"}, follow=True
    )
    assert "不支持的筛选条件：hack" in response.content.decode()
    response = client.post(reverse("savedviews:save"), {"kind": "requirements", "query": "", "name": ""}, follow=True)
    assert "视图名称" in response.content.decode()
    response = client.post(reverse("savedviews:save"), {"kind": "x", "name": "a"})
    assert response["Location"] == reverse("savedviews:manage")
    assert not SavedView.objects.exists()


def test_a_default_view_the_user_can_no_longer_read_is_not_applied(client, users):
    view = saved_view_create(actor=users["sales"], kind="customers", name="同事视图", visibility="team")
    saved_view_set_default(actor=users["service"], kind="customers", view=view)
    client.force_login(users["service"])
    assert client.get(CUSTOMERS).status_code == 302
    SavedView.objects.filter(pk=view.pk).update(visibility="private", team=None)
    # The list's view menu (drawn on any filtered visit) refreshes what the session remembers.
    html = client.get(CUSTOMERS + "?q=").content.decode()
    assert "同事视图" not in html
    assert client.get(CUSTOMERS).status_code == 200


def test_a_bare_list_costs_no_query_for_the_default_once_the_session_knows_it(
    client, users, django_assert_max_num_queries
):
    view = saved_view_create(actor=users["viewer"], kind="requirements", name="P0", query="priority=P0")
    saved_view_set_default(actor=users["viewer"], kind="requirements", view=view)
    client.force_login(users["viewer"])
    assert client.get(REQS).status_code == 302  # reads the default once
    with django_assert_max_num_queries(2):  # the session and the user only
        assert client.get(REQS)["Location"] == f"{REQS}?priority=P0&view={view.pk}"


def test_the_feedback_inbox_opens_with_its_default_view(client, users):
    view = saved_view_create(actor=users["manager"], kind="feedback", name="工单", query="channel=ticket")
    saved_view_set_default(actor=users["manager"], kind="feedback", view=view)
    client.force_login(users["manager"])
    response = client.get(INBOX)
    assert response.status_code == 302 and response["Location"] == f"{INBOX}?channel=ticket&view={view.pk}"


def test_manage_page_renames_shares_sets_default_and_deletes_own_views(client, users):
    own = saved_view_create(actor=users["sales"], kind="requirements", name="旧名")
    shared = saved_view_create(actor=users["service"], kind="customers", name="同事的", visibility="team")
    client.force_login(users["sales"])
    html = client.get(reverse("savedviews:manage")).content.decode()
    assert "旧名" in html and "同事的" in html and "service 共享，只读" in html
    assert reverse("savedviews:edit", args=[shared.pk]) not in html  # no edit form for a shared view
    client.post(reverse("savedviews:edit", args=[own.pk]), {"name": "新名", "visibility": "team"})
    own.refresh_from_db()
    assert (own.name, own.visibility) == ("新名", "team")
    response = client.post(reverse("savedviews:edit", args=[own.pk]), {"name": "", "visibility": "team"}, follow=True)
    assert "视图名称" in response.content.decode()
    client.post(reverse("savedviews:default", args=[shared.pk]))
    assert DefaultView.objects.get(user=users["sales"], kind="customers").view == shared
    client.post(reverse("savedviews:default", args=[shared.pk]), {"clear": "1"})
    assert not DefaultView.objects.filter(user=users["sales"]).exists()
    assert client.post(reverse("savedviews:delete", args=[shared.pk])).status_code == 403
    assert (
        client.post(reverse("savedviews:edit", args=[shared.pk]), {"name": "x", "visibility": "team"}).status_code
        == 403
    )
    client.post(reverse("savedviews:delete", args=[own.pk]))
    assert list(SavedView.objects.values_list("name", flat=True)) == ["同事的"]


def test_manage_page_of_someone_without_views(client, users):
    client.force_login(users["viewer"])
    assert "还没有保存的视图" in client.get(reverse("savedviews:manage")).content.decode()


@pytest.mark.parametrize("role", ["viewer", "engineer", "compliance"])
def test_private_views_of_others_are_not_found_on_pages(client, users, role):
    view = saved_view_create(actor=users["sales"], kind="requirements", name="私人")
    client.force_login(users[role])
    for name in ("edit", "delete", "default"):
        assert (
            client.post(
                reverse(f"savedviews:{name}", args=[view.pk]), {"name": "x", "visibility": "private"}
            ).status_code
            == 404
        )
    assert SavedView.objects.get().name == "私人"


def test_list_pages_with_views_keep_a_constant_query_count(
    client, users, make_requirements, make_customers, django_assert_max_num_queries
):
    for i in range(3):
        saved_view_create(actor=users["sales"], kind="requirements", name=f"r{i}", query="sort=priority")
        saved_view_create(actor=users["sales"], kind="customers", name=f"c{i}")
    view = SavedView.objects.filter(kind="requirements").first()
    saved_view_set_default(actor=users["sales"], kind="requirements", view=view)
    client.force_login(users["sales"])
    make_requirements(3)
    make_customers(3)
    url = REQS + f"?sort=priority&view={view.pk}"
    client.get(url)
    client.get(CUSTOMERS + "?q=")  # the first visit remembers the (absent) default in the session
    few = count_queries(client, url)
    few_customers = count_queries(client, CUSTOMERS + "?q=")
    for i in range(3, 20):
        saved_view_create(actor=users["service"], kind="requirements", name=f"r{i}", visibility="team")
        saved_view_create(actor=users["service"], kind="customers", name=f"c{i}", visibility="team")
    make_requirements(10)
    make_customers(10)
    assert count_queries(client, url) == few
    assert count_queries(client, CUSTOMERS + "?q=") == few_customers
    with django_assert_max_num_queries(22):
        client.get(url)
    with django_assert_max_num_queries(9):
        client.get(CUSTOMERS + "?q=")
