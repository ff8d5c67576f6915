"""The project list's filters (``analysis.filters.ProjectFilter``), the same on the list page and the API."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from needpool.analysis.services import project_create
from tests.analysis.api.conftest import count_queries

pytestmark = pytest.mark.django_db

LIST = "/api/v1/analysis/projects/"


def _project(users, name: str, goal: str, leader: str):
    return project_create(
        actor=users["manager"],
        name=name,
        goal=goal,
        leader=users[leader],
        start_date=dt.date(2024, 1, 1),
        end_date=dt.date(2024, 6, 30),
        members=[(users["engineer"], "评估")],
    )


@pytest.fixture
def projects(users):
    return [
        _project(users, "制造业专项", "制造业客户转化", "product_manager"),
        _project(users, "零售回访", "提升复购", "manager"),
    ]


def test_api_filters_by_words_and_leader(api, users, projects):
    client = api(users["manager"])
    assert [p["name"] for p in client.get(LIST, {"q": "复购"}).json()["results"]] == ["零售回访"]
    assert [p["name"] for p in client.get(LIST, {"q": "制造"}).json()["results"]] == ["制造业专项"]
    leader = users["product_manager"].pk
    assert [p["name"] for p in client.get(LIST, {"leader": leader}).json()["results"]] == ["制造业专项"]
    assert client.get(LIST, {"q": "制造", "leader": users["manager"].pk}).json()["count"] == 0


def test_api_refuses_a_bad_filter(api, users, projects):
    response = api(users["manager"]).get(LIST, {"leader": "abc"})
    assert response.status_code == 400
    assert "leader" in response.json()


def test_api_filters_keep_the_scope(api, users, projects):
    # sales is neither leader nor member of either project: a filter never widens what one sees
    assert api(users["sales"]).get(LIST, {"q": "制造"}).json()["count"] == 0


def test_api_filtered_list_query_count_is_constant(api, users, projects):
    client = api(users["manager"])
    _project(users, "项目甲", "目标", "product_manager")
    few, _body = count_queries(client, LIST, {"q": "项目"})
    for i in range(5):
        _project(users, f"项目{i}", "目标", "product_manager")
    many, body = count_queries(client, LIST, {"q": "项目"})
    assert body["count"] == 6
    assert many == few


def test_page_filters_like_the_api(client, users, projects):
    client.force_login(users["manager"])
    url = reverse("analysis:projects")
    rows = client.get(url, {"q": "复购"}).context["rows"]
    assert [row["project"].name for row in rows] == ["零售回访"]
    response = client.get(url, {"leader": users["product_manager"].pk})
    assert [row["project"].name for row in response.context["rows"]] == ["制造业专项"]
    # a bad value on the page is dropped, not an error
    response = client.get(url, {"leader": "abc"})
    assert response.status_code == 200
    assert len(response.context["rows"]) == 2
