"""Bulk edit of selected requirements: each row through the single-edit services and gates, one result per row;
the selection is capped; an export of just the selection; the page and ``POST /api/v1/requirements/bulk/``."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from needpool.requirements.merging.services import requirements_merge
from needpool.requirements.models import Requirement
from needpool.requirements.permissions import can_edit_requirement, can_transition_requirement
from needpool.requirements.services import requirement_create, requirement_update
from needpool.requirements.services.bulk import MAX_SELECTION, clean_ids, requirements_bulk_edit
from tests.conftest import ALL_ROLES, option

pytestmark = pytest.mark.django_db
API = "/api/v1/requirements/bulk/"


def _by_id(rows):
    return {row.id: row for row in rows}


class TestService:
    def test_owner_urgency_and_tags_change_on_every_row_the_user_may_edit(self, users, pool):
        pm = users["product_manager"]
        ids = [pool["r1"].pk, pool["r2"].pk, pool["r3"].pk]
        rows = requirements_bulk_edit(actor=pm, ids=ids, action="owner", value=str(users["engineer"].pk))
        assert [r.ok for r in rows] == [True, True, True]
        assert set(Requirement.objects.values_list("owner__username", flat=True)) == {"engineer"}
        rows = requirements_bulk_edit(actor=pm, ids=ids, action="urgency", value="urgent")
        assert all(r.ok for r in rows)
        assert set(Requirement.objects.values_list("urgency__key", flat=True)) == {"urgent"}
        rows = requirements_bulk_edit(actor=pm, ids=ids, action="tag_add", value="efficiency")
        assert all(r.ok for r in rows)
        assert all(r.tags.filter(key="efficiency").exists() for r in Requirement.objects.all())
        again = requirements_bulk_edit(actor=pm, ids=ids[:1], action="tag_add", value="efficiency")
        assert again[0].ok and again[0].message == "无需更改"
        requirements_bulk_edit(actor=pm, ids=ids, action="tag_remove", value="efficiency")
        assert not Requirement.objects.filter(tags__key="efficiency").exists()
        assert pool["r1"].tags.filter(key="bulk_operation").exists()  # the other tags stay
        rows = requirements_bulk_edit(actor=pm, ids=ids, action="owner", value="none")
        assert all(r.ok for r in rows) and not Requirement.objects.filter(owner__isnull=False).exists()

    def test_a_status_move_goes_through_the_workflow_and_its_gates(self, users, pool):
        pm = users["product_manager"]
        incomplete = requirement_create(actor=pm, title="客户说报表太慢")
        ids = [pool["r1"].pk, pool["r2"].pk, incomplete.pk]
        rows = _by_id(requirements_bulk_edit(actor=pm, ids=ids, action="status", value="in_progress"))
        assert rows[pool["r1"].pk].ok
        assert not rows[pool["r2"].pk].ok and "已处于" in rows[pool["r2"].pk].message
        assert not rows[incomplete.pk].ok and "缺少" in rows[incomplete.pk].message
        rows = _by_id(requirements_bulk_edit(actor=pm, ids=[pool["r1"].pk], action="status", value="launched"))
        assert "不允许" in rows[pool["r1"].pk].message
        rows = _by_id(requirements_bulk_edit(actor=pm, ids=[pool["r1"].pk], action="status", value="nowhere"))
        assert "不在当前流程中" in rows[pool["r1"].pk].message

    def test_rows_the_user_may_not_edit_or_see_are_refused_and_the_rest_applied(self, users, pool, other_sales):
        sales = users["sales"]  # created r1, not r2 / r3; sees r1 and r2 (customer of the team) but not r3
        own = requirement_create(actor=other_sales, title="别的团队的需求")
        ids = [pool["r1"].pk, pool["r2"].pk, own.pk]
        rows = _by_id(requirements_bulk_edit(actor=sales, ids=ids, action="urgency", value="normal"))
        assert rows[pool["r1"].pk].ok
        assert not rows[own.pk].ok and rows[own.pk].message == "需求不存在或您无权查看。" and rows[own.pk].code == ""
        pool["r1"].refresh_from_db()
        assert pool["r1"].urgency.key == "normal"
        own.refresh_from_db()
        assert own.urgency is None or own.urgency.key != "normal"

    def test_a_row_changed_since_the_page_was_read_is_refused(self, users, requirement):
        pm = users["product_manager"]
        read = requirement.version
        requirement_update(actor=pm, requirement=requirement, title="别人刚改过")
        rows = requirements_bulk_edit(
            actor=pm, ids=[requirement.pk], action="urgency", value="urgent", versions={requirement.pk: read}
        )
        assert not rows[0].ok and "已被他人修改" in rows[0].message
        requirement.refresh_from_db()
        assert requirement.urgency.key == "important"

    def test_a_merged_requirement_is_refused(self, users, requirement, customer):
        pm = users["product_manager"]
        dup = requirement_create(actor=pm, title="重复", customer=customer)
        requirements_merge(actor=pm, survivor_id=requirement.pk, merged_ids=[dup.pk])
        rows = requirements_bulk_edit(actor=pm, ids=[dup.pk], action="urgency", value="urgent")
        assert not rows[0].ok and rows[0].message

    @pytest.mark.parametrize(
        ("ids", "action", "value", "message"),
        [
            ([], "owner", "", "请先勾选"),
            (["abc"], "owner", "", "不是有效的需求编号"),
            (["99999999999999999999"], "owner", "", "不是有效的需求编号"),
            ([1], "delete", "", "不支持的批量操作"),
            ([1], "owner", "nobody", "负责人“nobody”不存在"),
            ([1], "urgency", "whenever", "紧急程度“whenever”不存在"),
            ([1], "tag_add", "", "标签“”不存在"),
            ([1], "status", "", "请选择要流转到的状态"),
        ],
    )
    def test_a_wrong_request_is_refused_as_a_whole(self, users, requirement, ids, action, value, message):
        before = Requirement.objects.values_list("version", flat=True).get(pk=requirement.pk)
        with pytest.raises(ValidationError, match=message):
            requirements_bulk_edit(actor=users["manager"], ids=ids, action=action, value=value)
        assert Requirement.objects.values_list("version", flat=True).get(pk=requirement.pk) == before

    def test_the_selection_is_capped(self):
        assert clean_ids(["3,1", 1, "2", ""]) == [3, 1, 2]
        assert len(clean_ids(range(1, MAX_SELECTION + 1))) == MAX_SELECTION
        with pytest.raises(ValidationError, match=f"一次最多处理 {MAX_SELECTION} 条需求，您选择了 501 条"):
            clean_ids(range(1, MAX_SELECTION + 2))


# ---------------------------------------------------------------- the gates hold for every role (property)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    role=st.sampled_from(ALL_ROLES),
    creator_is_actor=st.booleans(),
    owner_is_actor=st.booleans(),
    action=st.sampled_from(["owner", "urgency", "tag_add", "status"]),
)
def test_bulk_edit_changes_a_row_only_when_a_single_edit_would(
    users, customer, role, creator_is_actor, owner_is_actor, action
):
    actor = users[role]
    creator = actor if creator_is_actor and actor.can("requirement.create") else users["product_manager"]
    target = requirement_create(
        actor=creator,
        customer=customer,
        title="批量权限",
        background="背景",
        concrete_ask="诉求",
        expected_date=__import__("datetime").date(2030, 1, 1),
        owner=actor if owner_is_actor else users["manager"],
        urgency=option("urgency", "normal"),
    )
    value = {"owner": str(users["engineer"].pk), "urgency": "urgent", "tag_add": "efficiency", "status": "in_progress"}
    before = Requirement.objects.values_list("version", flat=True).get(pk=target.pk)
    may = (can_transition_requirement if action == "status" else can_edit_requirement)(actor, target)
    rows = requirements_bulk_edit(actor=actor, ids=[target.pk], action=action, value=value[action])
    after = Requirement.objects.values_list("version", flat=True).get(pk=target.pk)
    assert rows[0].ok == (after > before)
    if not may:
        assert after == before and not rows[0].ok


# ---------------------------------------------------------------- API


@pytest.mark.parametrize("role", ALL_ROLES)
def test_api_gives_a_result_per_row_for_every_role(api, users, pool, role):
    ids = [pool["r1"].pk, pool["r3"].pk]
    response = api(users[role]).post(API, {"ids": ids, "action": "urgency", "value": "urgent"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert [r["id"] for r in body["results"]] == ids
    assert body["done"] + body["refused"] == 2
    for row in body["results"]:
        requirement = Requirement.objects.get(pk=row["id"])
        assert row["ok"] == (requirement.urgency is not None and requirement.urgency.key == "urgent")
        if not row["ok"]:
            assert row["message"]
    if role in ("viewer", "compliance", "engineer"):
        assert body["done"] == 0


def test_api_versions_and_wrong_requests(api, users, requirement):
    client = api(users["product_manager"])
    stale = client.post(
        API,
        {"ids": [requirement.pk], "action": "owner", "value": "manager", "versions": {str(requirement.pk): 99}},
        format="json",
    )
    assert stale.json()["results"][0]["ok"] is False
    too_many = client.post(API, {"ids": list(range(1, 502)), "action": "owner", "value": ""}, format="json")
    assert too_many.status_code == 400 and "一次最多处理 500 条" in str(too_many.json())
    assert client.post(API, {"ids": [], "action": "owner", "value": ""}, format="json").status_code == 400
    assert client.post(API, {"ids": [1], "action": "drop", "value": ""}, format="json").status_code == 400
    assert api(None).post(API, {"ids": [1], "action": "owner", "value": ""}, format="json").status_code in (401, 403)
    done = client.post(API, {"ids": [requirement.pk], "action": "owner", "value": "manager"}, format="json")
    assert done.json() == {
        "done": 1,
        "refused": 0,
        "results": [
            {
                "id": requirement.pk,
                "code": requirement.code,
                "title": requirement.title,
                "ok": True,
                "message": "已修改",
            }
        ],
    }


# ---------------------------------------------------------------- pages


def test_list_offers_bulk_edit_to_writers_and_not_to_viewers(client, users, requirement):
    client.force_login(users["product_manager"])
    html = client.get(reverse("requirements:list")).content.decode()
    assert 'id="bulk-form"' in html and 'id="select-page"' in html and 'id="export-selected"' in html
    assert f'data-version="{requirement.version}"' in html
    client.force_login(users["viewer"])
    html = client.get(reverse("requirements:list")).content.decode()
    assert 'id="bulk-form"' not in html and 'id="export-selected"' not in html


def test_bulk_page_shows_each_rows_result(client, users, pool):
    client.force_login(users["sales"])
    response = client.post(
        reverse("requirements:bulk"),
        {
            "ids": [pool["r1"].pk, pool["r2"].pk],
            "v": [f"{pool['r1'].pk}:{pool['r1'].version}", "junk", "x:y"],
            "action": "urgency",
            "value_urgency": "normal",
            "back": "sort=priority",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "1 条成功，1 条未修改" in html
    assert 'href="/requirements/?sort=priority"' in html
    assert "需求不存在或您无权查看" in html  # r2 belongs to another team's customer


def test_bulk_page_refuses_a_wrong_selection_with_a_message(client, users):
    client.force_login(users["manager"])
    response = client.post(
        reverse("requirements:bulk"), {"ids": [], "action": "owner", "back": "q=x\r\nSet-Cookie: a"}, follow=True
    )
    assert "请先勾选要修改的需求" in response.content.decode()
    assert response.redirect_chain[0][0].startswith("/requirements/?q=x")
    assert client.get(reverse("requirements:bulk")).status_code == 405


def test_export_of_the_selection_uses_the_list_export(client, users, pool):
    client.force_login(users["product_manager"])
    url = reverse("intake:export_requirements", args=["management", "csv"])
    response = client.get(url, {"ids": [pool["r1"].pk, pool["r3"].pk]})
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    codes = {cell for row in rows[1:] for cell in row}
    assert pool["r1"].code in codes and pool["r3"].code in codes and pool["r2"].code not in codes
    too_many = client.get(url, {"ids": ",".join(str(i) for i in range(1, 502))})
    assert too_many.status_code == 400 and "一次最多选择 500 条需求" in too_many.content.decode()
