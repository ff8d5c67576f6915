"""Writing a month's review and its mail schedule: who may, what is refused (in words, nothing written), the
version check, the audit rows; who may read or write, over every role (property test)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from needpool.accounts.models import User
from needpool.accounts.roles import Cap, Role, role_has
from needpool.core.concurrency import StaleVersion
from needpool.core.models import AuditEntry
from needpool.reports import monthly, services
from needpool.reports.models import MonthlyReview, MonthlyReviewSchedule
from tests.reports.monthly_helpers import NOVEMBER

NOW = timezone.make_aware(dt.datetime(2026, 12, 6, 10, 0))


def test_get_or_create_makes_the_month_once(users: dict[str, Any]) -> None:
    first = services.monthly_review_get_or_create(actor=users["manager"], month=dt.date(2026, 11, 20), now=NOW)
    again = services.monthly_review_get_or_create(actor=users["viewer"], month=NOVEMBER, now=NOW)
    assert first.pk == again.pk and first.month == NOVEMBER and first.version == 1
    assert first.created_by == users["manager"] and first.generated_at == NOW
    assert AuditEntry.objects.filter(object_id=first.pk, action="create").count() == 1


def test_a_future_month_is_not_made(users: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as caught:
        services.monthly_review_get_or_create(actor=users["manager"], month=dt.date(2027, 1, 1), now=NOW)
    assert "2027-01 尚未开始" in str(caught.value)
    assert not MonthlyReview.objects.exists()


def test_conclusions_are_saved_with_a_new_version_and_an_audit_row(users: dict[str, Any]) -> None:
    review = services.monthly_review_get_or_create(actor=users["manager"], month=NOVEMBER, now=NOW)
    saved = services.monthly_review_update(
        actor=users["product_manager"], review=review, conclusions="  下月重点：批量操作。\r\n第二条  ", version=1
    )
    assert saved.conclusions == "下月重点：批量操作。\n第二条" and saved.version == 2
    assert saved.updated_by == users["product_manager"]
    entry = AuditEntry.objects.get(object_id=review.pk, action="update")
    assert entry.changes == {"conclusions": ["", "下月重点：批量操作。\n第二条"]}
    # The same text again writes nothing.
    same = services.monthly_review_update(
        actor=users["manager"], review=saved, conclusions="下月重点：批量操作。\n第二条", version=2
    )
    assert same.version == 2 and AuditEntry.objects.filter(object_id=review.pk, action="update").count() == 1


def test_a_stale_save_is_refused_in_chinese(users: dict[str, Any]) -> None:
    review = services.monthly_review_get_or_create(actor=users["manager"], month=NOVEMBER, now=NOW)
    services.monthly_review_update(actor=users["manager"], review=review, conclusions="第一版", version=1)
    with pytest.raises(StaleVersion) as caught:
        services.monthly_review_update(actor=users["product_manager"], review=review, conclusions="第二版", version=1)
    assert "已被他人修改" in str(caught.value.messages[0]) and caught.value.current_version == 2
    review.refresh_from_db()
    assert review.conclusions == "第一版" and review.version == 2


def test_over_long_conclusions_are_refused_with_their_length(users: dict[str, Any]) -> None:
    review = services.monthly_review_get_or_create(actor=users["manager"], month=NOVEMBER, now=NOW)
    with pytest.raises(ValidationError) as caught:
        services.monthly_review_update(actor=users["manager"], review=review, conclusions="字" * 5001, version=1)
    assert caught.value.message_dict["conclusions"] == ["团队结论最多 5000 字，当前 5001 字，请删减后再保存。"]
    review.refresh_from_db()
    assert review.conclusions == "" and review.version == 1
    services.monthly_review_update(actor=users["manager"], review=review, conclusions="字" * 5000, version=1)


def test_schedule_update_saves_recipients_and_an_audit_row(users: dict[str, Any]) -> None:
    row = services.monthly_schedule_update(
        actor=users["manager"], enabled=True, recipients=[users["viewer"], users["product_manager"]]
    )
    assert row.enabled and set(row.recipients.all()) == {users["viewer"], users["product_manager"]}
    assert MonthlyReviewSchedule.objects.count() == 1
    entry = AuditEntry.objects.get(object_id=row.pk, action="update")
    assert entry.changes["enabled"] == [False, True]
    again = services.monthly_schedule_update(actor=users["admin"], enabled=False, recipients=[])
    assert again.pk == row.pk and not again.enabled and MonthlyReviewSchedule.objects.count() == 1


@pytest.mark.parametrize(
    ("enabled", "people", "message"),
    [
        (True, [], "启用定时发送时请至少选择一位收件人。"),
        (True, ["sales"], "以下用户不能查看全团队的复盘，不能作为收件人：sales"),
    ],
)
def test_bad_schedules_are_refused(users: dict[str, Any], enabled: bool, people: list[str], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        services.monthly_schedule_update(actor=users["manager"], enabled=enabled, recipients=[users[p] for p in people])
    assert caught.value.message_dict["recipients"] == [message]
    assert not MonthlyReviewSchedule.objects.exists()


def test_schedule_candidates_are_the_active_readers_of_everything(users: dict[str, Any]) -> None:
    names = set(services.schedule_candidates().values_list("username", flat=True))
    assert names == {"admin", "manager", "product_manager", "engineer", "compliance", "viewer"}


ROLES = [r.value for r in Role]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(role=st.sampled_from(ROLES), superuser=st.booleans(), active=st.booleans())
def test_who_may_read_and_write_the_review(db: Any, role: str, superuser: bool, active: bool) -> None:
    user = User.objects.create_user(
        username=f"u-{User.objects.count()}", role=role, is_superuser=superuser, is_active=active
    )
    may_read = active and (superuser or role_has(role, Cap.SEE_ALL))
    may_write = may_read and (superuser or role_has(role, Cap.ANALYSE))
    assert monthly.can_read(user) is may_read
    assert monthly.can_write(user) is may_write
    review, _ = MonthlyReview.objects.get_or_create(month=NOVEMBER)
    if may_write:
        saved = services.monthly_review_update(actor=user, review=review, conclusions=f"{role}", version=None)
        assert saved.conclusions == role
        services.monthly_schedule_update(actor=user, enabled=False, recipients=[])
    else:
        before = review.version
        with pytest.raises(PermissionDenied):
            services.monthly_review_update(actor=user, review=review, conclusions="不应保存", version=None)
        with pytest.raises(PermissionDenied):
            services.monthly_schedule_update(actor=user, enabled=False, recipients=[])
        review.refresh_from_db()
        assert review.version == before and review.conclusions != "不应保存"
    if not may_read:
        with pytest.raises(PermissionDenied):
            services.monthly_review_get_or_create(actor=user, month=NOVEMBER, now=NOW)
