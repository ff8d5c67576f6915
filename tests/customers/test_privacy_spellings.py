"""The privacy rule against the ways people (or someone getting around it) spell a mobile or a personal mailbox.

Property tests generate spellings — separators, full-width characters, +86 / 0086 / 86 prefixes,
extensions, notes in brackets, a landline beside it — and assert none is accepted; landlines and work
mail in the same spellings stay accepted. Every entry path (contact service and API, portal, channel API)
refuses the values the rule refuses, and writes nothing.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from needpool.customers.models import Contact
from needpool.customers.privacy import check_contact_privacy, is_personal_email, is_personal_mobile
from needpool.customers.services import contact_create

SEPARATORS = ["", " ", "-", "_", ".", "·", "  ", " - "]
PREFIXES = ["", "+86", "+86 ", "0086", "0086-", "86 ", "(+86)", "（+86）", "+86-"]
BEFORE = ["", "手机", "Tel: ", "电话：", "mobile "]
AFTER = ["", " 转 123", "（个人）", "(个人)", " 010-62345678", "，010-62345678", " ext. 8", "/备用"]
FULL_WIDTH = str.maketrans("0123456789+-()", "０１２３４５６７８９＋－（）")

PERSONAL = {"qq.com", "163.com", "126.com", "gmail.com", "googlemail.com", "live.cn", "msn.com", "tom.com", "21cn.com"}


@st.composite
def mobile_spellings(draw: st.DrawFn) -> str:
    digits = (
        "1"
        + draw(st.sampled_from("3456789"))
        + "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=9, max_size=9)))
    )
    groups = draw(st.sampled_from([(3, 4, 4), (3, 8), (11,), (3, 3, 5), (4, 4, 3)]))
    parts, at = [], 0
    for size in groups:
        parts.append(digits[at : at + size])
        at += size
    sep = draw(st.sampled_from(SEPARATORS))
    text = (
        draw(st.sampled_from(BEFORE)) + draw(st.sampled_from(PREFIXES)) + sep.join(parts) + draw(st.sampled_from(AFTER))
    )
    if draw(st.booleans()):
        text = text.translate(FULL_WIDTH)
    return text


@st.composite
def landline_spellings(draw: st.DrawFn) -> str:
    area = draw(st.sampled_from(["010", "021", "0755", "0571", "020"]))
    # 2–7: every such local number is a valid landline to phonenumbers (some 8… ranges of Beijing and Shanghai
    # are not, and a contact's phone must be a number phonenumbers knows as valid)
    first = draw(st.sampled_from("234567"))
    rest = "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=7, max_size=7)))
    sep = draw(st.sampled_from(["-", " ", ""]))
    extension = draw(st.sampled_from(["", " 转 8001", "-1234", " ext 22"]))
    text = f"{area}{sep}{first}{rest}{extension}"
    if draw(st.booleans()):
        text = text.translate(FULL_WIDTH)
    return text


@st.composite
def personal_mail_spellings(draw: st.DrawFn) -> str:
    local = draw(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789._", min_size=1, max_size=12))
    domain = draw(st.sampled_from(sorted(PERSONAL)))
    sub = draw(st.sampled_from(["", "mail.", "vip.", "m."]))
    address = f"{local}@{sub}{domain}"
    style = draw(st.sampled_from(["plain", "upper", "full-width", "trailing-dot", "spaces"]))
    if style == "upper":
        address = address.upper()
    elif style == "full-width":
        address = address.translate(
            str.maketrans("abcdefghijklmnopqrstuvwxyz.@", "ａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ．＠")
        )
    elif style == "trailing-dot":
        address += "."
    elif style == "spaces":
        address = f"  {address}  "
    return address


@given(mobile_spellings())
@settings(max_examples=300, deadline=None)
def test_no_spelling_of_a_mobile_passes(raw):
    assert is_personal_mobile(raw), raw


@given(landline_spellings())
@settings(max_examples=200, deadline=None)
def test_landlines_with_extensions_stay_allowed(raw):
    assert not is_personal_mobile(raw), raw


@given(personal_mail_spellings())
@settings(max_examples=200, deadline=None)
def test_no_spelling_of_a_personal_mailbox_passes(raw):
    assert is_personal_email(raw, PERSONAL), raw


@pytest.mark.parametrize("raw", ["zhang@a-tech.com.cn", "li@qq.com.example.cn", "wang@notqq.com", "x@163.com.cn"])
def test_work_mail_that_only_looks_alike_is_allowed(raw):
    assert not is_personal_email(raw, PERSONAL)


# The spellings the issue found stored through every path.
ISSUE_PHONES = ["13800138000 转 123", "138_0013_8000", "13800138000（个人）", "13800138000 010-62345678"]
ISSUE_MAILS = ["a@ｑｑ.com", "a@mail.qq.com", "a@vip.163.com", "a@googlemail.com", "a@live.cn", "a@msn.com"]


@pytest.mark.parametrize("phone", ISSUE_PHONES)
def test_the_contact_service_refuses_and_writes_nothing(users, customer, phone):
    before = Contact.objects.count()
    with pytest.raises(ValidationError) as err:
        contact_create(actor=users["sales"], customer=customer, name="张三", phone=phone)
    assert "个人手机号" in err.value.message_dict["phone"][0]
    assert Contact.objects.count() == before


@pytest.mark.parametrize("email", ISSUE_MAILS)
def test_the_default_list_refuses_the_mailboxes_it_used_to_miss(users, customer, email):
    before = Contact.objects.count()
    with pytest.raises(ValidationError) as err:
        contact_create(actor=users["sales"], customer=customer, name="张三", email=email)
    assert "个人邮箱" in err.value.message_dict["email"][0]
    assert Contact.objects.count() == before


@given(phone=mobile_spellings())
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_the_contact_api_refuses_every_spelling(api, users, customer, phone):
    before = Contact.objects.count()
    response = api(users["sales"]).post(
        "/api/v1/contacts/", {"customer": customer.pk, "name": "张三", "phone": phone}, format="json"
    )
    assert response.status_code == 400 and "phone" in response.json(), (phone, response.json())
    assert Contact.objects.count() == before


def test_one_message_for_every_path():
    with pytest.raises(ValidationError) as err:
        check_contact_privacy(phone="138_0013_8000", email="a@mail.qq.com", personal_domains={"qq.com"})
    assert set(err.value.message_dict) == {"phone", "email"}
    assert "qq.com" in err.value.message_dict["email"][0]
