"""A contact's personal data (PIPL): a copy on request, and irreversible, audited erasure.

Erasure anonymises the contact ("已删除联系人 #<id>", title, phone and mail cleared), replaces the person's
name, phone and mail wherever they were written down (interactions, the customer's notes, feedback words,
portal submissions and messages, audit rows) and removes mail-scoped tracking links; requirements, feedback
rows and the customer stay. A property test generates the person's values and searches a JSON dump of every
related row for them after erasure.
"""

from __future__ import annotations

import datetime as dt
import json
import threading

import pytest
from django.core import serializers
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import close_old_connections, connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from needpool.core.models import AuditEntry
from needpool.customers.models import Contact, Customer, Interaction
from needpool.customers.personal_data import Person
from needpool.customers.selectors import contact_erasure_entry, contact_personal_data
from needpool.customers.services import (
    contact_create,
    contact_erase,
    contact_update,
    customer_update,
    interaction_create,
)
from needpool.intake.models import IntakeChannel, PortalMessage, Submission, TrackingLink
from needpool.intake.portal.services import portal_message_send, portal_submit
from needpool.requirements.models import ClassOption, Feedback, Requirement
from needpool.requirements.services import feedback_create
from tests.conftest import PASSWORD

MANAGERS = ["admin", "manager", "product_manager"]
REFUSED = ["sales", "service", "engineer", "compliance", "viewer"]


def _signed_in(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def _world(users, customer, *, name="张晓明", title="采购经理", phone="010-82345678", email="zxm@a-tech.com.cn"):
    """A contact and everything that names them: interactions, notes, feedback, a portal submission with a
    staff message, a mail tracking link, and the audit rows these writes leave."""
    contact = contact_create(actor=users["sales"], customer=customer, name=name, title="专员", phone=phone, email=email)
    contact_update(actor=users["sales"], contact=contact, title=title)
    interaction_create(
        actor=users["sales"],
        customer=customer,
        contact=contact,
        occurred_at=timezone.now() - dt.timedelta(hours=1),
        channel="visit",
        participants=f"销售；{name}",
        key_content=f"{name}说可打 {phone} 或发邮件到 {email}",
        key_asks=f"{name}希望按等级打折",
    )
    customer_update(actor=users["sales"], customer=customer, notes=f"关键人：{name}（{phone}）")
    feedback_create(
        actor=users["sales"], raw_text=f"{name}反馈：批量折扣", channel="sales", customer=customer, contact=contact
    )
    receipt = portal_submit(
        channel=IntakeChannel.objects.get(slug="web"),
        description=f"我是{name}，希望支持批量折扣",
        contact_name=name,
        contact_phone=phone,
        contact_email=email,
        customer_text=customer.code,
        type=ClassOption.objects.get(dimension="type", key="function"),
    )
    portal_message_send(actor=users["admin"], submission=receipt.submission, body=f"{name}，您好：已收到。")
    return contact, receipt.submission


def _related_dump(customer: Customer, submission_ids: list[int]) -> str:
    """Every row related to the customer and its contacts, as one JSON text (Chinese kept as is)."""
    querysets = [
        Customer.objects.filter(pk=customer.pk),
        Contact.objects.filter(customer=customer),
        Interaction.objects.filter(customer=customer),
        Feedback.objects.filter(customer=customer),
        Submission.objects.filter(pk__in=submission_ids),
        PortalMessage.objects.filter(submission_id__in=submission_ids),
        TrackingLink.objects.all(),
        AuditEntry.objects.all(),
    ]
    return "\n".join(serializers.serialize("json", qs, ensure_ascii=False) for qs in querysets)


# ---------------------------------------------------------------- erasure


def test_erasure_anonymises_the_contact_and_scrubs_every_record(users, customer, requirement):
    contact, submission = _world(users, customer)
    feedback_before = Feedback.objects.filter(customer=customer).count()
    requirement_before = Requirement.objects.filter(pk=requirement.pk).values().get()

    erased = contact_erase(actor=users["admin"], contact=contact, reason="本人 2024-05-01 书面要求删除")

    contact.refresh_from_db()
    assert erased.pk == contact.pk
    assert contact.name == f"已删除联系人 #{contact.pk}"
    assert (contact.title, contact.phone, contact.email) == ("", "", "")
    interaction = Interaction.objects.get(contact=contact)
    assert "张晓明" not in interaction.key_content and f"已删除联系人 #{contact.pk}" in interaction.key_content
    assert "010-82345678" not in interaction.key_content and "zxm@a-tech.com.cn" not in interaction.key_content
    assert "张晓明" not in Customer.objects.get(pk=customer.pk).notes
    submission.refresh_from_db()
    assert (submission.contact_name, submission.contact_phone, submission.contact_email) == ("", "", "")
    assert "张晓明" not in submission.feedback.raw_text
    assert "张晓明" not in PortalMessage.objects.get(submission=submission).body
    assert not TrackingLink.objects.filter(email="zxm@a-tech.com.cn").exists()
    assert TrackingLink.objects.filter(submission=submission).exists()  # names nobody: kept
    # What stays: requirements, feedback rows and their links, the customer.
    assert Feedback.objects.filter(customer=customer).count() == feedback_before
    assert Feedback.objects.filter(contact=contact).count() == 2
    assert Requirement.objects.filter(pk=requirement.pk).values().get() == requirement_before
    assert Customer.objects.filter(pk=customer.pk).exists()


def test_erasure_is_audited_with_who_when_and_why(users, customer):
    contact, _submission = _world(users, customer)
    contact_erase(actor=users["manager"], contact=contact, reason="客户书面申请删除张晓明的信息")
    entry = contact_erasure_entry(contact)
    assert entry is not None and entry.actor == users["manager"] and entry.at is not None
    assert entry.changes["reason"] == f"客户书面申请删除已删除联系人 #{contact.pk}的信息"  # the reason names nobody
    assert AuditEntry.objects.filter(object_id=customer.pk, changes__has_key="contact_erased").exists()


@pytest.mark.parametrize("reason", ["", "   ", "x" * 501])
def test_erasure_needs_a_reason_and_writes_nothing_without_one(users, customer, reason):
    contact, _submission = _world(users, customer)
    audit_rows = AuditEntry.objects.count()
    with pytest.raises(ValidationError) as caught:
        contact_erase(actor=users["admin"], contact=contact, reason=reason)
    assert "reason" in caught.value.message_dict
    contact.refresh_from_db()
    assert contact.name == "张晓明" and contact.phone == "010-82345678"
    assert AuditEntry.objects.count() == audit_rows


def test_erasure_is_irreversible_and_refused_twice(users, customer):
    contact, _submission = _world(users, customer)
    contact_erase(actor=users["admin"], contact=contact, reason="本人要求")
    with pytest.raises(ValidationError, match="已删除"):
        contact_erase(actor=users["admin"], contact=contact, reason="再来一次")
    assert AuditEntry.objects.filter(object_id=contact.pk, action=AuditEntry.Action.DELETE).count() == 1


@pytest.mark.parametrize("role", REFUSED)
def test_only_managers_may_erase(users, customer, role):
    contact, _submission = _world(users, customer)
    with pytest.raises(PermissionDenied):
        contact_erase(actor=users[role], contact=contact, reason="本人要求")
    contact.refresh_from_db()
    assert contact.name == "张晓明"


@pytest.mark.parametrize("role", MANAGERS)
def test_managers_may_erase(users, customer, role):
    contact, _submission = _world(users, customer)
    contact_erase(actor=users[role], contact=contact, reason="本人要求")
    contact.refresh_from_db()
    assert contact.name.startswith("已删除联系人")


def test_a_short_or_latin_name_does_not_eat_other_words(users, customer):
    person = Person(contact_id=7, name="Li", title="", phone="", email="")
    assert (
        person.scrub("Li said Linux is fine; li again") == "已删除联系人 #7 said Linux is fine; 已删除联系人 #7 again"
    )
    assert Person(contact_id=7, name="王", title="", phone="", email="").scrub("王总和王经理") == "王总和王经理"
    spaced = Person(contact_id=7, name="", title="", phone="010-62345678", email="")
    assert spaced.scrub("座机 010 6234 5678 / 01062345678 / 9010-62345678") == (
        "座机 已删除联系人 #7 / 已删除联系人 #7 / 9010-62345678"
    )


# ---------------------------------------------------------------- the property: nothing of the person is left

NAME_CHARS = "甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌亥"
TITLE_CHARS = "青赤黄白黑紫橙蓝绿"


@st.composite
def people(draw):
    name = draw(st.text(alphabet=NAME_CHARS, min_size=2, max_size=4))
    title = draw(st.text(alphabet=TITLE_CHARS, min_size=2, max_size=6))
    area = draw(st.sampled_from(["010", "021", "0755", "0571"]))
    number = draw(st.sampled_from("2345678")) + "".join(
        draw(st.lists(st.sampled_from("0123456789"), min_size=7, max_size=7))
    )
    phone = f"{area}-{number}"
    local = draw(st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=3, max_size=10))
    email = f"{local}.{draw(st.integers(1000, 9999))}@a-tech.com.cn"
    return {"name": name, "title": title, "phone": phone, "email": email}


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(person=people())
def test_after_erasure_no_personal_value_is_left_in_any_related_row(users, customer, person):
    contact, submission = _world(users, customer, **person)
    before = _related_dump(customer, [submission.pk])
    assert all(value in before for value in person.values())  # the dump does see them before

    contact_erase(actor=users["admin"], contact=contact, reason=f"{person['name']} 本人要求删除")

    after = _related_dump(customer, [submission.pk])
    for field, value in person.items():
        assert value not in after, (field, value)


# ---------------------------------------------------------------- the copy (个人信息副本)


def test_the_copy_holds_contact_interactions_feedback_and_submissions(users, customer):
    contact, submission = _world(users, customer)
    copy = contact_personal_data(user=users["admin"], pk=contact.pk)
    assert copy["contact"]["name"] == "张晓明" and copy["contact"]["phone"] == "010-82345678"
    assert copy["contact"]["email"] == "zxm@a-tech.com.cn" and copy["contact"]["customer"]["code"] == customer.code
    assert [row["key_content"] for row in copy["interactions"]] == [
        "张晓明说可打 010-82345678 或发邮件到 zxm@a-tech.com.cn"
    ]
    assert {row["raw_text"] for row in copy["feedback"]} == {"张晓明反馈：批量折扣", "我是张晓明，希望支持批量折扣"}
    assert [row["id"] for row in copy["portal_submissions"]] == [submission.pk]
    assert copy["portal_submissions"][0]["messages"][0]["body"] == "张晓明，您好：已收到。"
    assert copy["erased"] is None
    json.dumps(copy)  # JSON-ready as it is


@pytest.mark.parametrize("role", REFUSED)
def test_the_copy_is_refused_to_other_roles(users, customer, role):
    contact, _submission = _world(users, customer)
    with pytest.raises(PermissionDenied):
        contact_personal_data(user=users[role], pk=contact.pk)


# ---------------------------------------------------------------- API


def test_api_personal_data_and_erase(api, users, customer):
    contact, _submission = _world(users, customer)
    client = api(users["admin"])
    copy = client.get(f"/api/v1/contacts/{contact.pk}/personal-data/")
    assert copy.status_code == 200 and copy.json()["contact"]["name"] == "张晓明"
    assert "attachment" in copy["Content-Disposition"]

    refused = client.post(f"/api/v1/contacts/{contact.pk}/erase/", {"reason": " "}, format="json")
    assert refused.status_code == 400 and "reason" in refused.json()
    assert Contact.objects.get(pk=contact.pk).name == "张晓明"

    done = client.post(f"/api/v1/contacts/{contact.pk}/erase/", {"reason": "本人要求"}, format="json")
    assert done.status_code == 200, done.content
    body = done.json()
    assert body["name"] == f"已删除联系人 #{contact.pk}" and body["reason"] == "本人要求" and body["erased_by"]
    again = client.post(f"/api/v1/contacts/{contact.pk}/erase/", {"reason": "再来"}, format="json")
    assert again.status_code == 400
    assert client.get(f"/api/v1/contacts/{contact.pk}/personal-data/").json()["erased"]["by"]


@pytest.mark.parametrize("role", ["sales", "viewer", "compliance"])
def test_api_refuses_other_roles_with_403(api, users, customer, role):
    contact, _submission = _world(users, customer)
    assert api(users[role]).get(f"/api/v1/contacts/{contact.pk}/personal-data/").status_code == 403
    assert api(users[role]).post(f"/api/v1/contacts/{contact.pk}/erase/", {"reason": "x"}).status_code == 403
    assert Contact.objects.get(pk=contact.pk).name == "张晓明"


def test_api_hides_contacts_the_caller_cannot_see(api, users, customer, other_sales):
    contact, _submission = _world(users, customer)
    assert api(other_sales).get(f"/api/v1/contacts/{contact.pk}/personal-data/").status_code == 404
    assert api(other_sales).post(f"/api/v1/contacts/{contact.pk}/erase/", {"reason": "x"}).status_code == 404
    assert api(None).post(f"/api/v1/contacts/{contact.pk}/erase/", {"reason": "x"}).status_code in (401, 403)


# ---------------------------------------------------------------- pages


def test_the_contact_page_offers_the_actions_to_managers_only(users, customer):
    contact, _submission = _world(users, customer)
    detail = _signed_in(users["sales"]).get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert reverse("customers:contact", args=[contact.pk]) in detail
    html = _signed_in(users["admin"]).get(reverse("customers:contact", args=[contact.pk])).content.decode()
    assert 'id="export-personal-data"' in html and 'id="erase-personal-data"' in html
    assert 'data-bs-target="#erase-dialog"' in html and 'id="erase-form"' in html
    html = _signed_in(users["sales"]).get(reverse("customers:contact", args=[contact.pk])).content.decode()
    assert "张晓明" in html and 'id="erase-personal-data"' not in html and 'id="export-personal-data"' not in html
    assert (
        _signed_in(users["sales"]).get(reverse("customers:contact_personal_data", args=[contact.pk])).status_code == 403
    )


def test_the_page_downloads_the_copy(users, customer):
    contact, _submission = _world(users, customer)
    response = _signed_in(users["admin"]).get(reverse("customers:contact_personal_data", args=[contact.pk]))
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    assert json.loads(response.content)["contact"]["name"] == "张晓明"


def test_the_page_erases_only_when_confirmed_with_a_reason(users, customer):
    contact, _submission = _world(users, customer)
    client = _signed_in(users["admin"])
    url = reverse("customers:contact_erase", args=[contact.pk])
    unconfirmed = client.post(url, {"reason": "本人要求"})
    assert unconfirmed.status_code == 400 and 'id="erase-form"' in unconfirmed.content.decode()
    no_reason = client.post(url, {"reason": "", "confirm": "on"})
    assert no_reason.status_code == 400
    assert Contact.objects.get(pk=contact.pk).name == "张晓明"

    done = client.post(url, {"reason": "本人要求", "confirm": "on"}, follow=True)
    html = done.content.decode()
    assert done.status_code == 200 and "个人信息已删除" in html and f"已删除联系人 #{contact.pk}" in html
    assert 'id="erase-personal-data"' not in html
    assert _signed_in(users["sales"]).post(url, {"reason": "x", "confirm": "on"}).status_code == 403


# ---------------------------------------------------------------- two erasures at once


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_two_erasures_at_once_erase_once(users, customer):
    contact, _submission = _world(users, customer)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def erase(user) -> None:
        close_old_connections()
        try:
            barrier.wait()
            contact_erase(actor=user, contact=Contact.objects.get(pk=contact.pk), reason="本人要求")
            outcomes.append("erased")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=erase, args=(users[role],)) for role in ("admin", "manager")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["erased", "refused"]
    assert AuditEntry.objects.filter(object_id=contact.pk, action=AuditEntry.Action.DELETE).count() == 1


def test_an_erased_contact_cannot_be_filled_in_again(users, customer):
    from needpool.customers.services import contact_update

    contact, _submission = _world(users, customer)
    contact_erase(actor=users["admin"], contact=contact, reason="本人书面要求删除")
    with pytest.raises(ValidationError):
        contact_update(actor=users["admin"], contact=contact, name="张晓明", email="zhang@example.com")
    contact.refresh_from_db()
    assert contact.name == f"已删除联系人 #{contact.pk}" and contact.email == ""
