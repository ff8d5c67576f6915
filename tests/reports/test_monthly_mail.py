"""The monthly mail: on the 1st, last month's review to each recipient of an enabled schedule, as that
recipient counts it and in their language; once per recipient and month; the schedule's local time."""

from __future__ import annotations

import datetime as dt
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.utils import timezone, translation

from needpool.core.models import OutboundMail
from needpool.reports import monthly_tasks
from needpool.reports.models import MonthlyReviewSchedule
from needpool.reports.services import monthly_review_mail_send, monthly_schedule_update
from tests.reports.monthly_helpers import mocked_summary

FIRST = timezone.make_aware(dt.datetime(2026, 12, 1, 8, 10))


@pytest.fixture
def schedule(users: dict[str, Any], settings: Any) -> MonthlyReviewSchedule:
    settings.NEEDPOOL_SITE_URL = "https://needs.example.cn"
    for name in ("manager", "viewer", "engineer"):
        users[name].email = f"{name}@example.cn"
        users[name].save()
    return monthly_schedule_update(
        actor=users["manager"], enabled=True, recipients=[users["manager"], users["viewer"], users["engineer"]]
    )


def test_on_the_first_each_recipient_gets_last_months_review(
    schedule: MonthlyReviewSchedule, users: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    with mocked_summary() as summary, django_capture_on_commit_callbacks(execute=True):
        counts = monthly_review_mail_send(now=FIRST)
    assert counts == {"queued": 3, "already": 0, "skipped": 0}
    keys = set(OutboundMail.objects.values_list("key", flat=True))
    assert keys == {f"monthly-review:2026-11:{users[n].pk}" for n in ("manager", "viewer", "engineer")}
    # Built as each recipient: November and October once per recipient, each call with that recipient.
    readers = [c.kwargs["user"] for c in summary.call_args_list]
    assert sorted(u.username for u in readers) == sorted(["manager", "viewer", "engineer"] * 2)
    sent = {m.to[0]: m for m in mail.outbox}
    assert set(sent) == {"manager@example.cn", "viewer@example.cn", "engineer@example.cn"}
    message = sent["viewer@example.cn"]
    assert message.subject == "2026 年 11 月需求复盘"
    assert "需求总数：20（较上月 +4（+25.0%））" in message.body
    assert "需求满足率：60.0%" in message.body
    assert "本月 30% 的需求为功能优化（6/20）" in message.body
    assert "https://needs.example.cn/reports/monthly/2026-11/" in message.body
    html = message.alternatives[0][0]  # type: ignore[index]
    assert "https://needs.example.cn/reports/monthly/2026-11/" in html and "60.0%" in html and "数据截至" in html
    schedule.refresh_from_db()
    assert schedule.last_sent_month == dt.date(2026, 11, 1)


def test_running_twice_sends_once(schedule: MonthlyReviewSchedule, django_capture_on_commit_callbacks: Any) -> None:
    with mocked_summary() as summary, django_capture_on_commit_callbacks(execute=True):
        monthly_review_mail_send(now=FIRST)
        calls = summary.call_count
        again = monthly_review_mail_send(now=FIRST + dt.timedelta(hours=1))
    assert again == {"queued": 0, "already": 3, "skipped": 0}
    assert summary.call_count == calls  # nothing built again
    assert OutboundMail.objects.count() == 3 and len(mail.outbox) == 3


@pytest.mark.parametrize("day", [2, 15, 30])
def test_nothing_is_sent_on_other_days(schedule: MonthlyReviewSchedule, day: int) -> None:
    with mocked_summary():
        counts = monthly_review_mail_send(now=timezone.make_aware(dt.datetime(2026, 11, day, 8, 10)))
    assert counts == {"queued": 0, "already": 0, "skipped": 0} and not OutboundMail.objects.exists()


def test_a_disabled_schedule_sends_nothing(schedule: MonthlyReviewSchedule, users: dict[str, Any]) -> None:
    monthly_schedule_update(actor=users["manager"], enabled=False, recipients=[users["viewer"]])
    with mocked_summary():
        assert monthly_review_mail_send(now=FIRST) == {"queued": 0, "already": 0, "skipped": 0}
    assert not OutboundMail.objects.exists()


def test_a_recipient_who_can_no_longer_read_the_whole_review_is_skipped(
    schedule: MonthlyReviewSchedule, users: dict[str, Any]
) -> None:
    # The review counts the whole team and its link needs that right; a scoped version would be mislabelled.
    users["viewer"].role = "sales"
    users["viewer"].save()
    users["engineer"].email = ""
    users["engineer"].save()
    with mocked_summary():
        counts = monthly_review_mail_send(now=FIRST)
    assert counts == {"queued": 1, "already": 0, "skipped": 2}
    assert list(OutboundMail.objects.values_list("key", flat=True)) == [f"monthly-review:2026-11:{users['manager'].pk}"]


def test_the_mail_is_in_the_recipients_language(schedule: MonthlyReviewSchedule, users: dict[str, Any]) -> None:
    seen: list[str] = []
    users["viewer"].language = "en"  # a stored language preference wins over the site's
    with (
        mock.patch.object(MonthlyReviewSchedule, "recipients", create=True) as recipients,
        mocked_summary(),
        mock.patch(
            "needpool.reports.services.review_mail_render",
            side_effect=lambda report, month: seen.append(translation.get_language()) or ("s", "b", "h"),
        ),
    ):
        recipients.order_by.return_value = [users["viewer"], users["manager"]]
        monthly_review_mail_send(now=FIRST)
    assert seen == ["en", "zh-hans"]


@pytest.mark.parametrize(
    ("utc", "expected"),
    [
        (dt.datetime(2026, 12, 1, 0, 10), True),  # 08:10 in Shanghai
        (dt.datetime(2026, 12, 1, 5, 10), True),  # 13:10: the catch-up of a worker that was down at 08:10
        (dt.datetime(2026, 11, 30, 16, 10), False),  # 00:10 on the 1st: too early
        (dt.datetime(2026, 12, 1, 8, 10), True),  # 16:10
        (dt.datetime(2026, 12, 1, 0, 11), False),
        (dt.datetime(2026, 12, 1, 16, 10), False),  # 00:10 on the 2nd
        (dt.datetime(2026, 12, 2, 0, 10), False),
    ],
)
def test_the_job_runs_on_the_first_at_ten_past_eight_local(settings: Any, utc: dt.datetime, expected: bool) -> None:
    settings.TIME_ZONE = "Asia/Shanghai"
    with mock.patch.object(monthly_tasks.HUEY, "utc", True):
        assert monthly_tasks.is_send_time(utc) is expected  # the scheduler hands naive UTC
    assert monthly_tasks.is_send_time(utc.replace(tzinfo=ZoneInfo("UTC"))) is expected


def test_the_job_is_registered_with_the_worker() -> None:
    from huey.contrib.djhuey import HUEY

    assert any(
        "monthly_review_mail" in name
        for name in HUEY._registry._registry  # type: ignore[attr-defined]
    )
