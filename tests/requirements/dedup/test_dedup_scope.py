"""Duplicates are visible to the people who create them: a strong match outside the user's scope is named
(code, title, status, "属于其他客户") and can receive their customer's feedback as a vote — nothing else about it."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from needpool.accounts.models import User
from needpool.core.models import AuditEntry
from needpool.customers.models import Customer
from needpool.requirements.dedup import index as dedup
from needpool.requirements.dedup.services import feedback_attach
from needpool.requirements.models import Feedback, Requirement
from tests.requirements.dedup.conftest import forget_pending_index_changes

API = "/api/v1/requirements/similar/"
HTMX = {"HTTP_HX_REQUEST": "true"}
SECRET_FEEDBACK = "机密原话：华东仓每天要手工导出三次订单"
OTHER_CUSTOMER = "B机密客户有限公司"
OWNER_NAME = "王保密"


@pytest.fixture
def login(client):
    def as_user(user):
        client.force_login(user)
        return client

    return as_user


@pytest.fixture
def other_customer(other_sales: User) -> Customer:
    from needpool.customers.services import customer_create

    return customer_create(actor=other_sales, name="C物流公司", industry="物流", owner=other_sales)


@pytest.fixture
def hidden(pool: dict[str, Requirement], make_feedback: Callable[..., Feedback], users: dict[str, User]) -> Requirement:
    """The ``sso`` requirement, with a second customer's private feedback on it (out of ``other_sales``' scope)."""
    from needpool.customers.services import customer_create

    users["sales"].display_name = OWNER_NAME
    users["sales"].save(update_fields=["display_name"])
    secret = customer_create(actor=users["sales"], name=OTHER_CUSTOMER, industry="制造", owner=users["sales"])
    make_feedback(SECRET_FEEDBACK, customer=secret, requirement=pool["sso"])
    forget_pending_index_changes()
    return pool["sso"]


def _private_words(requirement: Requirement) -> list[str]:
    """What a user outside the scope must never read about ``requirement``."""
    words = [OTHER_CUSTOMER, "A科技公司", SECRET_FEEDBACK, requirement.description, OWNER_NAME]
    return [w for w in words if w]


# ---------------------------------------------------------------- lookup


def test_a_strong_match_out_of_scope_is_named_with_code_title_and_status_only(other_sales, hidden):
    found = dedup.similar_requirements(user=other_sales, text=hidden.title, with_hidden=True)
    assert [(c.id, c.in_scope) for c in found] == [(hidden.pk, False)]
    assert found[0].code == hidden.code and found[0].title == hidden.title
    assert found[0].status == hidden.status.label and found[0].score >= dedup.STRONG_MATCH
    # Without the flag (inbox, other callers) the lookup stays scoped.
    assert dedup.similar_requirements(user=other_sales, text=hidden.title) == []


@pytest.mark.parametrize("text", ["企业微信", "钉钉 登录", "希望能在手机上查看每个月的工资条明细"])
def test_a_weak_match_or_a_short_probe_out_of_scope_stays_hidden(other_sales, hidden, text):
    assert dedup.similar_requirements(user=other_sales, text=text, with_hidden=True) == []


def test_only_one_hidden_match_per_lookup(other_sales, users, customer, pool):
    from needpool.requirements.services import requirement_create

    for _ in range(3):
        requirement_create(actor=users["sales"], customer=customer, title=pool["sso"].title)
    forget_pending_index_changes()
    found = dedup.similar_requirements(user=other_sales, text=pool["sso"].title, with_hidden=True, limit=10)
    assert len([c for c in found if not c.in_scope]) == 1


def test_hidden_matches_are_capped_per_user_and_hour(other_sales, hidden, settings):
    settings.NEEDPOOL_DEDUP_HIDDEN_PER_HOUR = 2
    from django.core.cache import cache

    cache.clear()
    seen = [bool(dedup.similar_requirements(user=other_sales, text=hidden.title, with_hidden=True)) for _ in range(4)]
    assert seen == [True, True, False, False]


def test_a_merged_requirement_is_never_named(other_sales, hidden, users, pool):
    Requirement.objects.filter(pk=hidden.pk).update(merged_into=pool["export"])
    assert dedup.similar_requirements(user=other_sales, text=hidden.title, with_hidden=True) == []


def test_a_visible_strong_match_is_not_repeated_as_hidden(users, hidden):
    found = dedup.similar_requirements(user=users["sales"], text=hidden.title, with_hidden=True)
    assert found[0].id == hidden.pk and all(c.in_scope for c in found)


def test_the_hidden_match_replaces_the_weakest_visible_one(other_sales, other_customer, hidden):
    from needpool.requirements.services import requirement_create

    for i in range(3):
        requirement_create(actor=other_sales, customer=other_customer, title=f"企业微信登录问题第{i}条")
    forget_pending_index_changes()
    found = dedup.similar_requirements(user=other_sales, text=hidden.title, with_hidden=True, limit=2)
    assert len(found) == 2 and found[0].id == hidden.pk and not found[0].in_scope


def test_strong_match_helpers(hidden):
    assert dedup.strong_match(hidden.title, hidden.pk)
    assert not dedup.strong_match("完全无关的天气预报", hidden.pk)
    assert not dedup.strong_match("", hidden.pk)
    assert dedup.strong_match_exists(hidden.title)
    assert not dedup.strong_match_exists("   ")
    assert not dedup.strong_match_exists("完全无关的天气预报")


# ---------------------------------------------------------------- the panel and the API


def test_the_panel_names_the_hidden_match_without_a_link_or_private_fields(login, other_sales, hidden):
    for method in ("get", "post"):
        html = getattr(login(other_sales), method)(
            reverse("requirements:similar_panel"), {"title": hidden.title}, **HTMX
        ).content.decode()
        assert hidden.code in html and hidden.title in html and "属于其他客户" in html
        assert hidden.status.label in html
        assert reverse("requirements:detail", args=[hidden.pk]) not in html
        for word in _private_words(hidden):
            assert word not in html


def test_the_detail_page_still_refuses_them(login, other_sales, hidden):
    assert login(other_sales).get(reverse("requirements:detail", args=[hidden.pk])).status_code == 404


def test_the_panel_shows_the_real_status_name_only(login, users, pool):
    from needpool.requirements.models import WorkflowStatus

    deferred = WorkflowStatus.objects.filter(category="deferred").first()
    assert deferred is not None
    Requirement.objects.filter(pk=pool["sso"].pk).update(status=deferred)
    html = login(users["sales"]).post(reverse("requirements:similar_panel"), {"title": pool["sso"].title}, **HTMX)
    text = html.content.decode()
    assert deferred.label in text and "已关闭" not in text.replace(deferred.label, "")


def test_the_panel_takes_long_text_by_post(login, users, pool):
    long_text = (
        "支持企业微信和钉钉单点登录" + "，员工希望直接登录系统" * 80
    )  # far past the ~540 characters an address holds
    response = login(users["sales"]).post(
        reverse("requirements:similar_panel"), {"title": long_text, "exclude": ["x", str(pool["export"].pk)]}, **HTMX
    )
    assert response.status_code == 200 and pool["sso"].code in response.content.decode()


def test_the_suggestion_hint_takes_text_by_post(login, users, db):
    response = login(users["sales"]).post(reverse("suggest:text"), {"title": "希望导出Excel报表" * 60}, **HTMX)
    assert response.status_code == 200


def test_the_create_form_panels_post_and_say_when_they_fail(login, users, db):
    html = login(users["sales"]).get(reverse("requirements:create")).content.decode()
    assert f'hx-post="{reverse("requirements:similar_panel")}"' in html
    assert f'hx-post="{reverse("suggest:text")}"' in html
    assert html.count("data-lookup-error=") >= 2


def test_api_names_the_hidden_match_by_get_and_post(other_sales, hidden):
    client = APIClient()
    client.force_authenticate(other_sales)
    got = client.get(API, {"text": hidden.title}).json()
    posted = client.post(API, {"text": hidden.title, "limit": 3}, format="json").json()
    assert got == posted
    assert got[0]["id"] == hidden.pk and got[0]["in_scope"] is False
    assert set(got[0]) == {"id", "code", "title", "score", "status", "is_open", "in_scope"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "text"),
        ({"text": ""}, "text"),
        ({"text": "订" * 2001}, "text"),
        ({"text": "导出", "limit": 0}, "limit"),
        ({"text": "导出", "limit": "x"}, "limit"),
        ({"text": "导出", "exclude": "abc"}, "exclude"),
        ({"text": "导出", "exclude": [True]}, "exclude"),
    ],
)
def test_api_post_checks_its_body(users, db, body, field):
    client = APIClient()
    client.force_authenticate(users["sales"])
    response = client.post(API, body, format="json")
    assert response.status_code == 400 and field in response.json()


def test_api_post_takes_long_text_and_limit_and_exclude(users, pool):
    client = APIClient()
    client.force_authenticate(users["sales"])
    text = pool["sso"].title + "，员工希望直接登录系统" * 150
    response = client.post(API, {"text": text[:2000], "limit": "", "exclude": [pool["export"].pk]}, format="json")
    assert response.status_code == 200 and response.json()[0]["id"] == pool["sso"].pk
    assert client.post(API, json.dumps(["x"]), content_type="application/json").status_code == 400


def test_api_post_is_in_the_schema(users, db):
    client = APIClient()
    client.force_authenticate(users["manager"])
    paths = client.get("/api/schema/", {"format": "json"}).json()["paths"]
    post = paths["/api/v1/requirements/similar/"]["post"]
    assert "requestBody" in post and "400" in post["responses"]
    props = client.get("/api/schema/", {"format": "json"}).json()["components"]["schemas"]
    assert "in_scope" in props["SimilarRequirement"]["properties"]


# ---------------------------------------------------------------- the vote


def test_a_rep_adds_their_feedback_to_a_hidden_match_as_a_vote(login, other_sales, other_customer, hidden):
    from needpool.requirements.services import feedback_create

    mine = feedback_create(actor=other_sales, raw_text=hidden.title, channel="sales", customer=other_customer)
    client = login(other_sales)
    html = client.get(reverse("requirements:feedback_triage", args=[mine.pk])).content.decode()
    assert reverse("requirements:similar_attach", args=[mine.pk]) in html and "属于其他客户" in html
    for word in _private_words(hidden):
        assert word not in html
    response = client.post(reverse("requirements:similar_attach", args=[mine.pk]), {"requirement": hidden.pk}, **HTMX)
    body = response.content.decode()
    assert response.status_code == 200 and hidden.code in body and "已关联" in body
    for word in _private_words(hidden):
        assert word not in body
    mine.refresh_from_db()
    assert mine.requirement_id == hidden.pk and mine.scope_vote
    assert AuditEntry.objects.filter(action=AuditEntry.Action.LINK, object_id=str(hidden.pk)).exists()
    # The vote counts for the requirement, and opens it to no one: the page still refuses them.
    assert client.get(reverse("requirements:detail", args=[hidden.pk])).status_code == 404
    assert hidden.pk not in _visible_ids(other_sales)


def _visible_ids(user: User) -> list[int]:
    from needpool.requirements.permissions import visible_requirements

    return list(visible_requirements(user).values_list("pk", flat=True))


def test_a_vote_on_a_weak_match_out_of_scope_is_refused_like_a_missing_id(other_sales, other_customer, hidden):
    from needpool.requirements.services import feedback_create

    mine = feedback_create(actor=other_sales, raw_text="今天天气很好", channel="sales", customer=other_customer)
    with pytest.raises(PermissionDenied, match="需求不存在或您无权访问"):
        feedback_attach(actor=other_sales, feedback=mine, requirement=hidden)
    mine.refresh_from_db()
    assert mine.requirement_id is None


def test_a_vote_on_a_visible_requirement_one_may_not_edit_needs_a_strong_match(users, make_feedback, hidden):
    fb = make_feedback("今天天气很好", actor=users["service"])
    with pytest.raises(PermissionDenied, match="没有编辑该需求的权限"):
        feedback_attach(actor=users["service"], feedback=fb, requirement=hidden)
    strong = make_feedback(hidden.title, actor=users["service"])
    assert feedback_attach(actor=users["service"], feedback=strong, requirement=hidden).requirement_id == hidden.pk


def test_an_editor_links_through_feedback_link(users, make_feedback, pool):
    fb = make_feedback("今天天气很好")
    linked = feedback_attach(actor=users["sales"], feedback=fb, requirement=pool["stock"])
    assert linked.requirement_id == pool["stock"].pk and not linked.scope_vote
    with pytest.raises(ValidationError, match="已关联"):
        feedback_attach(actor=users["sales"], feedback=fb, requirement=pool["sso"])


def test_attach_needs_the_right_to_write_the_feedback(users, make_feedback, hidden):
    fb = make_feedback(hidden.title)
    with pytest.raises(PermissionDenied):
        feedback_attach(actor=users["viewer"], feedback=fb, requirement=hidden)


@pytest.mark.parametrize("value", ["", "abc", "999999999", "-1"])
def test_attach_to_a_missing_requirement_changes_nothing(login, other_sales, other_customer, hidden, value):
    from needpool.requirements.services import feedback_create

    mine = feedback_create(actor=other_sales, raw_text=hidden.title, channel="sales", customer=other_customer)
    client = login(other_sales)
    htmx = client.post(reverse("requirements:similar_attach", args=[mine.pk]), {"requirement": value}, **HTMX)
    assert "需求不存在或您无权访问" in htmx.content.decode() and "similar-error" in htmx.content.decode()
    plain = client.post(reverse("requirements:similar_attach", args=[mine.pk]), {"requirement": value})
    assert plain.status_code == 302 and plain["Location"] == reverse("requirements:feedback_triage", args=[mine.pk])
    mine.refresh_from_db()
    assert mine.requirement_id is None


def test_attach_without_htmx_redirects_to_the_inbox(login, other_sales, other_customer, hidden):
    from needpool.requirements.services import feedback_create

    mine = feedback_create(actor=other_sales, raw_text=hidden.title, channel="sales", customer=other_customer)
    response = login(other_sales).post(
        reverse("requirements:similar_attach", args=[mine.pk]), {"requirement": hidden.pk}
    )
    assert response.status_code == 302 and response["Location"] == reverse("requirements:feedback_inbox")


def test_attach_of_someone_elses_feedback_is_404(login, other_sales, make_feedback, hidden):
    fb = make_feedback(hidden.title)
    response = login(other_sales).post(reverse("requirements:similar_attach", args=[fb.pk]), {"requirement": hidden.pk})
    assert response.status_code == 404
    assert login(other_sales).get(reverse("requirements:similar_attach", args=[fb.pk])).status_code == 405


# ---------------------------------------------------------------- "转为反馈" on the customer page


def test_ask_to_feedback_shows_the_similar_panel_right_there(login, users, customer, pool):
    interaction = _interaction(users["sales"], customer, pool["sso"].title)
    client = login(users["sales"])
    url = reverse("customers:ask_to_feedback", args=[interaction.pk, 0])
    html = client.post(url, **HTMX).content.decode()
    feedback = Feedback.objects.get(interaction=interaction)
    assert f'id="ask-{interaction.pk}-0"' in html
    assert reverse("requirements:feedback_triage", args=[feedback.pk]) in html  # the badge is a link
    assert pool["sso"].code in html and "关联到此需求" in html and "新建需求" in html
    assert f"{reverse('requirements:create')}?feedback={feedback.pk}" in html
    # Linked: the panel is gone, the answer says so.
    done = client.post(
        reverse("requirements:similar_attach", args=[feedback.pk]), {"requirement": pool["sso"].pk}, **HTMX
    ).content.decode()
    assert "已关联到需求" in done and reverse("requirements:detail", args=[pool["sso"].pk]) in done
    again = client.post(url, **HTMX).content.decode()
    assert "关联到此需求" not in again and "已关联到需求" in again


def _interaction(actor: User, customer: Customer, ask: str) -> Any:
    from django.utils import timezone

    from needpool.customers.services import interaction_create

    return interaction_create(
        actor=actor,
        customer=customer,
        channel="visit",
        occurred_at=timezone.now(),
        key_content="拜访沟通",
        key_asks=ask,
    )


# ---------------------------------------------------------------- the rule, tried the ways around it

PATHS = st.sampled_from(["panel-get", "panel-post", "api-get", "api-post", "triage", "attach"])
TEXTS = st.one_of(
    st.sampled_from(
        ["支持企业微信和钉钉单点登录", "企业微信 钉钉 登录", "员工用企业微信或钉钉账号直接登录系统", "华东仓订单导出"]
    ),
    st.text(alphabet="企业微信钉登录单点支持和系统员工账号直接机密客户华东仓订单", min_size=1, max_size=40),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=PATHS, text=TEXTS, limit=st.integers(min_value=1, max_value=20))
def test_a_scoped_user_never_reads_private_fields_of_out_of_scope_requirements(
    client, other_sales, other_customer, hidden, path, text, limit
):
    """Whatever words, limit or path: code, title, status and score at most — never a customer name, the
    feedback's words, the description, the owner or a link to the requirement."""
    from needpool.requirements.services import feedback_create

    client.force_login(other_sales)
    api = APIClient()
    api.force_authenticate(other_sales)
    panel = reverse("requirements:similar_panel")
    if path == "panel-get":
        body = client.get(panel, {"title": text}, **HTMX).content.decode()
    elif path == "panel-post":
        body = client.post(panel, {"description": text}, **HTMX).content.decode()
    elif path == "api-get":
        body = api.get(API, {"text": text, "limit": limit}).content.decode("unicode_escape")
    elif path == "api-post":
        body = api.post(API, {"text": text, "limit": limit}, format="json").content.decode("unicode_escape")
    else:
        mine = feedback_create(actor=other_sales, raw_text=text, channel="sales", customer=other_customer)
        if path == "triage":
            body = client.get(reverse("requirements:feedback_triage", args=[mine.pk])).content.decode()
        else:
            body = client.post(
                reverse("requirements:similar_attach", args=[mine.pk]), {"requirement": hidden.pk}, **HTMX
            ).content.decode()
    for word in _private_words(hidden):
        assert word not in body
    assert reverse("requirements:detail", args=[hidden.pk]) not in body


# ---------------------------------------------------------------- two people at once


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_people_attaching_the_same_feedback_at_once_link_it_once(users, customer, pool):
    from needpool.requirements.services import feedback_create

    fb = feedback_create(actor=users["sales"], raw_text=pool["sso"].title, channel="sales", customer=customer)
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def attach(target: Requirement) -> None:
        try:
            barrier.wait(timeout=10)
            feedback_attach(actor=users["sales"], feedback=Feedback.objects.get(pk=fb.pk), requirement=target)
            outcomes.append("linked")
        except ValidationError:
            outcomes.append("refused")
        except Exception as exc:  # SQLite: a writer that finds the database locked gives up
            outcomes.append(type(exc).__name__)
        finally:
            connection.close()

    threads = [threading.Thread(target=attach, args=(r,)) for r in (pool["sso"], pool["export"])]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("linked") == 1, outcomes
    fb.refresh_from_db()
    assert fb.requirement_id in (pool["sso"].pk, pool["export"].pk)


# ---------------------------------------------------------------- a vote from the create form


def test_the_create_form_panel_offers_a_vote_on_a_hidden_match(login, other_sales, hidden):
    html = login(other_sales).post(reverse("requirements:similar_panel"), {"title": hidden.title}, **HTMX)
    body = html.content.decode()
    assert reverse("requirements:similar_vote") in body and "记为客户反馈" in body


def test_a_vote_from_the_create_form_records_the_customers_feedback_on_it(login, other_sales, other_customer, hidden):
    client = login(other_sales)
    data = {"title": hidden.title, "description": "客户也提了", "customer": other_customer.pk, "channel": "ticket"}
    response = client.post(reverse("requirements:similar_vote"), {**data, "requirement": hidden.pk}, **HTMX)
    body = response.content.decode()
    vote = Feedback.objects.get(customer=other_customer)
    assert vote.requirement_id == hidden.pk and vote.channel == "ticket" and vote.created_by == other_sales
    assert vote.scope_vote and client.get(reverse("requirements:detail", args=[hidden.pk])).status_code == 404
    assert f"#{vote.pk}" in body and hidden.code in body
    for word in _private_words(hidden):
        assert word not in body


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"customer": ""}, "请先选择客户"),
        ({"customer": "999999"}, "请先选择客户"),
        ({"title": "今天天气很好，适合出去走走"}, "需求不存在或您无权访问"),
        ({"requirement": "abc"}, "需求不存在或您无权访问"),
    ],
)
def test_a_vote_from_the_create_form_refuses_and_writes_nothing(
    login, other_sales, other_customer, hidden, data, message
):
    base = {"title": hidden.title, "customer": other_customer.pk, "requirement": hidden.pk, "channel": "x"}
    response = login(other_sales).post(reverse("requirements:similar_vote"), {**base, **data}, **HTMX)
    assert message in response.content.decode()
    assert not Feedback.objects.filter(customer=other_customer).exists()


def test_a_vote_needs_the_right_to_write_feedback(users, customer, hidden):
    from needpool.requirements.dedup.services import feedback_vote_create

    with pytest.raises(PermissionDenied):
        feedback_vote_create(
            actor=users["viewer"], requirement=hidden, raw_text=hidden.title, channel="sales", customer=customer
        )


def test_the_triage_page_of_a_vote_names_the_requirement_without_a_link(login, other_sales, other_customer, hidden):
    from needpool.requirements.services import feedback_create

    mine = feedback_create(actor=other_sales, raw_text=hidden.title, channel="sales", customer=other_customer)
    feedback_attach(actor=other_sales, feedback=mine, requirement=hidden)
    html = login(other_sales).get(reverse("requirements:feedback_triage", args=[mine.pk])).content.decode()
    assert hidden.code in html and reverse("requirements:detail", args=[hidden.pk]) not in html


def test_the_customer_page_links_the_converted_ask_to_its_triage_page(login, other_sales, other_customer, hidden):
    interaction = _interaction(other_sales, other_customer, hidden.title)
    client = login(other_sales)
    client.post(reverse("customers:ask_to_feedback", args=[interaction.pk, 0]))
    feedback = Feedback.objects.get(interaction=interaction)
    feedback_attach(actor=other_sales, feedback=feedback, requirement=hidden)
    html = client.get(reverse("customers:detail", args=[other_customer.pk])).content.decode()
    assert reverse("requirements:feedback_triage", args=[feedback.pk]) in html and "已关联到需求" in html
    assert reverse("requirements:detail", args=[hidden.pk]) not in html
