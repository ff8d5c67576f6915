"""A contact's phone is a valid work number: a landline, switchboard or service number that libphonenumber
knows (with an extension if any); "abc-defg" and "123" are refused, and a personal mobile keeps its privacy
refusal. One function (``customers.privacy.check_contact_privacy``) for the form, the API, the portal, the
channel API and the import (which creates contacts through ``contact_create``)."""

from __future__ import annotations

import phonenumbers
import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from needpool.customers.models import Contact
from needpool.customers.privacy import WORK_NUMBER_TYPES, is_work_phone, normalise, work_phone_error
from needpool.customers.services import contact_create
from needpool.intake.channels.services import channel_create
from needpool.intake.models import Submission
from tests.customers.test_privacy_spellings import landline_spellings, mobile_spellings
from tests.intake.portal.test_pages import post

pytestmark = pytest.mark.django_db

NOT_NUMBERS = ["abc-defg", "123", "12345678", "95588", "电话", "010-", "+86", "0000-0000000", "+1 000 000 0000"]
WORK_NUMBERS = [
    "010-62345678",
    "(010) 6552 9988",
    "021 6888 1234",
    "0755-86001234",
    "400-800-1234",
    "800-820-8820",
    "010-62345678 转 8001",
    "010-62345678 分机 8001",
    "010-62345678-8001",
    "010-62345678 ext. 8001",
    "010-62345678#8001",
    "+86 10 6552 9988",
    "+44 20 7946 0958",
    "+1 650-253-0000",
    "０１０－６２３４５６７８",
]


@pytest.mark.parametrize("phone", WORK_NUMBERS)
def test_work_numbers_are_accepted(phone):
    assert is_work_phone(phone) and work_phone_error(phone) == ""


@pytest.mark.parametrize("phone", NOT_NUMBERS)
def test_what_is_not_a_number_is_refused_with_an_example(phone):
    assert not is_work_phone(phone)
    message = work_phone_error(phone)
    assert "不是有效的座机或总机号码" in message and "010-62345678" in message


def test_a_mobile_keeps_the_privacy_refusal():
    assert "个人手机号" in work_phone_error("138 0013 8000")


def test_empty_is_allowed():
    assert work_phone_error("") == "" and work_phone_error("  ") == ""


# ---------------------------------------------------------------- property


@settings(max_examples=80, deadline=None)
@given(st.text(max_size=30))
def test_anything_accepted_is_a_valid_work_number_to_libphonenumber(text):
    """Whatever a user types, an accepted value holds a number libphonenumber parses as a valid work line."""
    if not is_work_phone(text):
        return
    value = normalise(text)
    assert not any(
        char.isalpha() for char in value.replace("ext", "").replace("x", "").replace("转", "").replace("分机", "")
    )
    candidates = [value, value.replace("转", " ext. ").replace("分机", " ext. ")]
    head, sep, tail = value.rpartition("-")
    if sep:
        candidates.append(f"{head} ext. {tail}")
    parsed = []
    for candidate in candidates:
        try:
            parsed.append(phonenumbers.parse(candidate, "CN"))
        except phonenumbers.NumberParseException:
            continue
    assert any(phonenumbers.is_valid_number(n) and phonenumbers.number_type(n) in WORK_NUMBER_TYPES for n in parsed)


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz-_. 电话座机()", min_size=1, max_size=20))
def test_letters_and_punctuation_are_never_a_number(text):
    assert not is_work_phone(text)


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="0123456789-", min_size=1, max_size=6))
def test_short_digit_runs_are_never_a_number(text):
    assert not is_work_phone(text)


@settings(max_examples=60, deadline=None)
@given(landline_spellings())
def test_every_spelling_of_a_landline_is_accepted(phone):
    assert is_work_phone(phone), phone


@settings(max_examples=60, deadline=None)
@given(mobile_spellings())
def test_a_mobile_in_any_spelling_is_refused_as_a_mobile(phone):
    assert "个人手机号" in work_phone_error(phone)


# ---------------------------------------------------------------- every entry path


@pytest.mark.parametrize("phone", ["abc-defg", "123"])
def test_the_service_refuses_and_writes_nothing(users, customer, phone):
    before = Contact.objects.count()
    with pytest.raises(ValidationError) as err:
        contact_create(actor=users["sales"], customer=customer, name="李经理", phone=phone)
    assert "不是有效的座机或总机号码" in err.value.message_dict["phone"][0]
    assert Contact.objects.count() == before


@pytest.mark.parametrize("phone", ["abc-defg", "123"])
def test_the_form_refuses_with_the_message(users, customer, phone):
    client = Client()
    client.force_login(users["sales"])
    before = Contact.objects.count()
    response = client.post(
        reverse("customers:contact_create", args=[customer.pk]),
        {"contact-name": "李经理", "contact-phone": phone, "contact-decision_role": "user"},
    )
    assert "不是有效的座机或总机号码" in response.content.decode()
    assert Contact.objects.count() == before


def test_the_form_accepts_a_landline_with_an_extension(users, customer):
    client = Client()
    client.force_login(users["sales"])
    client.post(
        reverse("customers:contact_create", args=[customer.pk]),
        {"contact-name": "李经理", "contact-phone": "010-62345678 转 8001", "contact-decision_role": "user"},
    )
    assert Contact.objects.filter(name="李经理", phone="010-62345678 转 8001").exists()


@pytest.mark.parametrize("phone", ["abc-defg", "123"])
def test_the_api_refuses_per_field(api, users, customer, phone):
    before = Contact.objects.count()
    response = api(users["sales"]).post(
        "/api/v1/contacts/", {"customer": customer.pk, "name": "李经理", "phone": phone}, format="json"
    )
    assert response.status_code == 400 and list(response.json()) == ["phone"]
    assert "不是有效的座机或总机号码" in response.json()["phone"][0]
    assert Contact.objects.count() == before


def test_the_portal_refuses_a_non_number(users, customer):
    portal = channel_create(actor=users["admin"], name="官网需求反馈表", slug="site", kind="portal")
    response = post(Client(), portal, contact_phone="abc-defg")
    assert response.status_code == 200
    assert "不是有效的座机或总机号码" in response.content.decode()
    assert not Submission.objects.exists()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(phone=st.sampled_from(NOT_NUMBERS) | mobile_spellings())
def test_no_bad_phone_gets_in_through_the_service(users, customer, phone):
    with pytest.raises(ValidationError):
        contact_create(actor=users["sales"], customer=customer, name="绕过", phone=phone)
    assert not Contact.objects.filter(name="绕过").exists()
