"""Concurrent writes of a requirement: the version every service write bumps, stale edits refused (412 over the
API, StaleVersion in the service), stale moves answered with the current status (409), and the ETag / If-Match
contract documented in the OpenAPI schema."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from needpool.core.concurrency import StaleVersion, etag
from needpool.requirements.merging.services import requirements_merge
from needpool.requirements.models import Requirement, StatusChange
from needpool.requirements.services import (
    comment_create,
    requirement_create,
    requirement_transition,
    requirement_update,
    requirements_priority_set,
)
from needpool.requirements.services.life import StaleMove
from tests.conftest import docs_client

URL = "/api/v1/requirements/{}/"


def _version(requirement: Requirement) -> int:
    return Requirement.objects.values_list("version", flat=True).get(pk=requirement.pk)


# ---------------------------------------------------------------- the version


class TestVersion:
    def test_a_new_requirement_starts_at_version_one(self, requirement):
        assert _version(requirement) == 1

    def test_every_service_write_of_the_row_bumps_it(self, users, requirement, customer):
        pm = users["product_manager"]
        requirement_update(actor=pm, requirement=requirement, title="新标题")
        assert _version(requirement) == 2
        requirement_transition(actor=pm, requirement=requirement, to="in_progress")
        assert _version(requirement) == 3
        requirements_priority_set(actor=pm, priorities=[(requirement.pk, "P1")])
        assert _version(requirement) == 4
        other = requirement_create(actor=pm, title="重复的需求", customer=customer)
        requirements_merge(actor=pm, survivor_id=requirement.pk, merged_ids=[other.pk])
        assert _version(requirement) == 5  # the survivor's search text
        assert _version(other) > 1  # merged into the survivor (and its customer value refreshed)

    def test_the_first_response_by_comment_bumps_it(self, users, requirement):
        comment_create(actor=users["product_manager"], requirement=requirement, body="收到，我们评估一下")
        assert _version(requirement) == 2


# ---------------------------------------------------------------- stale edits (service)


class TestStaleEdit:
    def test_an_edit_against_an_old_version_is_refused_and_writes_nothing(self, users, requirement):
        pm = users["product_manager"]
        requirement_update(actor=pm, requirement=requirement, title="甲的标题", expected_version=1)
        with pytest.raises(StaleVersion) as caught:
            requirement_update(actor=pm, requirement=requirement, title="乙的标题", expected_version=1)
        assert caught.value.current_version == 2
        assert "已被他人修改" in " ".join(caught.value.messages)
        requirement.refresh_from_db()
        assert (requirement.title, requirement.version) == ("甲的标题", 2)

    def test_without_an_expected_version_the_edit_is_applied(self, users, requirement):
        requirement_update(actor=users["product_manager"], requirement=requirement, title="甲的标题")
        requirement_update(actor=users["product_manager"], requirement=requirement, description="乙的描述")
        requirement.refresh_from_db()
        assert (requirement.title, requirement.description) == ("甲的标题", "乙的描述")


# ---------------------------------------------------------------- stale moves (service)


class TestStaleMove:
    def test_a_move_no_longer_allowed_after_another_move_won_is_a_stale_move(self, users, requirement):
        pm = users["product_manager"]
        seen = Requirement.objects.get(pk=requirement.pk)  # 待处理
        requirement_transition(actor=pm, requirement=requirement, to="rejected", note="重复需求")
        with pytest.raises(StaleMove) as caught:
            requirement_transition(actor=pm, requirement=seen, to="in_progress")
        assert caught.value.current.key == "rejected"
        assert "已拒绝" in " ".join(caught.value.messages)
        requirement.refresh_from_db()
        assert requirement.status.key == "rejected"
        assert StatusChange.objects.filter(requirement=requirement).count() == 2

    def test_the_same_move_made_twice_says_the_other_one_won(self, users, requirement):
        pm = users["product_manager"]
        seen = Requirement.objects.get(pk=requirement.pk)
        requirement_transition(actor=pm, requirement=requirement, to="in_progress")
        with pytest.raises(StaleMove) as caught:
            requirement_transition(actor=pm, requirement=seen, to="in_progress")
        assert "已处于" in " ".join(caught.value.messages) and caught.value.current.key == "in_progress"

    def test_a_move_that_still_applies_after_another_move_goes_through(self, users, requirement):
        pm = users["product_manager"]
        seen = Requirement.objects.get(pk=requirement.pk)  # 待处理
        requirement_transition(actor=pm, requirement=requirement, to="in_progress")
        moved = requirement_transition(actor=pm, requirement=seen, to="deferred")  # allowed from 处理中 too
        assert moved.status.key == "deferred"

    @pytest.mark.parametrize("expected", ["new", "in_progress", "testing"])
    def test_an_expected_status_other_than_the_current_one_is_refused(self, users, requirement, expected):
        pm = users["product_manager"]
        requirement_transition(actor=pm, requirement=requirement, to="in_progress")
        if expected == "in_progress":
            assert (
                requirement_transition(
                    actor=pm, requirement=requirement, to="testing", expected_status=expected
                ).status.key
                == "testing"
            )
            return
        with pytest.raises(StaleMove):
            requirement_transition(actor=pm, requirement=requirement, to="testing", expected_status=expected)
        requirement.refresh_from_db()
        assert requirement.status.key == "in_progress"

    def test_the_expected_status_may_be_given_by_id(self, users, requirement):
        status_id = requirement.status_id
        moved = requirement_transition(
            actor=users["product_manager"], requirement=requirement, to="in_progress", expected_status=str(status_id)
        )
        assert moved.status.key == "in_progress"

    def test_a_stale_version_refuses_the_move(self, users, requirement):
        pm = users["product_manager"]
        requirement_update(actor=pm, requirement=requirement, title="改过")
        with pytest.raises(StaleVersion):
            requirement_transition(actor=pm, requirement=requirement, to="in_progress", expected_version=1)
        assert StatusChange.objects.filter(requirement=requirement).count() == 1

    def test_a_stale_move_is_a_validation_error_for_the_pages(self, users, requirement):
        pm = users["product_manager"]
        requirement_transition(actor=pm, requirement=requirement, to="in_progress")
        with pytest.raises(ValidationError):
            requirement_transition(actor=pm, requirement=requirement, to="testing", expected_status="new")


# ---------------------------------------------------------------- API: ETag / If-Match


class TestApi:
    def test_detail_sends_the_etag(self, api, users, requirement):
        response = api(users["product_manager"]).get(URL.format(requirement.pk))
        assert response.status_code == 200
        assert response["ETag"] == 'W/"1"'

    def test_a_patch_with_the_current_etag_is_applied_and_answers_the_new_one(self, api, users, requirement):
        response = api(users["product_manager"]).patch(
            URL.format(requirement.pk), {"title": "新标题"}, format="json", HTTP_IF_MATCH='W/"1"'
        )
        assert response.status_code == 200, response.json()
        assert response["ETag"] == 'W/"2"'

    @pytest.mark.parametrize("method", ["patch", "put"])
    def test_a_stale_if_match_answers_412_and_changes_nothing(self, api, users, requirement, method):
        client = api(users["product_manager"])
        body = client.get(URL.format(requirement.pk)).json()
        assert client.patch(URL.format(requirement.pk), {"title": "甲的标题"}, format="json").status_code == 200
        data = {"title": "乙的标题"} if method == "patch" else {**_writable(body), "title": "乙的标题"}
        response = getattr(client, method)(URL.format(requirement.pk), data, format="json", HTTP_IF_MATCH='W/"1"')
        assert response.status_code == 412, response.json()
        assert response["ETag"] == 'W/"2"'
        assert response.json()["version"] == 2 and "他人修改" in response.json()["detail"]
        requirement.refresh_from_db()
        assert requirement.title == "甲的标题"

    def test_a_strong_etag_and_a_list_are_understood(self, api, users, requirement):
        client = api(users["product_manager"])
        ok = client.patch(URL.format(requirement.pk), {"title": "一"}, format="json", HTTP_IF_MATCH='"1"')
        assert ok.status_code == 200
        listed = client.patch(URL.format(requirement.pk), {"title": "二"}, format="json", HTTP_IF_MATCH='W/"9", W/"2"')
        assert listed.status_code == 200
        star = client.patch(URL.format(requirement.pk), {"title": "三"}, format="json", HTTP_IF_MATCH="*")
        assert star.status_code == 200

    def test_a_malformed_if_match_is_a_failed_precondition(self, api, users, requirement):
        response = api(users["product_manager"]).patch(
            URL.format(requirement.pk), {"title": "x"}, format="json", HTTP_IF_MATCH="version-1"
        )
        assert response.status_code == 412
        requirement.refresh_from_db()
        assert requirement.title != "x"

    def test_a_patch_without_if_match_changes_only_what_it_sends(self, api, users, requirement):
        client = api(users["product_manager"])
        client.patch(URL.format(requirement.pk), {"title": "甲的标题"}, format="json")
        client.patch(URL.format(requirement.pk), {"description": "乙的描述"}, format="json")
        requirement.refresh_from_db()
        assert (requirement.title, requirement.description) == ("甲的标题", "乙的描述")

    def test_a_put_without_if_match_is_accepted(self, api, users, requirement):
        client = api(users["product_manager"])
        body = client.get(URL.format(requirement.pk)).json()
        response = client.put(URL.format(requirement.pk), {**_writable(body), "title": "整体替换"}, format="json")
        assert response.status_code == 200, response.json()

    def test_five_stale_writes_in_a_row_lose_no_update(self, api, users, requirement):
        first, second = api(users["product_manager"]), api(users["manager"])
        lost = 0
        for n in range(5):
            tag = first.get(URL.format(requirement.pk))["ETag"]
            other = second.get(URL.format(requirement.pk))["ETag"]
            assert (
                first.patch(
                    URL.format(requirement.pk), {"title": f"甲{n}"}, format="json", HTTP_IF_MATCH=tag
                ).status_code
                == 200
            )
            answer = second.patch(URL.format(requirement.pk), {"title": f"乙{n}"}, format="json", HTTP_IF_MATCH=other)
            requirement.refresh_from_db()
            lost += requirement.title != f"甲{n}" or answer.status_code != 412
        assert lost == 0

    def test_a_transition_from_a_stale_status_answers_409_with_the_current_status(self, api, users, requirement):
        client = api(users["product_manager"])
        client.post(URL.format(requirement.pk) + "transition/", {"to": "in_progress"}, format="json")
        response = client.post(
            URL.format(requirement.pk) + "transition/", {"to": "deferred", "from": "new"}, format="json"
        )
        assert response.status_code == 409, response.json()
        body = response.json()
        assert body["status"]["key"] == "in_progress" and body["status"]["label"] == "处理中"
        assert "处理中" in body["detail"] and body["to"] == [body["detail"]]
        requirement.refresh_from_db()
        assert requirement.status.key == "in_progress"

    def test_a_transition_from_the_current_status_goes_through(self, api, users, requirement):
        response = api(users["product_manager"]).post(
            URL.format(requirement.pk) + "transition/", {"to": "in_progress", "from": "new"}, format="json"
        )
        assert response.status_code == 200, response.json()
        assert response["ETag"] == 'W/"2"'

    def test_a_transition_honours_if_match(self, api, users, requirement):
        client = api(users["product_manager"])
        client.patch(URL.format(requirement.pk), {"title": "改过"}, format="json")
        response = client.post(
            URL.format(requirement.pk) + "transition/", {"to": "in_progress"}, format="json", HTTP_IF_MATCH='W/"1"'
        )
        assert response.status_code == 412
        requirement.refresh_from_db()
        assert requirement.status.key == "new"

    def test_the_schema_documents_etag_if_match_412_and_409(self, db):

        schema = docs_client().get("/api/schema/", {"format": "json"}).json()
        detail = schema["paths"]["/api/v1/requirements/{id}/"]
        for method in ("put", "patch"):
            names = {p["name"] for p in detail[method]["parameters"]}
            assert "If-Match" in names
            assert "412" in detail[method]["responses"]
            assert "ETag" in detail[method]["responses"]["200"].get("headers", {})
        assert "ETag" in detail["get"]["responses"]["200"].get("headers", {})
        move = schema["paths"]["/api/v1/requirements/{id}/transition/"]["post"]
        assert {"409", "412"} <= set(move["responses"])
        assert "If-Match" in {p["name"] for p in move["parameters"]}
        body = schema["components"]["schemas"]["TransitionRequestRequest"]
        assert "from" in body["properties"]


def _writable(body: dict) -> dict:
    keep = ("title", "description", "background", "concrete_ask", "expected_date", "priority")
    return {k: body[k] for k in keep if k in body}


# ---------------------------------------------------------------- the rule, against whatever a caller sends


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    header=st.one_of(
        st.none(),
        st.integers(min_value=0, max_value=5).map(lambda n: etag(n)),
        st.integers(min_value=0, max_value=5).map(lambda n: f'"{n}"'),
        st.lists(st.integers(min_value=0, max_value=5), min_size=1, max_size=3).map(
            lambda ns: ", ".join(etag(n) for n in ns)
        ),
        st.text(max_size=12),
    )
)
def test_an_edit_is_applied_only_when_if_match_names_the_current_version(api, users, requirement, header):
    """Whatever If-Match says (absent, weak, strong, a list, junk), the edit is applied only when it names the
    current version (or is absent / *), and a refused edit changes nothing."""
    from needpool.core.concurrency import parse_if_match

    requirement.refresh_from_db()
    before = (requirement.title, requirement.version)
    extra = {} if header is None else {"HTTP_IF_MATCH": header}
    response = api(users["product_manager"]).patch(
        URL.format(requirement.pk), {"title": f"t{before[1]}"}, format="json", **extra
    )
    listed = parse_if_match(header)
    should_apply = listed is None or before[1] in listed
    requirement.refresh_from_db()
    if should_apply:
        assert response.status_code == 200, response.json()
        assert requirement.version == before[1] + 1
    else:
        assert response.status_code == 412
        assert (requirement.title, requirement.version) == before
