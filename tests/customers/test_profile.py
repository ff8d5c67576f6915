"""The customer profile beside a need (customers.selectors.customer_profiles, requirements.profiles):
what it shows, that its query count does not grow with the number of customers, and that a scoped
viewer sees only the customers, contacts, interactions and needs they may see."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from needpool.customers.models import Customer, Interaction
from needpool.customers.permissions import visible_customers
from needpool.customers.selectors import (
    PROFILE_CUSTOMERS,
    PROFILE_INTERACTIONS,
    PROFILE_NEEDS,
    customer_profile,
    customer_profiles,
)
from needpool.customers.services import contact_create, customer_create, interaction_create
from needpool.requirements.permissions import visible_requirements
from needpool.requirements.profiles import feedback_profile, other_needs, requirement_profiles
from needpool.requirements.services import feedback_create, requirement_create

pytestmark = pytest.mark.django_db


def _interaction(actor, customer, days_ago, text, **extra):
    return interaction_create(
        actor=actor,
        customer=customer,
        occurred_at=timezone.now() - dt.timedelta(days=days_ago),
        channel="phone",
        key_content=text,
        **extra,
    )


def test_profile_shows_the_facts_the_contact_role_the_last_interactions_and_other_needs(users, customer):
    admin = users["admin"]
    Customer.objects.filter(pk=customer.pk).update(employees=320, segment="high_value", value_tier="high")
    buyer = customer.contacts.get()
    engineer = contact_create(actor=admin, customer=customer, name="李工", title="IT 主管", decision_role="user")
    for days in range(5):
        _interaction(admin, customer, days, f"第{days}次沟通")
    current = requirement_create(actor=admin, customer=customer, contact=engineer, title="批量导出报表")
    older = [requirement_create(actor=admin, customer=customer, title=f"其他需求{i}") for i in range(PROFILE_NEEDS + 1)]

    found = requirement_profiles(user=users["sales"], requirement=current)

    assert [p.customer.pk for p in found.profiles] == [customer.pk]
    profile = found.profiles[0]
    assert profile.customer.industry == "互联网"
    assert profile.customer.employees == 320
    assert profile.customer.yearly_purchase == 6_000_000
    assert profile.customer.get_value_tier_display() == "高"
    assert profile.customer.get_segment_display() == "高价值"
    # The contact of this need is shown with their role (not every decision maker of the customer).
    assert [(c.name, c.get_decision_role_display()) for c in profile.contacts] == [("李工", "使用者")]
    # The newest interactions first, at most PROFILE_INTERACTIONS.
    assert [i.key_content for i in profile.interactions] == [f"第{d}次沟通" for d in range(PROFILE_INTERACTIONS)]
    # Other needs: newest first, this one left out, the rest counted.
    assert current.pk not in [n.id for n in profile.needs]
    assert len(profile.needs) == PROFILE_NEEDS
    assert profile.needs_total == len(older)
    assert profile.needs_more == 1
    assert profile.needs[0].url.endswith(f"/{profile.needs[0].id}/")
    assert buyer.pk not in [c.pk for c in profile.contacts]


def test_without_a_contact_the_decision_makers_are_shown(users, customer):
    profile = customer_profile(users["sales"], customer)
    assert profile is not None
    assert [(c.name, c.decision_role) for c in profile.contacts] == [("王总", "decision_maker")]
    assert profile.interactions == [] and profile.needs == [] and profile.needs_total == 0


def test_nothing_for_no_customers_and_bad_ids(users):
    assert not customer_profiles(user=users["admin"], customers=[])
    assert customer_profiles(user=users["admin"], customers=["1", None, True, 3.0]).profiles == []  # type: ignore[list-item]
    assert customer_profile(users["admin"], 987654) is None


def test_feedback_profile_has_the_feedback_customer_and_contact(users, customer):
    contact = customer.contacts.get()
    item = feedback_create(
        actor=users["sales"], raw_text="希望支持批量导出", channel="sales", customer=customer, contact=contact
    )
    requirement_create(actor=users["sales"], customer=customer, title="已有的需求")
    found = feedback_profile(user=users["sales"], feedback=item)
    assert [p.customer.pk for p in found.profiles] == [customer.pk]
    assert [c.pk for c in found.profiles[0].contacts] == [contact.pk]
    assert found.profiles[0].needs_total == 1
    no_customer = feedback_create(actor=users["sales"], raw_text="匿名反馈", channel="sales")
    assert not feedback_profile(user=users["sales"], feedback=no_customer)


def test_the_most_valuable_customers_come_first_and_the_rest_are_named(users, make_customers):
    customers = make_customers(PROFILE_CUSTOMERS + 4)
    Customer.objects.filter(pk=customers[0].pk).update(value_tier="high")
    found = customer_profiles(user=users["admin"], customers=customers)
    shown = [p.customer.pk for p in found.profiles]
    assert shown[0] == customers[0].pk  # the high tier beats a bigger yearly purchase
    assert shown[1:] == [c.pk for c in sorted(customers[1:], key=lambda c: -c.yearly_purchase)][: PROFILE_CUSTOMERS - 1]
    assert found.total == len(customers)
    assert found.more_count == 4 and len(found.more) == 4 and found.more_unlisted == 0


def test_twenty_customers_cost_the_same_queries_as_one(users, make_customers, django_assert_max_num_queries):
    admin = users["admin"]
    many = make_customers(20)
    requirement = requirement_create(actor=admin, customer=many[0], title="二十个客户都提的需求")
    for c in many[1:]:
        feedback_create(actor=admin, raw_text="同样的诉求", channel="sales", customer=c, requirement=requirement)
        _interaction(admin, c, 1, "回访")
        requirement_create(actor=admin, customer=c, title=f"{c.name}的另一个需求")
    evidence = list(requirement.feedback_items.all())
    # customers (+ their count when more than fit), contacts, interactions, and the needs.
    with django_assert_max_num_queries(5):
        found = requirement_profiles(user=admin, requirement=requirement, evidence=evidence)
    assert len(found.profiles) == PROFILE_CUSTOMERS
    assert found.total == 20 and found.more_count == 20 - PROFILE_CUSTOMERS
    assert all(p.needs_total == 1 for p in found.profiles if p.customer.pk != many[0].pk)


# ---------------------------------------------------------------- scope (property test)

OWNERS = ("sales", "service", "other", "product_manager", None)  # sales and service share a team
VIEWERS = ("sales", "service", "other", "viewer", "product_manager")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    owners=st.lists(st.sampled_from(OWNERS), min_size=1, max_size=5),
    links=st.lists(st.lists(st.integers(min_value=0, max_value=4), min_size=1, max_size=3), min_size=1, max_size=4),
    viewer=st.sampled_from(VIEWERS),
    extra_ids=st.lists(st.integers(min_value=-2, max_value=10**6), max_size=3),
)
def test_a_scoped_viewer_sees_only_what_they_may(users, other_sales, owners, links, viewer, extra_ids):
    """Whatever customers and contacts a caller passes (other teams', unknown ids), the profile holds only the
    viewer's visible customers, their own contacts and interactions, and visible requirements."""
    who = {**users, "other": other_sales}
    admin = users["admin"]
    with transaction.atomic():
        customers = [
            customer_create(actor=admin, name=f"范围客户{i}", owner=who[o] if o else None) for i, o in enumerate(owners)
        ]
        contacts = [
            contact_create(actor=admin, customer=c, name=f"联系人{i}", decision_role="decision_maker")
            for i, c in enumerate(customers)
        ]
        for c in customers:
            _interaction(admin, c, 2, f"{c.name}的沟通")
        requirements = []
        for n, picks in enumerate(links):
            chosen = [customers[i % len(customers)] for i in picks]
            r = requirement_create(actor=admin, customer=chosen[0], title=f"范围需求{n}")
            for c in chosen[1:]:
                feedback_create(actor=admin, raw_text="同样的诉求", channel="sales", customer=c, requirement=r)
            requirements.append(r)

        user = who[viewer]
        asked = [*customers, *extra_ids]
        found = customer_profiles(
            user=user, customers=asked, contacts=[*contacts, *extra_ids], needs=other_needs(user), limit=2
        )

        allowed = set(visible_customers(user).filter(pk__in=[c.pk for c in customers]).values_list("pk", flat=True))
        shown = [p.customer.pk for p in found.profiles] + [c.pk for c in found.more]
        assert set(shown) <= allowed
        assert len(shown) == len(set(shown)) == found.total == len(allowed)
        may_see = set(visible_requirements(user).values_list("pk", flat=True))
        for profile in found.profiles:
            assert all(c.customer_id == profile.customer.pk for c in profile.contacts)
            assert all(i.customer_id == profile.customer.pk for i in profile.interactions)
            assert {n.id for n in profile.needs} <= may_see
            assert profile.needs_total <= len(may_see)
        transaction.set_rollback(True)


def test_an_invisible_customer_has_no_profile(users, outsider, customer):
    assert customer_profile(outsider, customer) is None
    assert customer_profile(users["sales"], customer.pk) is not None
    assert Interaction.objects.count() == 0
