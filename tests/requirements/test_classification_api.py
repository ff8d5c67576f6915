"""The classification API: everyone signed in reads active options, only admins write (any dimension, any
field), If-Match on edits, reorder, versions and reviews; the OpenAPI document stays valid."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from needpool.requirements.choices import Dimension
from needpool.requirements.models import ClassificationReview, ClassificationRuleVersion, ClassOption
from needpool.requirements.services import current_rule_version, option_set_active
from tests.conftest import ALL_ROLES, docs_client, option

pytestmark = pytest.mark.django_db

URL = "/api/v1/classification/options/"
NON_ADMINS = [r for r in ALL_ROLES if r != "admin"]


@pytest.mark.parametrize("role", ALL_ROLES)
def test_every_role_reads_active_options(api, users, role):
    option_set_active(actor=users["admin"], option=option("tag", "price_inquiry"), active=False)
    client = api(users[role])
    body = client.get(URL, {"dimension": "tag", "include_inactive": "true"}).json()
    keys = {o["key"] for o in body["results"]}
    assert "bulk_operation" in keys
    assert ("price_inquiry" in keys) is (role == "admin")
    assert client.get(f"{URL}{option('tag', 'bulk_operation').pk}/").status_code == 200
    assert client.get("/api/v1/classification/versions/").status_code == 200


def test_anonymous_reads_nothing(api):
    assert api(None).get(URL).status_code in (401, 403)


def test_an_unknown_dimension_is_400(api, users):
    assert api(users["viewer"]).get(URL, {"dimension": "colour"}).status_code == 400


def test_an_admin_creates_edits_and_deactivates(api, users):
    client = api(users["admin"])
    start = current_rule_version()
    made = client.post(URL, {"dimension": "urgency", "key": "critical", "label": "特急", "sla_hours": 4}, format="json")
    assert made.status_code == 201, made.json()
    body = made.json()
    assert body["sla_hours"] == 4 and body["version"] == 1 and made["ETag"] == 'W/"1"'
    edited = client.patch(f"{URL}{body['id']}/", {"sla_hours": 8}, format="json", HTTP_IF_MATCH='W/"1"')
    assert edited.status_code == 200 and edited.json()["sla_hours"] == 8 and edited["ETag"] == 'W/"2"'
    stale = client.patch(f"{URL}{body['id']}/", {"sla_hours": 2}, format="json", HTTP_IF_MATCH='W/"1"')
    assert stale.status_code == 412 and stale.json()["version"] == 2
    off = client.patch(f"{URL}{body['id']}/", {"is_active": False}, format="json")
    assert off.status_code == 200 and off.json()["is_active"] is False
    assert current_rule_version() == start + 3
    assert client.delete(f"{URL}{body['id']}/").status_code == 405
    moved = client.patch(f"{URL}{body['id']}/", {"dimension": "tag"}, format="json")
    assert moved.status_code == 400 and "分类" in moved.json()["dimension"][0]


def test_bad_input_gets_chinese_messages(api, users):
    client = api(users["admin"])
    duplicate = client.post(URL, {"dimension": "tag", "key": "efficiency", "label": "新的"}, format="json")
    assert duplicate.status_code == 400 and "已在“标签”中使用" in duplicate.json()["key"][0]
    cycle = client.patch(
        f"{URL}{option('type', 'function').pk}/", {"parent": option("type", "function_improvement").pk}, format="json"
    )
    assert cycle.status_code == 400 and "下级" in cycle.json()["parent"][0]


def test_reorder(api, users):
    client = api(users["admin"])
    ids = list(ClassOption.objects.filter(dimension="source").order_by("-sort_order").values_list("pk", flat=True))
    answer = client.post(f"{URL}reorder/", {"dimension": "source", "ids": ids}, format="json")
    assert answer.status_code == 200 and [o["id"] for o in answer.json()] == ids
    bad = client.post(f"{URL}reorder/", {"dimension": "source", "ids": ids[:1]}, format="json")
    assert bad.status_code == 400


def test_reviews(api, users):
    client = api(users["admin"])
    made = client.post("/api/v1/classification/reviews/", {"note": "无需调整"}, format="json")
    assert made.status_code == 201 and made.json()["rule_version"] == current_rule_version()
    assert client.get("/api/v1/classification/reviews/").json()["count"] == 1
    assert api(users["manager"]).get("/api/v1/classification/reviews/").status_code == 403
    versions = client.get("/api/v1/classification/versions/").json()["results"]
    assert versions[0]["number"] == current_rule_version()


# ---------------------------------------------------------------- the rule: non-admins never write

_fields = st.fixed_dictionaries(
    {},
    optional={
        "key": st.text(alphabet="abcxyz_-09", min_size=1, max_size=12),
        "label": st.text(min_size=1, max_size=10),
        "label_en": st.text(max_size=10),
        "sla_hours": st.one_of(st.none(), st.integers(-5, 10000)),
        "sort_order": st.integers(-1, 40000),
        "is_active": st.booleans(),
        "description": st.text(max_size=20),
        "dimension": st.sampled_from(Dimension.values),
    },
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    role=st.sampled_from(NON_ADMINS),
    dimension=st.sampled_from(Dimension.values),
    fields=_fields,
    how=st.sampled_from(["post", "patch", "put", "reorder", "review", "if-match"]),
)
def test_non_admins_never_write(api, users, role, dimension, fields, how):
    client = api(users[role])
    target = ClassOption.objects.filter(dimension=dimension).first()
    before = (
        list(ClassOption.objects.order_by("pk").values()),
        ClassificationRuleVersion.objects.count(),
        ClassificationReview.objects.count(),
    )
    payload: dict[str, Any] = {"dimension": dimension, "key": "k", "label": "l", **fields}
    if how == "post":
        answer = client.post(URL, payload, format="json")
    elif how == "patch":
        answer = client.patch(f"{URL}{target.pk}/", fields, format="json")
    elif how == "put":
        answer = client.put(f"{URL}{target.pk}/", payload, format="json")
    elif how == "if-match":
        answer = client.patch(f"{URL}{target.pk}/", fields, format="json", HTTP_IF_MATCH=f'W/"{target.version}"')
    elif how == "reorder":
        ids = list(ClassOption.objects.filter(dimension=dimension).values_list("pk", flat=True))
        answer = client.post(f"{URL}reorder/", {"dimension": dimension, "ids": ids}, format="json")
    else:
        answer = client.post("/api/v1/classification/reviews/", {"note": "x"}, format="json")
    assert answer.status_code in (403, 404)
    after = (
        list(ClassOption.objects.order_by("pk").values()),
        ClassificationRuleVersion.objects.count(),
        ClassificationReview.objects.count(),
    )
    assert after == before


@pytest.mark.parametrize("role", NON_ADMINS)
def test_non_admins_are_refused_by_every_service_too(users, role):
    """The services refuse on their own (a page or import that forgot to check still writes nothing)."""
    from django.core.exceptions import PermissionDenied

    from needpool.requirements.services import option_update

    with pytest.raises(PermissionDenied):
        option_update(actor=users[role], option=option("urgency", "urgent"), sla_hours=1)


def test_the_schema_documents_the_classification_api():
    schema = docs_client().get("/api/schema/", {"format": "json"}).json()
    paths = schema["paths"]
    assert {"/api/v1/classification/options/", "/api/v1/classification/options/{id}/"} <= set(paths)
    assert "/api/v1/classification/options/reorder/" in paths
    patch = paths["/api/v1/classification/options/{id}/"]["patch"]
    assert "412" in patch["responses"]
    assert any(p["name"] == "If-Match" for p in patch["parameters"])
    requirement = schema["components"]["schemas"]["Requirement"]["properties"]
    assert requirement["rule_version"]["readOnly"] is True
