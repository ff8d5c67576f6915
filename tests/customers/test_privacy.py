"""The privacy rule: personal mobile numbers and personal mailboxes are refused for contacts."""

import pytest
from django.core.exceptions import ValidationError

from needpool.customers.models import Contact
from needpool.customers.privacy import is_personal_email, is_personal_mobile
from needpool.customers.services import contact_create, contact_update


@pytest.mark.parametrize(
    "raw",
    [
        "13800138000",
        "138 0013 8000",
        "138-0013-8000",
        "+86 138 0013 8000",
        "+86-139-1234-5678",
        "0086 15912345678",
        "(+86)18612345678",
        "19912345678",
        "17012345678",
        "+44 7911 123456",
    ],
)
def test_mainland_mobile_numbers_are_personal(raw):
    assert is_personal_mobile(raw)


@pytest.mark.parametrize(
    "raw", ["010-62345678", "021 6234 5678", "400-810-8888", "0755-86013388", "", "+1 650 253 0000"]
)
def test_fixed_lines_and_service_numbers_are_not_personal(raw):
    assert not is_personal_mobile(raw)


def test_personal_mail_domains():
    domains = {"qq.com", "163.com"}
    assert is_personal_email("Zhang@QQ.com", domains)
    assert not is_personal_email("zhang@a-tech.com.cn", domains)
    assert not is_personal_email("not-an-email", domains)


@pytest.mark.parametrize(
    ("phone", "email", "field"),
    [
        ("13800138000", "", "phone"),
        ("+86 139 1234 5678", "", "phone"),
        ("", "li@163.com", "email"),
        ("", "li@gmail.com", "email"),
    ],
)
def test_contact_create_refuses_personal_details_and_writes_nothing(users, customer, phone, email, field):
    before = Contact.objects.count()
    with pytest.raises(ValidationError) as err:
        contact_create(actor=users["sales"], customer=customer, name="李四", phone=phone, email=email)
    assert field in err.value.message_dict
    assert "隐私规则" in err.value.message_dict[field][0]
    assert Contact.objects.count() == before


def test_contact_update_refuses_personal_mobile(users, customer):
    contact = customer.contacts.get()
    with pytest.raises(ValidationError):
        contact_update(actor=users["sales"], contact=contact, phone="13912345678")
    contact.refresh_from_db()
    assert contact.phone == "010-62345678"


def test_personal_domains_are_a_setting(users, customer):
    from needpool.core.config import site_config

    config = site_config()
    config.personal_email_domains = "example-personal.cn"
    config.save()
    with pytest.raises(ValidationError):
        contact_create(actor=users["sales"], customer=customer, name="赵六", email="z@example-personal.cn")
    contact_create(actor=users["sales"], customer=customer, name="钱七", email="q@qq.com")
    assert customer.contacts.filter(name="钱七").exists()
