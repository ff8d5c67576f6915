"""A mobile number typed into the portal's description is masked on save, and the thank-you page says so.

The contact fields keep the refusal rule (a personal mobile there is refused); the free-text description
is not refused but masked, with the privacy rule's own detector (every spelling, landlines kept).
"""

from __future__ import annotations

from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from needpool.customers.privacy import is_personal_mobile
from needpool.intake.models import Submission
from needpool.intake.portal.services import portal_submit
from needpool.requirements.models import ClassOption
from tests.customers.test_privacy_spellings import landline_spellings, mobile_spellings
from tests.intake.portal.conftest import portal_data
from tests.intake.portal.test_pages import post

WORDS = st.text(alphabet="希望订单列表支持按客户等级批量设置折扣请联系我们，。", max_size=20)


def test_the_thank_you_page_says_the_mobile_was_masked(portal, customer):
    client = Client()
    response = post(client, portal, description="希望支持批量折扣，急事请打 138-0013-8000 找我")
    assert response.status_code == 302
    feedback = Submission.objects.get().feedback
    assert feedback.raw_text == "希望支持批量折扣，急事请打 138****8000 找我"
    html = client.get(response["Location"]).content.decode()
    assert "提交成功" in html
    assert "手机号码已自动隐藏" in html
    assert "138****8000" in html and "13800138000" not in html


def test_without_a_mobile_the_thank_you_page_has_no_masking_line(portal, customer):
    client = Client()
    response = post(client, portal, description="希望支持批量折扣，座机 010-62345678 转 8001")
    feedback = Submission.objects.get().feedback
    assert feedback.raw_text == "希望支持批量折扣，座机 010-62345678 转 8001"
    assert "手机号码已自动隐藏" not in client.get(response["Location"]).content.decode()


def test_a_mobile_in_the_contact_phone_is_still_refused(portal, customer):
    response = post(Client(), portal, contact_phone="13800138000")
    assert response.status_code == 200
    assert not Submission.objects.exists()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(before=WORDS, mobile=mobile_spellings(), after=WORDS, landline=landline_spellings())
def test_no_mobile_survives_a_portal_submission(portal, before, mobile, after, landline):
    receipt = portal_submit(
        channel=portal,
        description=f"{before}{mobile} {after}座机{landline}",
        contact_name="王经理",
        contact_email="wang@a-tech.com.cn",
        customer_text="未知客户",
        type=ClassOption.objects.get(dimension="type", key="function"),
    )
    stored = receipt.submission.feedback.raw_text
    assert receipt.masked_mobiles
    assert not is_personal_mobile(stored), stored


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(words=WORDS.filter(lambda w: w.strip()), landline=landline_spellings())
def test_a_description_without_a_mobile_is_stored_as_typed(portal, words, landline):
    description = f"{words.strip()} {landline}"
    receipt = portal_submit(
        channel=portal,
        description=description,
        contact_name="王经理",
        contact_email="wang@a-tech.com.cn",
        customer_text="未知客户",
        type=ClassOption.objects.get(dimension="type", key="function"),
    )
    assert not receipt.masked_mobiles
    assert receipt.submission.feedback.raw_text == description.strip()


def test_portal_data_default_has_no_mobile(db):
    assert not is_personal_mobile(portal_data()["description"])
