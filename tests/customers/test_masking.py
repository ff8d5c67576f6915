"""Mobile numbers in free text are masked on save (138****8000), and the user is told.

The detector is the privacy rule's (``customers.privacy``): the same normalisation (full-width digits,
separators, +86 / 0086 / 86 prefixes, extensions), so a mobile in any spelling is found; landlines are kept.
Property tests generate mobiles in every spelling inside Chinese text and assert that after the save no
mobile remains (after normalisation), and that text without a mobile is stored exactly as typed.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from needpool.customers.models import Interaction
from needpool.customers.privacy import is_personal_mobile, mask_mobiles, mobile_spans
from needpool.customers.services import interaction_create
from needpool.requirements.models import Feedback
from needpool.requirements.services import feedback_create
from tests.conftest import PASSWORD
from tests.customers.test_privacy_spellings import landline_spellings, mobile_spellings

CHINESE = st.text(
    alphabet="的客户希望订单列表支持按等级批量设置折扣请回电联系王经理周三下午，。、：；！？（）", max_size=30
)
# Text that holds no phone number at all: words, punctuation, short numbers (amounts, dates), landlines.
PLAIN = st.lists(
    st.one_of(
        CHINESE,
        st.integers(min_value=0, max_value=99999).map(str),
        st.sampled_from(["2024-06-30", "¥1,200", "第3季度", "v2.1", "Tel:"]),
        landline_spellings(),
    ),
    max_size=5,
).map("，".join)


def mobiles_left(text: str) -> bool:
    """True when a mobile still stands anywhere in ``text`` (the refusal rule's own check)."""
    return is_personal_mobile(text)


# ---------------------------------------------------------------- the pure rule


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("请回电13800138000，谢谢", "请回电138****8000，谢谢"),
        ("手机 +86 138-0013-8000 转 123", "手机 138****8000 转 123"),
        ("（＋８６）１３８ ００１３ ８０００", "138****8000"),
        ("0086 13912345678/备用", "139****5678/备用"),
        ("座机 010-62345678，手机 13912345678", "座机 010-62345678，手机 139****5678"),
    ],
)
def test_mobiles_are_masked_in_every_spelling_and_landlines_are_kept(typed, stored):
    assert mask_mobiles(typed) == stored


def test_a_number_run_into_the_next_is_masked_whole():
    # an extension running straight into another mobile: whatever still reads as a mobile is hidden
    masked = mask_mobiles("13000000000 ext. 81300 0000 000")
    assert not mobiles_left(masked) and "****" in masked
    assert mask_mobiles(masked) == masked


@pytest.mark.parametrize("text", ["座机 010-62345678 转 8001", "订单 20241206 金额 ¥13,800", "", "联系王经理"])
def test_text_without_a_mobile_is_unchanged(text):
    assert mobile_spans(text) == []
    assert mask_mobiles(text) == text


@settings(max_examples=150, deadline=None)
@given(before=CHINESE, mobile=mobile_spellings(), after=CHINESE, more=st.lists(mobile_spellings(), max_size=2))
def test_no_mobile_survives_masking_in_any_spelling(before, mobile, after, more):
    # Numbers are apart from each other (two mobiles typed with nothing between are one 22-digit number)
    text = before + mobile + after + "".join("；" + m for m in more)
    masked = mask_mobiles(text)
    assert not mobiles_left(masked), (text, masked)
    assert "****" in masked
    assert mask_mobiles(masked) == masked  # masking twice changes nothing


@settings(max_examples=150, deadline=None)
@given(text=PLAIN)
def test_text_without_a_mobile_is_never_touched(text):
    if mobiles_left(text):  # digits drawn together may spell a mobile; those are the other property's case
        return
    assert mask_mobiles(text) == text


# ---------------------------------------------------------------- interactions: service, page, API


def _interaction(users, customer, **text):
    return interaction_create(
        actor=users["sales"],
        customer=customer,
        occurred_at=timezone.now() - dt.timedelta(hours=1),
        channel="visit",
        key_content=text.get("key_content", "讨论折扣"),
        key_asks=text.get("key_asks", ""),
        participants=text.get("participants", ""),
        next_follow_up_plan=text.get("next_follow_up_plan", ""),
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(before=CHINESE, mobile=mobile_spellings(), after=CHINESE, plain=PLAIN)
def test_interaction_notes_are_stored_without_mobiles(users, customer, before, mobile, after, plain):
    if mobiles_left(plain):
        return
    saved = _interaction(
        users, customer, key_content=before + mobile + after, key_asks=f"{mobile}\n按等级打折", participants=plain
    )
    stored = Interaction.objects.get(pk=saved.pk)
    for value in (stored.key_content, stored.key_asks, stored.next_follow_up_plan):
        assert not mobiles_left(value), value
    assert stored.participants == plain  # no mobile: exactly as typed


def test_the_interaction_page_says_the_mobile_was_masked(users, customer):
    client = Client()
    assert client.login(username="sales", password=PASSWORD)
    response = client.post(
        reverse("customers:interaction_create", args=[customer.pk]),
        {
            "interaction-occurred_at": (timezone.localtime() - dt.timedelta(hours=1)).strftime("%Y-%m-%d %H:%M"),
            "interaction-channel": "phone",
            "interaction-key_content": "王总说有事打他手机 138 0013 8000",
            "interaction-mood": "neutral",
        },
        follow=True,
    )
    assert response.status_code == 200
    stored = Interaction.objects.get(customer=customer)
    assert stored.key_content == "王总说有事打他手机 138****8000"
    html = response.content.decode()
    assert "手机号码已自动隐藏" in html and "沟通要点" in html


def test_without_a_mobile_the_page_says_nothing_about_masking(users, customer):
    client = Client()
    assert client.login(username="sales", password=PASSWORD)
    response = client.post(
        reverse("customers:interaction_create", args=[customer.pk]),
        {
            "interaction-occurred_at": (timezone.localtime() - dt.timedelta(hours=1)).strftime("%Y-%m-%d %H:%M"),
            "interaction-channel": "phone",
            "interaction-key_content": "座机 010-62345678 联系",
            "interaction-mood": "neutral",
        },
        follow=True,
    )
    assert Interaction.objects.get(customer=customer).key_content == "座机 010-62345678 联系"
    assert "手机号码已自动隐藏" not in response.content.decode()


def test_the_interactions_api_answers_with_notices(api, users, customer):
    response = api(users["sales"]).post(
        "/api/v1/interactions/",
        {
            "customer": customer.pk,
            "occurred_at": (timezone.now() - dt.timedelta(hours=1)).isoformat(),
            "channel": "visit",
            "key_content": "客户留了手机 0086-139-1234-5678",
            "key_asks": "回电 13800138000",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["key_content"] == "客户留了手机 139****5678"
    assert body["key_ask_lines"] == ["回电 138****8000"]
    assert len(body["notices"]) == 1 and "沟通要点、关键诉求" in body["notices"][0]
    assert api(users["sales"]).get(f"/api/v1/interactions/{body['id']}/").json()["notices"] == []


def test_the_interactions_api_has_no_notice_without_a_mobile(api, users, customer):
    response = api(users["sales"]).post(
        "/api/v1/interactions/",
        {
            "customer": customer.pk,
            "occurred_at": (timezone.now() - dt.timedelta(hours=1)).isoformat(),
            "channel": "visit",
            "key_content": "座机 010-62345678",
        },
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["notices"] == []


# ---------------------------------------------------------------- feedback entered by staff


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(before=CHINESE, mobile=mobile_spellings(), after=CHINESE)
def test_feedback_entered_by_staff_is_stored_without_mobiles(users, customer, before, mobile, after):
    typed = (before + mobile + after).strip() or mobile
    saved = feedback_create(actor=users["sales"], raw_text=f"需求：{typed}", channel="sales", customer=customer)
    assert not mobiles_left(Feedback.objects.get(pk=saved.pk).raw_text)


def test_a_key_ask_with_a_mobile_becomes_feedback_once(users, customer):
    from needpool.requirements.services import feedback_from_interaction_ask

    interaction = _interaction(users, customer, key_asks="打 13800138000 确认折扣")
    first = feedback_from_interaction_ask(actor=users["sales"], interaction=interaction, index=0)
    again = feedback_from_interaction_ask(actor=users["sales"], interaction=interaction, index=0)
    assert first.pk == again.pk
    assert first.raw_text == "打 138****8000 确认折扣"


def test_the_feedback_api_answers_with_notices(api, users, customer):
    client = api(users["sales"])
    response = client.post(
        "/api/v1/feedback/",
        {"customer": customer.pk, "channel": "sales", "raw_text": "客户要求回电 +86 139 1234 5678"},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["raw_text"] == "客户要求回电 139****5678"
    assert len(body["notices"]) == 1 and "原始内容" in body["notices"][0]
    plain = client.post("/api/v1/feedback/", {"channel": "sales", "raw_text": "座机 010-62345678"}, format="json")
    assert plain.status_code == 201 and plain.json()["notices"] == []
    assert client.get(f"/api/v1/feedback/{body['id']}/").json()["notices"] == []
