"""One poll of a mailbox over (fake) IMAP: new mails by UID, \\Seen only after commit, failures recorded
without stopping the poll, server errors kept for the admin page, two polls at once take each mail once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from needpool.intake.mailin import services
from needpool.intake.mailin.models import InboundMail, InboundStatus, MailSource
from needpool.intake.mailin.services import mail_ingest, mail_poll, mail_poll_all
from needpool.intake.mailin.tasks import mail_poll_all_job
from needpool.requirements.models import Feedback
from tests.intake.mailin.conftest import gbk_mail, make_mail, make_source
from tests.races import at_once


def statuses() -> list[str]:
    return list(InboundMail.objects.order_by("id").values_list("status", flat=True))


def test_a_poll_takes_in_every_new_mail_and_marks_it_seen(source, mailbox, customer):
    a = mailbox.add(make_mail(subject="导出太慢", sender="wang@a-tech.com.cn"))
    b = mailbox.add(gbk_mail(subject="售后响应太慢", body="发货慢"))
    c = mailbox.add(
        make_mail(
            body=None,
            html="<p>网页反馈</p>",
            sender="x@unknown.example",
            attachments=[("单.pdf", "application/pdf", b"1")],
        )
    )
    result = mail_poll(source_id=source.pk)
    assert result.error == "" and result.counts == {"created": 3}
    assert all(mailbox.seen(uid) for uid in (a, b, c))
    source.refresh_from_db()
    assert source.last_uid == c and source.uid_validity == 7
    assert source.last_polled_at is not None and source.last_error == ""
    assert Feedback.objects.count() == 3
    assert Feedback.objects.filter(customer=customer).count() == 1


def test_the_first_poll_takes_unseen_mails_then_everything_after_the_last_uid(source, mailbox):
    mailbox.add(make_mail(subject="早已读过"), seen=True)
    mailbox.add(make_mail(subject="未读"))
    mail_poll(source_id=source.pk)
    assert list(InboundMail.objects.values_list("subject", flat=True)) == ["未读"]
    later = mailbox.add(make_mail(subject="后来的"), seen=True)  # read in a mail client before the poll
    mail_poll(source_id=source.pk)
    assert InboundMail.objects.filter(subject="后来的").exists()
    assert ("uid", "SEARCH", f"UID {later}:*") in mailbox.log


def test_polling_twice_creates_one_feedback_per_mail(source, mailbox):
    mailbox.add(make_mail(message_id="<one@x>"))
    mail_poll(source_id=source.pk)
    MailSource.objects.filter(pk=source.pk).update(last_uid=0)  # as if the poll had lost its place
    for m in mailbox.messages:
        m["flags"].clear()
    mail_poll(source_id=source.pk)
    assert Feedback.objects.count() == 1 and InboundMail.objects.count() == 1


def test_a_broken_mail_is_recorded_and_the_poll_goes_on(source, mailbox):
    mailbox.add(b"\x00\xff garbage without headers")
    good = mailbox.add(make_mail(subject="正常的"))
    result = mail_poll(source_id=source.pk)
    assert result.counts == {"failed": 1, "created": 1}
    assert statuses() == [InboundStatus.FAILED, InboundStatus.CREATED]
    assert mailbox.seen(good)


def test_an_unexpected_error_on_one_mail_is_recorded_and_the_poll_goes_on(source, mailbox, monkeypatch):
    mailbox.add(make_mail(subject="会出错", message_id="<boom@x>"))
    mailbox.add(make_mail(subject="正常的"))
    real = services.mail_ingest

    def flaky(*, source, raw):
        if b"<boom@x>" in raw:
            raise RuntimeError("disk full")
        return real(source=source, raw=raw)

    monkeypatch.setattr(services, "mail_ingest", flaky)
    result = mail_poll(source_id=source.pk)
    assert result.counts == {"failed": 1, "created": 1}
    assert "RuntimeError" in InboundMail.objects.get(status=InboundStatus.FAILED).reason


def test_a_mail_removed_between_search_and_fetch_is_passed_over(source, mailbox):
    mailbox.add(make_mail(subject="在的"))
    mailbox.vanished = [5]
    result = mail_poll(source_id=source.pk)
    assert result.error == "" and result.counts == {"created": 1}
    source.refresh_from_db()
    assert source.last_uid == 5  # not asked for again


def test_a_folder_that_refuses_the_seen_flag_is_reported_and_not_polled_in_a_loop(source, mailbox):
    mailbox.add(make_mail(subject="只读文件夹"))
    mailbox.read_only = True
    result = mail_poll(source_id=source.pk)
    assert result.counts == {"created": 1} and "READ-ONLY" in result.error
    source.refresh_from_db()
    assert source.last_uid == 1 and "READ-ONLY" in source.last_error
    assert mail_poll(source_id=source.pk).counts == {}


def test_a_reply_in_the_same_poll_is_threaded(source, mailbox):
    mailbox.add(make_mail(message_id="<q@x>"))
    mailbox.add(make_mail(subject="Re: 导出功能太慢", message_id="<r@x>", in_reply_to="<q@x>"))
    assert mail_poll(source_id=source.pk).counts == {"created": 1, "threaded": 1}


def test_a_wrong_password_is_kept_as_the_last_error(db, mailbox):
    source = make_source(password="wrong")
    mailbox.add(make_mail())
    result = mail_poll(source_id=source.pk)
    source.refresh_from_db()
    assert "AUTHENTICATIONFAILED" in result.error and "AUTHENTICATIONFAILED" in source.last_error
    assert source.last_polled_at is not None and not InboundMail.objects.exists()
    mailbox.password = "wrong"
    mail_poll(source_id=source.pk)
    source.refresh_from_db()
    assert source.last_error == ""  # a good poll clears it


def test_a_missing_folder_and_an_unreachable_server_are_reported(db, mailbox, monkeypatch):
    source = make_source(folder="不存在")
    assert "select" in mail_poll(source_id=source.pk).error
    import imaplib

    def refuse(*args, **kwargs):
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(imaplib, "IMAP4_SSL", refuse)
    assert "Connection refused" in mail_poll(source_id=make_source().pk).error


def test_starttls_and_plain_connections(db, mailbox):
    mail_poll(source_id=make_source(security="starttls", port=143).pk)
    assert ("starttls",) in mailbox.log
    assert ("connect", "imap.example.com", "143", "FakeIMAP4") in mailbox.log


def test_inactive_mailboxes_are_not_polled(db, mailbox):
    make_source(is_active=False)
    mailbox.add(make_mail())
    assert mail_poll_all() == {}
    assert mail_poll_all_job.call_local() == 0
    assert not InboundMail.objects.exists()


def test_the_periodic_job_polls_every_active_mailbox(source, mailbox):
    mailbox.add(make_mail())
    assert mail_poll_all_job.call_local() == 1
    task = mail_poll_all_job.task_class()
    assert task.validate_datetime(dt.datetime(2030, 1, 1, 10, 2))  # every two minutes
    assert not task.validate_datetime(dt.datetime(2030, 1, 1, 10, 3))


def test_a_new_uidvalidity_starts_the_count_again(source, mailbox):
    mailbox.add(make_mail(message_id="<v1@x>"))
    mail_poll(source_id=source.pk)
    mailbox.uid_validity = 8
    mailbox.messages.clear()
    mailbox.next_uid = 1
    mailbox.add(make_mail(message_id="<v2@x>"))
    mail_poll(source_id=source.pk)
    source.refresh_from_db()
    assert source.uid_validity == 8 and source.last_uid == 1
    assert InboundMail.objects.count() == 2


def test_the_batch_is_bounded(source, mailbox, monkeypatch):
    monkeypatch.setattr(services, "POLL_BATCH", 2)
    for i in range(3):
        mailbox.add(make_mail(subject=f"第{i}封"))
    assert sum(mail_poll(source_id=source.pk).counts.values()) == 2
    assert sum(mail_poll(source_id=source.pk).counts.values()) == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_mail_is_marked_seen_only_after_its_row_committed(mailbox):
    source = make_source()
    mailbox.add(make_mail(message_id="<commit@x>"))
    seen_at_store: list[tuple[bool, bool]] = []

    def check(uid):
        seen_at_store.append((connection.in_atomic_block, InboundMail.objects.filter(message_id="<commit@x>").exists()))

    mailbox.on_store = check
    mail_poll(source_id=source.pk)
    assert seen_at_store == [(False, True)]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_mail_whose_ingest_crashed_hard_is_not_marked_seen(mailbox, monkeypatch):
    source = make_source()
    uid = mailbox.add(make_mail())

    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(services, "mail_ingest", crash)
    with pytest.raises(KeyboardInterrupt):
        mail_poll(source_id=source.pk)
    assert not mailbox.seen(uid)
    source.refresh_from_db()
    assert source.last_uid == 0


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent inserts are proven on PostgreSQL")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_polls_at_once_take_each_mail_once(mailbox):
    source = make_source()
    for i in range(5):
        mailbox.add(make_mail(subject=f"并发{i}", message_id=f"<race-{i}@x>"))
    results, errors = at_once([lambda: mail_poll(source_id=source.pk) for _ in range(3)])
    assert errors == [] and all(r.error == "" for r in results)
    assert Feedback.objects.count() == 5
    assert sorted(InboundMail.objects.values_list("message_id", flat=True)) == [f"<race-{i}@x>" for i in range(5)]


# ---------------------------------------------------------------- arbitrary bytes

header_value = st.binary(max_size=80).filter(lambda b: b"\n" not in b and b"\r" not in b)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    subject=header_value,
    sender=header_value,
    message_id=st.sampled_from([b"<fixed@x>", b"<other@x>", b"", b"<>", b"<a b>"]),
    extra=st.lists(
        st.tuples(st.sampled_from([b"Content-Type", b"In-Reply-To", b"References", b"Date", b"X"]), header_value),
        max_size=3,
    ),
    body=st.binary(max_size=300),
    repeat=st.integers(min_value=1, max_value=3),
)
def test_arbitrary_bytes_never_crash_and_never_double(source, subject, sender, message_id, extra, body, repeat):
    head = [b"From: " + sender, b"Subject: " + subject, b"Message-ID: " + message_id]
    head += [name + b": " + value for name, value in extra]
    raw = b"\r\n".join(head) + b"\r\n\r\n" + body
    for _ in range(repeat):
        row = mail_ingest(source=source, raw=raw)
        assert row.pk is not None
    rows = InboundMail.objects.filter(source=source)
    ids = list(rows.values_list("message_id", flat=True))
    assert len(ids) == len(set(ids))
    created = rows.filter(status=InboundStatus.CREATED).count()
    assert Feedback.objects.count() == created


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    mails=st.lists(
        st.tuples(
            st.sampled_from([b"<p1@x>", b"<p2@x>", b"", b"<bad"]),
            header_value,
            header_value,
            st.binary(max_size=200),
        ),
        min_size=1,
        max_size=5,
    )
)
def test_arbitrary_mails_never_crash_the_poll_and_never_double(db, mailbox, mails):
    source = make_source(name=f"box-{MailSource.objects.count()}")
    mailbox.messages.clear()
    for message_id, sender, subject, body in mails:
        raw = b"From: " + sender + b"\r\nSubject: " + subject + b"\r\nMessage-ID: " + message_id + b"\r\n\r\n" + body
        mailbox.add(raw)
    first = mail_poll(source_id=source.pk)
    MailSource.objects.filter(pk=source.pk).update(last_uid=0)
    for m in mailbox.messages:
        m["flags"].clear()
    second = mail_poll(source_id=source.pk)
    assert first.error == second.error == ""
    assert sum(first.counts.values()) == len(mails)
    ids = list(InboundMail.objects.filter(source=source).values_list("message_id", flat=True))
    assert len(ids) == len(set(ids)) <= len(mails)
    created = InboundMail.objects.filter(source=source, status=InboundStatus.CREATED)
    assert Feedback.objects.filter(pk__in=created.values("feedback_id")).count() == created.count()
    assert all(mailbox.seen(m["uid"]) for m in mailbox.messages)
