"""``needpool demo``: the worked examples through the services, and generated volume of the same shape."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from needpool.accounts.models import User
from needpool.core.config import personal_email_domains
from needpool.core.models import AuditEntry
from needpool.core.text import query_terms, segment_for_index
from needpool.customers import services as customer_services
from needpool.customers.models import Contact, Customer, Interaction
from needpool.customers.privacy import is_personal_email, is_personal_mobile
from needpool.demo.generator import generate
from needpool.demo.users import DEMO_PM, DEMO_SALES
from needpool.requirements.models import Feedback, Requirement, StatusChange
from needpool.requirements.selectors import requirement_list
from needpool.requirements.services import gate_missing, requirement_create
from tests.conftest import option

pytestmark = pytest.mark.django_db

TIER_RANK = {"high": 3, "medium": 2, "low": 1}


def _counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (Requirement, Customer, Contact, Interaction, Feedback, StatusChange, User)
    }


def _assert_work_contacts(customer: Customer) -> None:
    contacts = list(customer.contacts.all())
    assert contacts
    for contact in contacts:
        assert contact.phone and not is_personal_mobile(contact.phone)
        assert contact.email and not is_personal_email(contact.email, personal_email_domains())


def test_demo_loads_the_worked_examples() -> None:
    call_command("np_demo", quiet=True)

    bulk = Requirement.objects.select_related("type", "urgency", "status").get(code="DEM20240301001")
    assert bulk.customer_value == "high"
    assert (bulk.urgency.key, bulk.urgency.label) == ("important", "重要")
    assert (bulk.type.key, bulk.type.label) == ("function_improvement", "功能优化")
    assert "批量操作" in {t.label for t in bulk.tags.all()}
    assert bulk.expected_date == dt.date(2024, 6, 30)
    assert timezone.localtime(bulk.submitted_at).strftime("%Y-%m-%d %H:%M") == "2024-03-01 09:00"
    assert gate_missing(bulk) == []  # standardised: it can leave 待处理
    assert bulk.feedback_items.filter(customer__yearly_purchase__gt=5_000_000).exists()

    complaint = Requirement.objects.get(tags__label="服务投诉", type__key="service")
    assert "配送" in complaint.title
    assert complaint.feedback_items.filter(interaction__isnull=False).exists()

    tech = Customer.objects.get(code="C2024001")
    assert (tech.name, tech.industry) == ("A科技公司", "互联网")
    assert tech.contacts.filter(title="采购总监", phone__startswith="010-").exists()
    _assert_work_contacts(tech)
    meeting = tech.interactions.get()
    asks = "\n".join(meeting.key_ask_lines())
    assert "实时监控" in asks and "开放 API" in asks and "运营成本" in asks
    assert meeting.next_follow_up_date is not None
    sources = set(Requirement.objects.filter(feedback_items__customer=tech).values_list("source__key", flat=True))
    assert sources == {"explicit", "implicit"}

    maker = Customer.objects.get(code="C2024002")
    assert maker.industry == "制造业"
    _assert_work_contacts(maker)
    visit = maker.interactions.get()
    assert "ERP" in visit.key_asks and "Excel" in visit.key_asks
    assert "每月" in visit.next_follow_up_plan

    pm = User.objects.get(username=DEMO_PM)
    sales = User.objects.get(username=DEMO_SALES)
    assert (pm.role, sales.role) == ("product_manager", "sales")
    assert not pm.has_usable_password() and not sales.has_usable_password()


def test_demo_twice_adds_nothing() -> None:
    call_command("np_demo", quiet=True)
    before = _counts()
    call_command("np_demo", quiet=True)
    assert _counts() == before


def test_demo_password_from_environment(monkeypatch: Any) -> None:
    monkeypatch.setenv("NEEDPOOL_DEMO_PASSWORD", "demo-pass-2024-x")
    call_command("np_demo", quiet=True)
    assert User.objects.get(username=DEMO_PM).check_password("demo-pass-2024-x")


def test_generated_requirements_have_fresh_codes_and_the_services_shape(admin_user: User) -> None:
    call_command("np_demo", quiet=True)
    before = set(Requirement.objects.values_list("pk", flat=True))

    call_command("np_demo", requirements=50, seed=7, quiet=True)

    generated = list(
        Requirement.objects.exclude(pk__in=before)
        .select_related("urgency", "status")
        .prefetch_related("feedback_items__customer", "status_changes")
    )
    assert len(generated) == 50
    assert Customer.objects.filter(created_by__username=DEMO_SALES).count() >= 20 + 4
    for req in generated:
        assert req.search_text == segment_for_index(
            req.code, req.title, req.description, req.background, req.concrete_ask
        )
        customers = [f.customer for f in req.feedback_items.all()]
        assert customers and all(customers)
        assert req.customer_value == max((c.value_tier for c in customers), key=TIER_RANK.__getitem__)
        hours = req.urgency.sla_hours if req.urgency else None
        expected_due = req.submitted_at + dt.timedelta(hours=hours) if hours else None
        assert req.first_response_due == expected_due
        changes = sorted(req.status_changes.all(), key=lambda c: (c.at, c.pk))
        assert changes[0].source_id is None and changes[-1].target_id == req.status_id
        if not req.status.is_initial:
            assert gate_missing(req) == []
            assert req.first_responded_at is not None
        assert AuditEntry.objects.filter(object_id=req.pk, action="create", changes__code=req.code).exists()

    # A requirement entered afterwards through the service, on the same day as a generated one,
    # gets the next number of the same counter, not one of the generated codes.
    codes = set(Requirement.objects.values_list("code", flat=True))
    for day_of in (generated[0], generated[-1]):
        made = requirement_create(
            actor=admin_user,
            title="之后录入的需求",
            submitted_at=day_of.submitted_at,
            type=option("type", "function"),
        )
        assert made.code not in codes
        assert made.code[:11] == day_of.code[:11]
        codes.add(made.code)


def test_generated_customers_have_year_codes_and_work_contacts() -> None:
    generate(requirements=10, customers=30, seed=3, progress=None)
    customers = Customer.objects.filter(created_by__username=DEMO_SALES)
    assert customers.count() == 30
    for customer in customers:
        assert customer.code.startswith(f"C{timezone.localtime(customer.created_at):%Y}")
        assert customer.value_tier == customer_services.value_tier_for(customer.yearly_purchase)
    contacts = Contact.objects.filter(customer__created_by__username=DEMO_SALES)
    assert contacts.count() >= 30
    for contact in contacts:
        assert not is_personal_mobile(contact.phone), contact.phone
        assert not is_personal_email(contact.email, personal_email_domains()), contact.email


def test_generated_codes_skip_codes_entered_by_hand(admin_user: User) -> None:
    today = timezone.localdate()
    taken = requirement_create(
        actor=admin_user, title="手工编号", code=f"DEM{today:%Y%m%d}001", submitted_at=timezone.now()
    )
    generate(requirements=30, customers=5, days=1, seed=5, progress=None)
    codes = list(Requirement.objects.values_list("code", flat=True))
    assert len(codes) == len(set(codes)) == 31
    assert codes.count(taken.code) == 1


def test_generated_requirements_are_found_by_full_text_search(admin_user: User) -> None:
    generate(requirements=50, customers=20, seed=11, progress=None)
    sample = Requirement.objects.order_by("id")[7]
    word = max(query_terms(sample.title), key=len)
    found = requirement_list(user=admin_user, filters={"q": word})
    ids = set(found.values_list("pk", flat=True))
    assert sample.pk in ids
    assert all(word in r.search_text.split() for r in Requirement.objects.filter(pk__in=ids))
    assert len(ids) < Requirement.objects.count()  # the word narrows the list


def test_demo_rejects_negative_counts() -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("np_demo", requirements=-1, quiet=True)
