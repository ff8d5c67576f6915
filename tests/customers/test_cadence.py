"""Follow-up cadence by segment: the next date from the last interaction, reminders once per day, the home
page's due list, the suggested segment and the settings table."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from needpool.accounts.roles import Role
from needpool.core.models import Notification
from needpool.customers import cadence
from needpool.customers.choices import Segment
from needpool.customers.models import Customer, FollowUpCadence
from needpool.customers.selectors import follow_ups_due
from needpool.customers.services import customer_create, customer_update, interaction_create
from tests.conftest import PASSWORD, count_queries

pytestmark = pytest.mark.django_db

EXPECTED_DAYS = {"high_value": 30, "potential": 14, "churn_risk": 7, "normal": 90}


def client_for(user: Any) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def record(user: Any, customer: Customer, at: dt.datetime, **extra: Any) -> Any:
    return interaction_create(
        actor=user, customer=customer, occurred_at=at, channel="phone", key_content="回访", **extra
    )


def reminders(user: Any) -> int:
    return Notification.objects.filter(recipient=user, kind=Notification.Kind.FOLLOW_UP).count()


def test_the_defaults_follow_the_crm_template() -> None:
    table = {row.segment: row for row in cadence.cadence_table()}
    assert {k: v.interval_days for k, v in table.items()} == EXPECTED_DAYS
    assert table["high_value"].senior_visit_days == 90
    assert "挽回" in table["churn_risk"].note


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(segment=st.sampled_from(Segment.values), days_ago=st.integers(0, 400), hour=st.integers(0, 23))
def test_next_follow_up_is_the_last_interaction_plus_the_segments_interval(
    users: Any, customer: Customer, segment: str, days_ago: int, hour: int
) -> None:
    Customer.objects.filter(pk=customer.pk).update(segment=segment)
    customer.interactions.all().delete()
    at = timezone.make_aware(dt.datetime.combine(timezone.localdate() - dt.timedelta(days=days_ago), dt.time(hour)))
    at = min(at, timezone.now())
    record(users["sales"], customer, at)
    customer.refresh_from_db()
    assert customer.next_follow_up == timezone.localdate(at) + dt.timedelta(days=EXPECTED_DAYS[segment])


def test_a_planned_date_on_the_interaction_is_kept(users: Any, customer: Customer) -> None:
    record(users["sales"], customer, timezone.now(), next_follow_up_date=timezone.localdate() + dt.timedelta(days=3))
    customer.refresh_from_db()
    assert customer.next_follow_up == timezone.localdate() + dt.timedelta(days=3)
    assert cadence.follow_ups_refresh() == 0


def test_an_edited_cadence_sets_the_next_date(users: Any, customer: Customer) -> None:
    cadence.cadence_update(actor=users["admin"], segment="normal", interval_days=21, note="每三周")
    at = timezone.now() - dt.timedelta(hours=1)
    record(users["sales"], customer, at)
    customer.refresh_from_db()
    assert customer.next_follow_up == timezone.localdate(at) + dt.timedelta(days=21)


def test_the_daily_job_fills_missing_and_left_behind_dates(users: Any, customer: Customer) -> None:
    never = customer_create(actor=users["sales"], name="没联系过的客户", owner=users["sales"], segment="potential")
    contacted_at = timezone.now() - dt.timedelta(days=10)
    record(users["sales"], customer, contacted_at, next_follow_up_date=timezone.localdate(contacted_at))
    assert cadence.follow_ups_refresh() == 2
    never.refresh_from_db()
    customer.refresh_from_db()
    assert never.next_follow_up == timezone.localdate(never.created_at) + dt.timedelta(days=14)
    # The planned day has come and gone since the last contact (it equals it): the cadence takes over.
    assert customer.next_follow_up == timezone.localdate(contacted_at) + dt.timedelta(days=90)
    assert cadence.follow_ups_refresh() == 0


def test_reminders_go_to_the_owner_once_per_day_until_followed_up(users: Any, customer: Customer) -> None:
    owner = users["sales"]
    customer_update(actor=owner, customer=customer, next_follow_up=timezone.localdate() + dt.timedelta(days=1))
    # Local noon: "half an hour later" stays the same day whatever time the test runs.
    now = timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time(12)))
    assert cadence.follow_up_reminders_send(now=now) == 0
    tomorrow = now + dt.timedelta(days=1)
    assert cadence.follow_up_reminders_send(now=tomorrow) == 1
    assert cadence.follow_up_reminders_send(now=tomorrow + dt.timedelta(minutes=30)) == 0
    assert reminders(owner) == 1
    assert cadence.follow_up_reminders_send(now=tomorrow + dt.timedelta(days=1)) == 1
    assert "逾期 1 天" in Notification.objects.filter(recipient=owner).order_by("-pk").first().text
    record(owner, customer, timezone.now())  # followed up: next date moves on by the interval
    assert cadence.follow_up_reminders_send(now=tomorrow + dt.timedelta(days=2)) == 0
    assert reminders(owner) == 2


def test_follow_ups_due_lists_the_users_own_due_customers(users: Any, customer: Customer, customer_b: Customer) -> None:
    today = timezone.localdate()
    customer_update(actor=users["sales"], customer=customer, next_follow_up=today - dt.timedelta(days=2))
    customer_update(actor=users["product_manager"], customer=customer_b, next_follow_up=today)
    assert list(follow_ups_due(user=users["sales"], today=today, within_days=0)) == [customer]
    assert list(follow_ups_due(user=users["product_manager"], today=today, within_days=0)) == [customer, customer_b]
    assert list(follow_ups_due(user=users["sales"], today=today - dt.timedelta(days=3), within_days=0)) == []
    assert list(follow_ups_due(user=AnonymousUser(), today=today, within_days=0)) == []


@pytest.mark.parametrize(
    ("tier", "complaints", "inactive", "history", "expected"),
    [
        ("high", 0, 5, True, "high_value"),
        ("medium", 0, 5, True, "potential"),
        ("low", 0, 5, True, "normal"),
        ("high", 2, 5, True, "churn_risk"),
        ("low", 0, 120, True, "churn_risk"),
        ("low", 0, 120, False, "normal"),
    ],
)
def test_the_suggested_segment_follows_the_signals(
    tier: str, complaints: int, inactive: int, history: bool, expected: str
) -> None:
    suggestion = cadence.suggest_segment(
        value_tier=tier, complaints=complaints, inactive_days=inactive, has_history=history
    )
    assert suggestion.segment == expected and suggestion.reasons


def test_complaints_in_interactions_suggest_churn_risk_and_applying_it_reschedules(
    users: Any, customer: Customer
) -> None:
    assert cadence.segment_suggestion(customer).segment == "high_value"  # 6,000,000 a year
    for hours in (3, 2):
        record(users["sales"], customer, timezone.now() - dt.timedelta(hours=hours), mood="dissatisfied")
    suggestion = cadence.segment_suggestion(customer)
    assert suggestion.segment == "churn_risk" and suggestion.complaints == 2
    with pytest.raises(ValidationError):
        cadence.customer_apply_suggested_segment(actor=users["sales"], customer=customer, expected_segment="potential")
    updated = cadence.customer_apply_suggested_segment(
        actor=users["sales"], customer=customer, expected_segment="churn_risk"
    )
    assert updated.segment == "churn_risk"
    assert updated.next_follow_up == timezone.localdate(
        customer.interactions.order_by("-occurred_at").first().occurred_at
    ) + dt.timedelta(days=7)


def test_applying_a_suggestion_needs_the_right_to_write_the_customer(
    users: Any, customer: Customer, other_sales: Any
) -> None:
    for actor in (users["viewer"], other_sales):
        with pytest.raises(PermissionDenied):
            cadence.customer_apply_suggested_segment(actor=actor, customer=customer)
    assert Customer.objects.get(pk=customer.pk).segment == "normal"


@settings(max_examples=len(Role), deadline=None, suppress_health_check=list(HealthCheck))
@given(role=st.sampled_from(list(Role)))
def test_only_admins_edit_the_cadence(users: Any, role: str) -> None:
    try:
        cadence.cadence_update(actor=users[role], segment="potential", interval_days=10)
    except PermissionDenied:
        assert role != Role.ADMIN
    else:
        assert role == Role.ADMIN


@pytest.mark.parametrize(
    "bad",
    [
        {"segment": "vip", "interval_days": 10},
        {"segment": "potential", "interval_days": 0},
        {"segment": "potential", "interval_days": 366},
        {"segment": "potential", "interval_days": "x"},
        {"segment": "potential", "interval_days": 1.5},
        {"segment": "potential", "interval_days": 10, "senior_visit_days": -1},
        {"segment": "potential", "interval_days": 10, "note": "长" * 301},
    ],
)
def test_bad_cadence_input_is_refused_and_nothing_written(users: Any, bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        cadence.cadence_update(actor=users["admin"], **bad)
    assert not FollowUpCadence.objects.exists()


def test_the_settings_page_saves_the_table(users: Any) -> None:
    client = client_for(users["admin"])
    page = client.get(reverse("customers:cadence"))
    assert page.status_code == 200 and "流失风险" in page.content.decode()
    data = {}
    for row in cadence.cadence_table():
        data[f"{row.segment}-interval_days"] = row.interval_days
        data[f"{row.segment}-senior_visit_days"] = row.senior_visit_days or ""
        data[f"{row.segment}-note"] = row.note
    data["potential-interval_days"] = 10
    assert client.post(reverse("customers:cadence"), data).status_code == 302
    assert cadence.cadence_intervals()["potential"] == 10
    data["normal-interval_days"] = 0
    assert client.post(reverse("customers:cadence"), data).status_code == 200
    assert cadence.cadence_intervals()["normal"] == 90


def test_the_settings_page_is_for_admins(users: Any) -> None:
    assert client_for(users["manager"]).get(reverse("customers:cadence")).status_code == 403


def test_the_customer_page_offers_the_suggestion(users: Any, customer: Customer) -> None:
    client = client_for(users["sales"])
    html = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert 'id="follow-up-cadence"' in html and 'id="segment-suggestion"' in html and "高价值" in html
    response = client.post(reverse("customers:apply_segment", args=[customer.pk]), {"segment": "high_value"})
    assert response.status_code == 302
    assert Customer.objects.get(pk=customer.pk).segment == "high_value"
    html = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert 'id="segment-suggestion"' not in html and 'id="senior-visit-due"' in html


def test_the_customer_page_queries_stay_bounded(users: Any, customer: Customer) -> None:
    client = client_for(users["sales"])
    url = reverse("customers:detail", args=[customer.pk])
    before = count_queries(client, url)
    for i in range(5):
        record(users["sales"], customer, timezone.now() - dt.timedelta(hours=i + 1), mood="dissatisfied")
    assert count_queries(client, url) <= before + 1


def test_the_daily_job_runs_twice_and_reminds_once(users: Any, customer: Customer) -> None:
    from needpool.customers.tasks import follow_ups_daily

    customer_update(actor=users["sales"], customer=customer, next_follow_up=timezone.localdate())
    follow_ups_daily()
    follow_ups_daily()
    assert reminders(users["sales"]) == 1


def test_the_daily_job_brings_a_date_beyond_the_cadence_forward(users: Any, customer: Customer) -> None:
    at = timezone.now() - dt.timedelta(hours=1)
    record(users["sales"], customer, at, next_follow_up_date=timezone.localdate() + dt.timedelta(days=200))
    customer.refresh_from_db()
    assert customer.next_follow_up == timezone.localdate() + dt.timedelta(days=200)  # as planned, until tonight
    Customer.objects.filter(pk=customer.pk).update(segment="churn_risk")  # segment changed by hand
    assert cadence.follow_ups_refresh() == 1
    customer.refresh_from_db()
    assert customer.next_follow_up == timezone.localdate(at) + dt.timedelta(days=7)


def test_the_owner_is_also_mailed_once_per_day(
    users: Any, customer: Customer, django_capture_on_commit_callbacks: Any
) -> None:
    from django.core import mail

    from needpool.notify.models import Delivery

    users["sales"].email = "sales@example.com"
    users["sales"].save(update_fields=["email"])
    customer_update(actor=users["sales"], customer=customer, next_follow_up=timezone.localdate())
    with django_capture_on_commit_callbacks(execute=True):
        cadence.follow_up_reminders_send()
        cadence.follow_up_reminders_send()
    sent = Delivery.objects.filter(
        event__key__startswith=f"follow-up:{customer.pk}:", target=f"mail:{users['sales'].pk}"
    )
    assert sent.count() == 1 and sent.get().status == Delivery.Status.SENT
    assert [m.to for m in mail.outbox] == [["sales@example.com"]]
