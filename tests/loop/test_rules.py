"""Who may do what, and input rules, over every role and generated input."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from needpool.accounts.roles import Role
from needpool.core.models import OutboundMail
from needpool.customers.choices import Segment, ValueTier
from needpool.loop import permissions, services
from needpool.loop.models import NpsCampaign, ReleaseNote, SurveyInvitation
from tests.conftest import ALL_ROLES

CLOSERS = {Role.ADMIN, Role.MANAGER, Role.PRODUCT_MANAGER}


@pytest.mark.django_db
@pytest.mark.parametrize("role", ALL_ROLES)
def test_only_closers_write_release_notes_and_campaigns(users: Any, role: str) -> None:
    user = users[role]
    assert permissions.can_close_loop(user) == (role in CLOSERS)
    assert permissions.can_configure(user) == (role == Role.ADMIN)
    if role in CLOSERS:
        services.release_note_create(actor=user, title="更新")
        services.nps_campaign_create(actor=user, name="NPS")
        assert ReleaseNote.objects.count() == NpsCampaign.objects.count() == 1
    else:
        with pytest.raises(PermissionDenied):
            services.release_note_create(actor=user, title="更新")
        with pytest.raises(PermissionDenied):
            services.nps_campaign_create(actor=user, name="NPS")
        assert not ReleaseNote.objects.exists() and not NpsCampaign.objects.exists()
    if role != Role.ADMIN:
        with pytest.raises(PermissionDenied):
            services.loop_settings_update(actor=user, csat_expiry_days=5)


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    segments=st.lists(st.sampled_from([*Segment.values, "vip", ""]), max_size=4),
    tiers=st.lists(st.sampled_from([*ValueTier.values, "top"]), max_size=3),
)
def test_campaign_filters_are_accepted_exactly_when_known(users: Any, segments: list[str], tiers: list[str]) -> None:
    before = NpsCampaign.objects.count()
    valid = set(segments) <= set(Segment.values) and set(tiers) <= set(ValueTier.values)
    try:
        campaign = services.nps_campaign_create(
            actor=users["manager"], name="NPS", segments=segments, value_tiers=tiers
        )
    except ValidationError:
        assert not valid and NpsCampaign.objects.count() == before
    else:
        assert valid and campaign.segments == sorted(set(segments)) and campaign.value_tiers == sorted(set(tiers))


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(days=st.one_of(st.integers(min_value=-5, max_value=400), st.sampled_from(["", "x", "3.5", None])))
def test_expiry_days_between_1_and_365(users: Any, days: Any) -> None:
    before = services.loop_settings().csat_expiry_days
    try:
        config = services.loop_settings_update(actor=users["admin"], csat_expiry_days=days)
    except ValidationError:
        assert not (isinstance(days, int) and 1 <= days <= 365)
        assert services.loop_settings().csat_expiry_days == before
    else:
        assert isinstance(days, int) and 1 <= days <= 365 and config.csat_expiry_days == days


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_invite_runs_at_once_invite_once(asked: Any, users: Any) -> None:
    from needpool.requirements.services import requirement_transition

    for target in ("in_progress", "testing", "launched", "closed"):
        requirement_transition(actor=users["product_manager"], requirement=asked, to=target)
    SurveyInvitation.objects.all().delete()
    OutboundMail.objects.filter(key__startswith="loop:csat:").delete()
    barrier = threading.Barrier(2)
    errors: list[str] = []

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            services.csat_invite(requirement_id=asked.pk)
        except Exception as exc:  # a busy SQLite writer is refused, never doubled
            errors.append(type(exc).__name__)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert SurveyInvitation.objects.filter(requirement=asked).count() == 1, errors
    assert OutboundMail.objects.filter(key__startswith=f"loop:csat:{asked.pk}:").count() == 1
