"""``/api/v1/saved-views/``: every role keeps its own views; a team's shared view is read-only for the team;
someone else's private view is not found."""

from __future__ import annotations

import pytest

from needpool.savedviews.models import DefaultView, SavedView
from needpool.savedviews.services import saved_view_create
from tests.conftest import ALL_ROLES

pytestmark = pytest.mark.django_db
URL = "/api/v1/saved-views/"


@pytest.mark.parametrize("role", ALL_ROLES)
def test_every_role_keeps_and_manages_its_own_views(api, users, role):
    client = api(users[role])
    made = client.post(
        URL,
        {"kind": "requirements", "name": "我的视图", "query": "?sort=priority&page=2", "is_default": True},
        format="json",
    )
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["query"] == "sort=priority"
    assert body["is_own"] is True and body["is_default"] is True
    assert body["url"] == f"/requirements/?sort=priority&view={body['id']}"
    one = f"{URL}{body['id']}/"
    renamed = client.patch(one, {"name": "改名"}, format="json")
    assert renamed.status_code == 200 and renamed.json()["name"] == "改名"
    undefault = client.patch(one, {"is_default": False}, format="json")
    assert undefault.json()["is_default"] is False
    assert not DefaultView.objects.filter(user=users[role]).exists()
    assert [v["id"] for v in client.get(URL, {"kind": "requirements"}).json()["results"]] == [body["id"]]
    assert client.get(URL, {"kind": "customers"}).json()["results"] == []
    assert client.delete(one).status_code == 204
    assert not SavedView.objects.exists()


@pytest.mark.parametrize("role", ALL_ROLES)
def test_someone_elses_private_view_is_not_found_for_every_role(api, users, role):
    owner = users["product_manager"] if role != "product_manager" else users["manager"]
    view = saved_view_create(actor=owner, kind="customers", name="私人", query="segment=potential")
    client = api(users[role])
    one = f"{URL}{view.pk}/"
    assert client.get(one).status_code == 404
    assert client.patch(one, {"name": "x"}, format="json").status_code == 404
    assert client.patch(one, {"is_default": True}, format="json").status_code == 404
    assert client.delete(one).status_code == 404
    assert view.pk not in [v["id"] for v in client.get(URL).json()["results"]]
    view.refresh_from_db()
    assert view.name == "私人"


def test_a_shared_view_is_read_only_for_the_team_and_hidden_from_other_teams(api, users, other_sales):
    view = saved_view_create(actor=users["sales"], kind="requirements", name="团队视图", visibility="team")
    teammate = api(users["service"])
    one = f"{URL}{view.pk}/"
    got = teammate.get(one)
    assert got.status_code == 200 and got.json()["is_own"] is False and got.json()["owner"] == "sales"
    refused = teammate.patch(one, {"name": "改名"}, format="json")
    assert refused.status_code == 403 and "只读" in refused.json()["detail"]
    assert teammate.delete(one).status_code == 403
    assert teammate.patch(one, {"is_default": True}, format="json").json()["is_default"] is True
    assert api(other_sales).get(one).status_code == 404
    view.refresh_from_db()
    assert view.name == "团队视图"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "requirements", "name": "x", "query": "drop=table"}, "query"),
        ({"kind": "requirements", "name": "x", "query": "a" * 1300}, "query"),
        ({"kind": "orders", "name": "x"}, "kind"),
        ({"kind": "requirements", "name": ""}, "name"),
        ({"kind": "requirements", "name": "x", "visibility": "team"}, "visibility"),  # the manager has no team
    ],
)
def test_bad_input_is_refused_and_writes_nothing(api, users, body, field):
    response = api(users["manager"]).post(URL, body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not SavedView.objects.exists()


def test_the_list_of_a_view_cannot_change(api, users):
    view = saved_view_create(actor=users["sales"], kind="requirements", name="A")
    response = api(users["sales"]).patch(f"{URL}{view.pk}/", {"kind": "customers"}, format="json")
    assert response.status_code == 400


def test_anonymous_callers_are_refused(api):
    assert api(None).get(URL).status_code in (401, 403)


def test_list_query_count_does_not_grow_with_views(api, users, django_assert_max_num_queries):
    client = api(users["sales"])
    for i in range(3):
        saved_view_create(actor=users["sales"], kind="requirements", name=f"v{i}")
    client.get(URL)
    with django_assert_max_num_queries(4):
        assert client.get(URL).status_code == 200
    for i in range(3, 30):
        saved_view_create(actor=users["service"], kind="customers", name=f"v{i}", visibility="team")
    with django_assert_max_num_queries(4):
        response = client.get(URL)
    assert response.json()["count"] == 30
