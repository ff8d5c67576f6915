"""The portal and the channel API tell the sender that a similar need already exists — a yes or no, nothing
about the requirement or its customers — and record the feedback for staff to link."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from needpool.requirements.dedup import index as dedup
from needpool.requirements.models import Feedback, Requirement
from tests.conftest import option
from tests.intake.portal.conftest import portal_data

FEEDBACK = "/api/v1/feedback/"
TITLE = "按客户等级设置批量订单折扣"
DESCRIPTION = "批量下单时根据客户等级自动计算折扣，不需要销售手工改价。"
SECRET = "机密原话：华东区经销商要求单独的返点规则"


@pytest.fixture(autouse=True)
def _fresh_index() -> Iterator[None]:
    dedup.reset_index()
    yield
    dedup.get_index().wait_for_embeddings(timeout=60)
    dedup.reset_index()


@pytest.fixture
def existing(users, customer) -> Requirement:
    from django.db import connection

    from needpool.requirements.services import feedback_create, requirement_create

    requirement = requirement_create(
        actor=users["sales"],
        customer=customer,
        title=TITLE,
        description=DESCRIPTION,
        type=option("type", "function"),
        submitted_at=timezone.now() - dt.timedelta(minutes=1),
    )
    feedback_create(actor=users["sales"], raw_text=SECRET, channel="sales", customer=customer, requirement=requirement)
    connection.run_on_commit = [e for e in connection.run_on_commit if e[1] is not dedup.index_changed]
    return requirement


def _private(requirement: Requirement) -> list[str]:
    return [requirement.code, requirement.title, DESCRIPTION, SECRET, "A科技公司", "sales"]


def test_the_channel_api_says_a_similar_need_exists_and_records_the_feedback(ticket_channel, channel_client, existing):
    response = channel_client(ticket_channel[1]).post(FEEDBACK, {"raw_text": TITLE + "，" + DESCRIPTION}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["similar_exists"] is True and body["notice"] == "已有类似需求，已记录您的反馈。"
    assert Feedback.objects.get(pk=body["id"]).requirement_id is None  # staff link it (the inbox shows the match)
    text = json.dumps(body, ensure_ascii=False)
    for word in _private(existing):
        assert word not in text


def test_the_channel_api_without_a_similar_need(ticket_channel, channel_client, existing):
    response = channel_client(ticket_channel[1]).post(FEEDBACK, {"raw_text": "希望能在手机上查看工资条"}, format="json")
    assert response.status_code == 201
    assert response.json()["similar_exists"] is False and response.json()["notice"] == "已收到您的反馈。"


def test_the_channel_result_is_in_the_schema(db):
    from tests.conftest import docs_client

    schemas = docs_client().get("/api/schema/", {"format": "json"}).json()["components"]["schemas"]
    assert {"similar_exists", "notice"} <= set(schemas["ChannelFeedbackResult"]["properties"])


def test_the_portal_says_only_that_a_similar_need_exists(portal, existing):
    client = Client()
    response = client.post(
        reverse("portal:form", args=[portal.slug]), portal_data(description=TITLE + "，" + DESCRIPTION)
    )
    assert response.status_code == 302
    notes = [str(m) for m in get_messages(response.wsgi_request)]
    assert any(n.startswith("已有类似需求，已记录您的反馈。") for n in notes), notes
    page = client.get(response["Location"]).content.decode()
    assert "已有类似需求，已记录您的反馈。" in page
    for word in [existing.code, SECRET]:  # the page shows the sender's own words, nothing of the requirement
        assert word not in page


def test_the_portal_without_a_similar_need(portal, existing):
    response = Client().post(
        reverse("portal:form", args=[portal.slug]), portal_data(description="希望能查看工资条明细")
    )
    notes = [str(m) for m in get_messages(response.wsgi_request)]
    assert notes and notes[0].startswith("提交成功")


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    text=st.one_of(
        st.sampled_from([TITLE, DESCRIPTION, TITLE + DESCRIPTION, "批量 折扣 客户等级", SECRET[:8]]),
        st.text(alphabet="按客户等级设置批量订单折扣下单时根据自动计算华东区经销商", min_size=1, max_size=60),
    )
)
def test_the_channel_api_and_the_portal_never_name_the_requirement(
    ticket_channel, channel_client, portal, existing, text
):
    api = channel_client(ticket_channel[1]).post(FEEDBACK, {"raw_text": text}, format="json")
    portal_page = Client().post(reverse("portal:form", args=[portal.slug]), portal_data(description=text), follow=True)
    for body in (json.dumps(api.json(), ensure_ascii=False), portal_page.content.decode()):
        for word in [existing.code, existing.title, DESCRIPTION, SECRET, "sales"]:
            if word not in text:
                assert word not in body
