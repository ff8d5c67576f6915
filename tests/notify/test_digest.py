"""The daily digest: what the user reads only there, grouped, newest first, capped, once per day."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from needpool.accounts.roles import Role
from needpool.notify import senders
from needpool.notify.kinds import Channel, EventKind
from needpool.notify.models import DigestRun
from needpool.notify.services import (
    DIGEST_MAX_LINES,
    MAX_ATTEMPTS,
    digest_send,
    digests_due,
    digests_prepare,
    preferences_set,
)
from tests.notify.conftest import at_local

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 3, 10)
EIGHT = at_local(DAY, 8)


def _digest_user(make_user: Any, **extra: Any) -> Any:
    user = make_user(Role.PRODUCT_MANAGER, extra.pop("username", "reader"), email="r@example.com", **extra)
    # STATUS and COMMENT are in the digest by default; ASSIGNED only once chosen.
    preferences_set(actor=user, user=user, choices={EventKind.ASSIGNED: [Channel.DIGEST]})
    return user


def _run_all(now: dt.datetime) -> list[str]:
    return [digest_send(pk, now=now) for pk in digests_prepare(now=now)]


def test_digest_groups_by_kind_newest_first(make_user: Any, send_event: Any) -> None:
    user = _digest_user(make_user)
    other = make_user(Role.PRODUCT_MANAGER, "other", email="o@example.com")
    old = send_event([user], kind=EventKind.STATUS, at=EIGHT - dt.timedelta(hours=30), code="OLD")
    s1 = send_event([user], kind=EventKind.STATUS, at=EIGHT - dt.timedelta(hours=20), code="S1")
    a1 = send_event([user], kind=EventKind.ASSIGNED, at=EIGHT - dt.timedelta(hours=10), code="A1")
    s2 = send_event([user], kind=EventKind.STATUS, at=EIGHT - dt.timedelta(hours=2), code="S2")
    send_event([user], kind=EventKind.MERGE, at=EIGHT - dt.timedelta(hours=1), code="MERGE")  # not in the digest
    send_event([other], kind=EventKind.TASK, at=EIGHT - dt.timedelta(hours=1), code="THEIRS")  # not theirs
    send_event([user], kind=EventKind.STATUS, at=EIGHT + dt.timedelta(minutes=5), code="LATER")  # after now
    mail.outbox.clear()
    assert _run_all(EIGHT) == ["sent"]
    (message,) = mail.outbox
    assert message.to == ["r@example.com"]
    assert message.subject == "【需求池】每日摘要 2026-03-10：3 条更新"
    run = DigestRun.objects.get()
    assert run.user == user and run.day == DAY and run.events == [s2.pk, a1.pk, s1.pk]
    body = message.body
    assert body.index("## 状态变化") < body.index("## 指派")  # the group of the newest first
    assert body.index("S2") < body.index("S1")
    for absent in ("OLD", "MERGE", "THEIRS", "LATER"):
        assert absent not in body
    assert "更改通知设置" in body and "/notify/preferences/" in body
    assert old is not None


def test_digest_is_sent_once_per_day_and_the_next_starts_where_it_ended(make_user: Any, send_event: Any) -> None:
    user = _digest_user(make_user)
    send_event([user], kind=EventKind.STATUS, at=EIGHT - dt.timedelta(hours=3), code="FIRST")
    mail.outbox.clear()
    assert _run_all(EIGHT) == ["sent"]
    assert _run_all(EIGHT + dt.timedelta(minutes=30)) == []  # a rerun the same day
    send_event([user], kind=EventKind.STATUS, at=EIGHT + dt.timedelta(hours=1), code="SECOND")
    assert _run_all(EIGHT + dt.timedelta(hours=2)) == []  # still the same day
    assert len(mail.outbox) == 1
    assert _run_all(EIGHT + dt.timedelta(days=1)) == ["sent"]
    assert len(mail.outbox) == 2
    assert "SECOND" in mail.outbox[1].body and "FIRST" not in mail.outbox[1].body
    runs = list(DigestRun.objects.order_by("day").values_list("day", "status"))
    assert runs == [(DAY, "sent"), (DAY + dt.timedelta(days=1), "sent")]
    first = DigestRun.objects.get(day=DAY)
    assert digest_send(first.pk, now=EIGHT, force=True) == "sent"  # sent stays sent
    assert len(mail.outbox) == 2


def test_an_empty_day_sends_nothing(make_user: Any, send_event: Any) -> None:
    user = _digest_user(make_user)
    send_event([user], kind=EventKind.MERGE, at=EIGHT - dt.timedelta(hours=1))  # in-app only
    mail.outbox.clear()
    assert _run_all(EIGHT) == []
    assert not mail.outbox and not DigestRun.objects.exists()


def test_no_address_or_inactive_no_digest(make_user: Any, send_event: Any) -> None:
    user = _digest_user(make_user)
    send_event([user], kind=EventKind.STATUS, at=EIGHT - dt.timedelta(hours=1))
    user.is_active = False
    user.save()
    assert digests_prepare(now=EIGHT) == []
    user.is_active, user.email = True, ""
    user.save()
    assert digests_prepare(now=EIGHT) == []


def test_digest_is_capped(make_user: Any, send_event: Any) -> None:
    user = _digest_user(make_user)
    for i in range(DIGEST_MAX_LINES + 3):
        send_event([user], kind=EventKind.STATUS, at=EIGHT - dt.timedelta(minutes=i + 1), code=f"N{i:03d}")
    mail.outbox.clear()
    assert _run_all(EIGHT) == ["sent"]
    body = mail.outbox[0].body
    assert "N000" in body and f"N{DIGEST_MAX_LINES - 1:03d}" in body and f"N{DIGEST_MAX_LINES:03d}" not in body
    assert "还有 3 条" in body and "/notifications/" in body


def test_digest_in_english(make_user: Any, send_event: Any) -> None:
    user = _digest_user(make_user, language="en")
    send_event([user], kind=EventKind.STATUS, at=EIGHT - dt.timedelta(hours=1))
    mail.outbox.clear()
    _run_all(EIGHT)
    body = mail.outbox[0].body
    assert "assigned requirement DEM20240301001 to you" in body and "指派给你" not in body


def test_a_failed_digest_is_retried_with_backoff(make_user: Any, send_event: Any, monkeypatch: Any) -> None:
    user = _digest_user(make_user)
    send_event([user], kind=EventKind.STATUS, at=EIGHT - dt.timedelta(hours=1))
    mail.outbox.clear()
    calls: list[int] = []

    def broken(run: DigestRun) -> bool:
        calls.append(run.pk)
        raise OSError("smtp down")

    monkeypatch.setattr(senders, "digest_mail_send", broken)
    (pk,) = digests_prepare(now=EIGHT)
    assert digest_send(pk, now=EIGHT) == "pending"
    run = DigestRun.objects.get()
    assert run.attempts == 1 and run.error == "smtp down" and run.next_attempt_at is not None
    assert pk not in digests_due()
    for _ in range(MAX_ATTEMPTS + 2):
        DigestRun.objects.filter(pk=pk).update(next_attempt_at=timezone.now() - dt.timedelta(seconds=1))
        digest_send(pk)
    run.refresh_from_db()
    assert run.status == DigestRun.Status.FAILED and len(calls) == MAX_ATTEMPTS and not mail.outbox


def test_two_runs_at_once_make_one_digest(make_user: Any, send_event: Any) -> None:
    user = _digest_user(make_user)
    send_event([user], kind=EventKind.STATUS, at=EIGHT - dt.timedelta(hours=1))
    first = digests_prepare(now=EIGHT)
    second = digests_prepare(now=EIGHT + dt.timedelta(seconds=1))
    assert len(first) == 1 and second == []


def test_the_daily_job_runs_at_eight_site_time() -> None:
    from needpool.notify.tasks import digests_daily

    validate = digests_daily.task_class().validate_datetime
    assert validate(dt.datetime(2026, 3, 10, 8, 0)) and not validate(dt.datetime(2026, 3, 10, 0, 0))
