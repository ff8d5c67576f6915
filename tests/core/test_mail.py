"""Outbound mail is queued under a key and sent once by a job; failures are recorded and retried."""

from typing import Any

import pytest
from django.core import mail as django_mail

from needpool.core.mail import MAX_ATTEMPTS, mail_queue, mail_send, mail_send_pending
from needpool.core.models import OutboundMail

pytestmark = pytest.mark.django_db


def test_a_queued_mail_is_sent_once_even_when_queued_and_sent_twice(django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        first = mail_queue(key="k:1", to=["a@b.cn", " a@b.cn ", ""], subject="主题\n换行", body="正文")
        again = mail_queue(key="k:1", to=["a@b.cn"], subject="主题", body="正文")
    assert first is not None and again is None
    assert len(django_mail.outbox) == 1
    message = django_mail.outbox[0]
    assert message.to == ["a@b.cn"] and message.subject == "主题 换行" and message.body == "正文"
    first.refresh_from_db()
    assert first.status == OutboundMail.Status.SENT and first.sent_at is not None and first.attempts == 1
    assert mail_send(first.pk) == OutboundMail.Status.SENT  # a second run of the job sends nothing
    assert len(django_mail.outbox) == 1


def test_nobody_to_send_to_queues_nothing() -> None:
    assert mail_queue(key="k:2", to=["", "  "], subject="s", body="b") is None
    assert not OutboundMail.objects.exists()


def test_attachments_and_html_travel_with_the_mail(django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        mail_queue(
            key="k:3",
            to=["a@b.cn"],
            subject="邀请",
            body="纯文本",
            html="<p>网页</p>",
            attachments=[{"filename": "invite.ics", "content": "BEGIN:VCALENDAR", "mimetype": "text/calendar"}],
        )
    message = django_mail.outbox[0]
    assert message.alternatives[0][0] == "<p>网页</p>"
    assert message.attachments[0][0] == "invite.ics" and message.attachments[0][2] == "text/calendar"


def test_a_failing_transport_is_recorded_retried_and_given_up_after_the_last_attempt(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    queued = OutboundMail.objects.create(key="k:4", to=["a@b.cn"], subject="s", body="b")

    def broken(self: Any, fail_silently: bool = False) -> int:
        raise OSError("connection refused")

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", broken)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        status = mail_send(queued.pk)
        queued.refresh_from_db()
        assert queued.attempts == attempt and "connection refused" in queued.error
        assert status == (OutboundMail.Status.FAILED if attempt == MAX_ATTEMPTS else OutboundMail.Status.PENDING)
    monkeypatch.undo()
    assert mail_send(queued.pk) == OutboundMail.Status.FAILED  # given up: not sent again
    assert django_mail.outbox == []


def test_the_periodic_run_sends_what_is_still_pending_and_only_that() -> None:
    pending = OutboundMail.objects.create(key="k:5", to=["a@b.cn"], subject="s", body="b")
    OutboundMail.objects.create(key="k:6", to=["a@b.cn"], subject="s", body="b", status=OutboundMail.Status.SENT)
    assert mail_send_pending(older_than_seconds=0) == 1
    pending.refresh_from_db()
    assert pending.status == OutboundMail.Status.SENT and len(django_mail.outbox) == 1
    assert mail_send_pending(older_than_seconds=0) == 0


def test_links_in_mails_are_absolute_from_the_site_setting(settings: Any) -> None:
    from needpool.core.links import absolute, site_url

    settings.NEEDPOOL_SITE_URL, settings.CSRF_TRUSTED_ORIGINS = "", []
    assert absolute("/reviews/1/") == "http://localhost:8000/reviews/1/"
    settings.CSRF_TRUSTED_ORIGINS = ["https://np.example.cn"]
    assert site_url() == "https://np.example.cn"
    settings.NEEDPOOL_SITE_URL = "https://needpool.example.com/"
    assert absolute("reviews/1/") == "https://needpool.example.com/reviews/1/"
    assert absolute("https://other.example/x") == "https://other.example/x"
