"""Requirements API: create / read / edit per role, transitions, comments, history, filters."""

from __future__ import annotations

import pytest

from needpool.requirements.models import Comment, Feedback, Requirement, StatusChange
from tests.conftest import ALL_ROLES, NON_WRITERS, WRITERS, option

LIST = "/api/v1/requirements/"


def detail(requirement, tail=""):
    return f"{LIST}{requirement.pk}/{tail}"


def codes(response):
    return {r["code"] for r in response.json()["results"]}


# ---------------------------------------------------------------- read


@pytest.mark.parametrize("role", ALL_ROLES)
def test_every_role_of_the_team_reads_the_requirement(api, users, requirement, customer, role):
    client = api(users[role])
    assert codes(client.get(LIST)) == {requirement.code}
    body = client.get(detail(requirement)).json()
    assert body["code"] == requirement.code
    assert body["type"] == {"key": "function_improvement", "label": "功能优化"}
    assert body["urgency"] == {"key": "important", "label": "重要"}
    assert body["nature"] is None
    assert body["tags"] == ["bulk_operation"]
    assert body["status"] == {"key": "new", "label": "待处理"}
    assert body["customers"] == [{"id": customer.pk, "code": customer.code, "name": "A科技公司"}]
    assert body["customer_value"] == "high"
    assert body["owner"] == users["sales"].pk
    assert body["concrete_ask"] == "支持按客户等级配置批量折扣规则"
    assert body["url"].endswith(detail(requirement))
    assert body["first_response_due"]
    assert body["sla_breached"] is False


def test_list_item_matches_detail(api, users, requirement):
    client = api(users["manager"])
    listed = client.get(LIST).json()["results"][0]
    assert listed == client.get(detail(requirement)).json()


def test_other_team_sees_neither_list_nor_detail(api, other_sales, requirement):
    client = api(other_sales)
    assert client.get(LIST).json()["count"] == 0
    for tail in ("", "comments/", "history/"):
        assert client.get(detail(requirement, tail)).status_code == 404
    assert client.patch(detail(requirement), {"title": "x"}, format="json").status_code == 404
    assert client.post(detail(requirement, "transition/"), {"to": "in_progress"}, format="json").status_code == 404
    assert client.post(detail(requirement, "comments/"), {"body": "x"}, format="json").status_code == 404


def test_unknown_requirement_is_404(api, users, db):
    assert api(users["admin"]).get(f"{LIST}999999/").status_code == 404


# ---------------------------------------------------------------- create


@pytest.mark.parametrize("role", WRITERS)
def test_writers_create_a_requirement_with_the_customers_words(api, users, customer, role):
    contact = customer.contacts.get()
    response = api(users[role]).post(
        LIST,
        {
            "title": "开放实时监控 API",
            "background": "客户需要在自己的大屏上看订单",
            "concrete_ask": "提供订单状态的实时接口",
            "expected_date": "2024-08-31",
            "type": "function",
            "urgency": "urgent",
            "nature": "functional",
            "source": "explicit",
            "category": "functional",
            "tags": ["feature_suggestion", "efficiency"],
            "priority": "P1",
            "customer": customer.pk,
            "contact": contact.pk,
            "channel": "interview",
            "feedback_text": "我们想要一个实时监控的接口",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["code"].startswith("DEM")
    assert body["status"]["key"] == "new"
    assert body["nature"] == {"key": "functional", "label": "功能型"}
    assert body["category"]["key"] == "functional"
    assert sorted(body["tags"]) == ["efficiency", "feature_suggestion"]
    assert body["customers"] == [{"id": customer.pk, "code": customer.code, "name": "A科技公司"}]
    assert body["customer_value"] == "high"
    assert body["owner"] == users[role].pk
    assert body["first_response_due"]
    assert "feedback_text" not in body and "customer" not in body
    evidence = Feedback.objects.get(requirement_id=body["id"])
    assert (evidence.raw_text, evidence.channel, evidence.contact_id) == (
        "我们想要一个实时监控的接口",
        "interview",
        contact.pk,
    )
    assert StatusChange.objects.filter(requirement_id=body["id"]).count() == 1


@pytest.mark.parametrize("role", NON_WRITERS)
def test_others_may_not_create_requirements(api, users, role, db):
    response = api(users[role]).post(LIST, {"title": "x"}, format="json")
    assert response.status_code == 403
    assert not Requirement.objects.exists()


def test_create_from_existing_feedback(api, users, customer):
    from needpool.requirements.services import feedback_create

    item = feedback_create(actor=users["sales"], raw_text="希望支持 Excel 导出", channel="ticket", customer=customer)
    response = api(users["sales"]).post(LIST, {"title": "Excel 导出", "feedback": [item.pk]}, format="json")
    assert response.status_code == 201, response.json()
    item.refresh_from_db()
    assert item.requirement_id == response.json()["id"]
    assert response.json()["customers"][0]["id"] == customer.pk


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({}, "title"),
        ({"title": "x", "type": "no-such-type"}, "type"),
        ({"title": "x", "type": "urgent"}, "type"),  # a key of another dimension
        ({"title": "x", "urgency": "function"}, "urgency"),
        ({"title": "x", "tags": ["urgent"]}, "tags"),
        ({"title": "x", "priority": "P9"}, "priority"),
        ({"title": "x", "expected_date": "2024-13-40"}, "expected_date"),
        ({"title": "x", "channel": "pigeon"}, "channel"),
        ({"title": "x", "owner": 999999}, "owner"),
        ({"title": "x", "feedback": [999999]}, "feedback"),
    ],
)
def test_bad_input_is_per_field_and_writes_nothing(api, users, data, field, db):
    response = api(users["sales"]).post(LIST, data, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert isinstance(response.json()[field], list)
    assert not Requirement.objects.exists()
    assert not Feedback.objects.exists()


def test_customer_of_another_team_cannot_be_used(api, other_sales, customer):
    response = api(other_sales).post(LIST, {"title": "x", "customer": customer.pk}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["customer"]
    assert not Requirement.objects.exists()


def test_feedback_already_linked_elsewhere_rolls_back(api, users, requirement):
    linked = requirement.feedback_items.get()
    before = Requirement.objects.count()
    response = api(users["manager"]).post(LIST, {"title": "重复", "feedback": [linked.pk]}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["feedback"]
    assert Requirement.objects.count() == before


# ---------------------------------------------------------------- edit


@pytest.mark.parametrize("role", ["admin", "manager", "product_manager", "sales"])
def test_owner_and_editors_edit(api, users, requirement, role):
    response = api(users[role]).patch(
        detail(requirement), {"title": "按等级的批量折扣", "nature": "emotional", "tags": ["efficiency"]}, format="json"
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["title"] == "按等级的批量折扣"
    assert body["nature"]["key"] == "emotional"
    assert body["tags"] == ["efficiency"]
    assert body["type"]["key"] == "function_improvement"  # untouched by PATCH
    requirement.refresh_from_db()
    assert requirement.title == "按等级的批量折扣"


def test_an_expected_date_already_past_is_saved_with_a_warning(api, users, requirement):
    import datetime as dt

    from django.utils import timezone

    past = timezone.localdate() - dt.timedelta(days=3)
    response = api(users["manager"]).patch(detail(requirement), {"expected_date": past.isoformat()}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["expected_date"] == past.isoformat()  # a warning, not a refusal
    assert len(body["warnings"]) == 1 and past.isoformat() in body["warnings"][0] and "已经过去" in body["warnings"][0]
    later = timezone.localdate() + dt.timedelta(days=30)
    response = api(users["manager"]).patch(detail(requirement), {"expected_date": later.isoformat()}, format="json")
    assert response.json()["warnings"] == []


@pytest.mark.parametrize("role", ["service", "engineer", "compliance", "viewer"])
def test_others_may_not_edit(api, users, requirement, role):
    response = api(users[role]).patch(detail(requirement), {"title": "x"}, format="json")
    assert response.status_code == 403
    requirement.refresh_from_db()
    assert requirement.title == "按客户等级设置批量订单折扣规则"


def test_status_and_code_are_read_only_in_edit(api, users, requirement):
    response = api(users["manager"]).patch(detail(requirement), {"status": "closed", "code": "X"}, format="json")
    assert response.status_code == 200
    requirement.refresh_from_db()
    assert requirement.status.key == "new"
    assert requirement.code.startswith("DEM")


def test_changing_urgency_recomputes_the_sla(api, users, requirement):
    due = requirement.first_response_due
    response = api(users["manager"]).patch(detail(requirement), {"urgency": "urgent"}, format="json")
    assert response.status_code == 200
    requirement.refresh_from_db()
    assert requirement.first_response_due < due


def test_put_requires_title_and_clears_options(api, users, requirement):
    client = api(users["manager"])
    assert client.put(detail(requirement), {"description": "x"}, format="json").status_code == 400
    response = client.put(detail(requirement), {"title": "新标题", "type": None}, format="json")
    assert response.status_code == 200
    assert response.json()["type"] is None


def test_delete_goes_to_the_recycle_bin(api, users, requirement):
    assert api(users["admin"]).delete(detail(requirement)).status_code == 204
    assert not Requirement.objects.filter(pk=requirement.pk).exists()
    assert Requirement.all_objects.filter(pk=requirement.pk).exists()


# ---------------------------------------------------------------- transitions and history


@pytest.mark.parametrize("role", ["admin", "manager", "product_manager", "engineer", "sales"])
def test_transition_allowed(api, users, requirement, role):
    response = api(users[role]).post(
        detail(requirement, "transition/"), {"to": "in_progress", "note": "开始处理"}, format="json"
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == {"key": "in_progress", "label": "处理中"}
    assert body["first_responded_at"]
    requirement.refresh_from_db()
    assert requirement.status.key == "in_progress"


@pytest.mark.parametrize("role", ["service", "compliance", "viewer"])
def test_transition_refused_for_role(api, users, requirement, role):
    response = api(users[role]).post(detail(requirement, "transition/"), {"to": "in_progress"}, format="json")
    assert response.status_code == 403
    requirement.refresh_from_db()
    assert requirement.status.key == "new"


def test_transition_is_recorded_in_history(api, users, requirement):
    client = api(users["engineer"])
    client.post(detail(requirement, "transition/"), {"to": "in_progress", "note": "排期"}, format="json")
    history = client.get(detail(requirement, "history/"))
    assert history.status_code == 200
    rows = history.json()["results"]
    assert history.json()["count"] == 2
    latest = rows[0]
    assert latest["source"] == {"key": "new", "label": "待处理"}
    assert latest["target"] == {"key": "in_progress", "label": "处理中"}
    assert latest["actor"] == users["engineer"].pk
    assert latest["actor_name"] == "engineer"
    assert latest["note"] == "排期"
    assert rows[1]["source"] is None
    assert rows[1]["target"]["key"] == "new"


def test_disallowed_move_is_400_on_to(api, users, requirement):
    response = api(users["manager"]).post(detail(requirement, "transition/"), {"to": "launched"}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert list(body) == ["to"]
    assert "不允许从“待处理”流转到“已上线”" in body["to"][0]
    assert "处理中" in body["to"][0]  # lists where it may go
    assert StatusChange.objects.filter(requirement=requirement).count() == 1


def test_standardisation_gate_lists_what_is_missing(api, users, db):
    from needpool.requirements.services import requirement_create

    bare = requirement_create(actor=users["product_manager"], title="只有标题的需求")
    client = api(users["product_manager"])
    response = client.post(detail(bare, "transition/"), {"to": "in_progress"}, format="json")
    assert response.status_code == 400
    message = response.json()["to"][0]
    assert "需求信息未标准化" in message
    for missing in ("客户", "背景", "具体诉求", "期望时间"):
        assert missing in message
    bare.refresh_from_db()
    assert bare.status.key == "new"
    # deferring is a move out of 待处理 like any other: the gate applies
    deferred = client.post(detail(bare, "transition/"), {"to": "deferred"}, format="json")
    assert deferred.status_code == 400 and "需求信息未标准化" in deferred.json()["to"][0]
    # rejecting needs no standardised requirement, but it needs a reason
    unexplained = client.post(detail(bare, "transition/"), {"to": "rejected"}, format="json")
    assert unexplained.status_code == 400 and "拒绝时请填写理由" in unexplained.json()["to"][0]
    rejected = client.post(detail(bare, "transition/"), {"to": "rejected", "note": "不在产品范围内"}, format="json")
    assert rejected.status_code == 200


@pytest.mark.parametrize(
    ("data", "field"),
    [({}, "to"), ({"to": "nonsense"}, "to"), ({"to": "new"}, "to"), ({"to": "in_progress", "note": "x" * 501}, "note")],
)
def test_bad_transition_input(api, users, requirement, data, field):
    response = api(users["manager"]).post(detail(requirement, "transition/"), data, format="json")
    assert response.status_code == 400
    assert list(response.json()) == [field]


# ---------------------------------------------------------------- comments


@pytest.mark.parametrize("role", ["admin", "manager", "product_manager", "sales", "service", "engineer", "compliance"])
def test_comment_allowed(api, users, requirement, role):
    client = api(users[role])
    response = client.post(detail(requirement, "comments/"), {"body": "@sales 请补充客户等级 定义"}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["author"] == users[role].pk
    assert response.json()["mentions"] == ([] if role == "sales" else [users["sales"].pk])
    listed = client.get(detail(requirement, "comments/")).json()
    assert listed["count"] == 1
    assert listed["results"][0]["body"] == "@sales 请补充客户等级 定义"


def test_viewer_may_not_comment_but_reads_comments(api, users, requirement):
    client = api(users["viewer"])
    assert client.post(detail(requirement, "comments/"), {"body": "x"}, format="json").status_code == 403
    assert not Comment.objects.exists()
    assert client.get(detail(requirement, "comments/")).status_code == 200


def test_empty_comment_is_400(api, users, requirement):
    response = api(users["manager"]).post(detail(requirement, "comments/"), {"body": "   "}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["body"]


def test_comments_are_oldest_first_and_paginated(api, users, requirement):
    from needpool.requirements.services import comment_create

    for i in range(30):
        comment_create(actor=users["manager"], requirement=requirement, body=f"第{i}条")
    page = api(users["viewer"]).get(detail(requirement, "comments/"), {"page_size": 10}).json()
    assert page["count"] == 30
    assert [c["body"] for c in page["results"]][:2] == ["第0条", "第1条"]
    assert len(page["results"]) == 10


# ---------------------------------------------------------------- filters, sorting, pagination


def _id(dimension, key):
    return option(dimension, key).pk


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, {"r1", "r2", "r3"}),
        ({"q": "批量折扣"}, {"r1"}),
        ({"q": "交付"}, {"r2"}),
        ({"type": ("type", "function_improvement")}, {"r1"}),
        ({"urgency": ("urgency", "urgent")}, {"r2"}),
        ({"status": "in_progress"}, {"r2"}),
        ({"status": "new"}, {"r1", "r3"}),
        ({"status": "standard:in_progress"}, {"r2"}),  # one flow's status
        ({"status": "reviewed:in_progress"}, set()),
        ({"priority": "P0"}, {"r2"}),
        ({"customer": "customer_b"}, {"r2"}),
        ({"owner": "product_manager"}, {"r2", "r3"}),
        ({"tag": ("tag", "bulk_operation")}, {"r1"}),
        ({"submitted_after": "2024-01-01"}, {"r1", "r2"}),
        ({"submitted_before": "2023-12-31"}, {"r3"}),
        ({"expected_after": "2024-07-01"}, {"r2"}),
        ({"expected_before": "2024-07-01"}, {"r1"}),
        ({"sla_breached": "true"}, {"r2"}),
        ({"sla_breached": "false"}, {"r1", "r3"}),
        ({"priority": "P0", "status": "new"}, set()),
    ],
)
def test_each_filter_narrows(api, users, pool, customer_b, params, expected):
    resolved = {}
    for name, value in params.items():
        if isinstance(value, tuple):
            value = _id(*value)
        elif name == "customer":
            value = customer_b.pk
        elif name == "owner":
            value = users[value].pk
        resolved[name] = value
    response = api(users["manager"]).get(LIST, resolved)
    assert response.status_code == 200, response.json()
    assert codes(response) == {pool[k].code for k in expected}


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("type", "service"),
        ("urgency", "urgent"),
        ("nature", "latent"),
        ("source", "implicit"),
        ("category", "performance"),
        ("tag", "service_complaint"),
    ],
)
def test_each_classification_filter_takes_the_option_key_or_id(api, users, pool, name, key):
    Requirement.objects.filter(pk=pool["r2"].pk).update(
        nature=option("nature", "latent"),
        source=option("source", "implicit"),
        category=option("category", "performance"),
    )
    Requirement.objects.filter(pk=pool["r1"].pk).update(
        nature=option("nature", "functional"),
        source=option("source", "explicit"),
        category=option("category", "functional"),
    )
    client = api(users["manager"])
    for value in (key, option(name, key).pk):
        response = client.get(LIST, {name: value})
        assert response.status_code == 200, response.json()
        assert codes(response) == {pool["r2"].code}, value


def test_unknown_option_key_is_400_naming_the_filter(api, users, pool):
    params = {name: "no-such-key" for name in ("type", "urgency", "nature", "source", "category", "tag")}
    response = api(users["manager"]).get(LIST, params)
    assert response.status_code == 400
    body = response.json()
    assert set(body) == set(params)
    assert "no-such-key" in body["nature"][0]


def test_q_by_code_finds_the_requirement(api, users, pool):
    assert codes(api(users["viewer"]).get(LIST, {"q": pool["r3"].code})) == {pool["r3"].code}


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        ("-submitted_at", ["r1", "r2", "r3"]),
        ("submitted_at", ["r3", "r2", "r1"]),
        ("priority", ["r1", "r2", "r3"]),  # blank first, then P0, P3
        ("expected_date", ["r1", "r2"]),  # r3 has no date: where NULL sorts depends on the database
        ("-expected_date", ["r2", "r1"]),
    ],
)
def test_sort(api, users, pool, sort, order):
    results = api(users["manager"]).get(LIST, {"sort": sort}).json()["results"]
    dated = {pool[k].code for k in order}
    assert [r["code"] for r in results if r["code"] in dated] == [pool[k].code for k in order]
    assert len(results) == 3


def test_invalid_filters_are_400_per_field(api, users, pool):
    response = api(users["manager"]).get(LIST, {"priority": "P9", "type": 999999, "submitted_after": "soon"})
    assert response.status_code == 400
    assert {"priority", "type", "submitted_after"} <= set(response.json())


def test_sales_filtered_list_stays_within_scope(api, users, other_sales, pool):
    # other_sales sees none of the pool, whatever the filter says
    assert api(other_sales).get(LIST, {"q": "批量折扣"}).json()["count"] == 0
    # sales sees its team's customer requirement, not B's or the customer-less one of the PM
    assert codes(api(users["sales"]).get(LIST)) == {pool["r1"].code}


def test_page_size_is_capped(api, users, settings, monkeypatch):
    from needpool.core.pagination import StandardPagination
    from needpool.requirements.services import requirement_create

    monkeypatch.setattr(StandardPagination, "max_page_size", 3)
    for i in range(5):
        requirement_create(actor=users["manager"], title=f"需求{i}")
    client = api(users["manager"])
    page = client.get(LIST, {"page_size": 50}).json()
    assert page["count"] == 5
    assert len(page["results"]) == 3
    assert len(client.get(LIST, {"page_size": 2, "page": 3}).json()["results"]) == 1
