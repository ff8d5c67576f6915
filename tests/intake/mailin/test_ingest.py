"""One mail into the pool (``mail_ingest``): sender matching, the privacy rule, threading of replies,
attachments under the upload rules, idempotency by Message-ID, and mails that are skipped or fail."""

from __future__ import annotations

import pytest
from django.db import IntegrityError

from needpool.core.models import AuditEntry
from needpool.intake.mailin import services
from needpool.intake.mailin.models import InboundMail, InboundMailAttachment, InboundStatus
from needpool.intake.mailin.services import mail_ingest
from needpool.requirements.models import Feedback
from tests.intake.mailin.conftest import gbk_mail, make_mail, make_source


def ingest(source, mail) -> InboundMail:
    return mail_ingest(source=source, raw=mail if isinstance(mail, bytes) else mail.as_bytes())


def test_mail_from_a_known_contact_becomes_feedback_of_that_customer(source, customer):
    row = ingest(
        source, make_mail(subject="导出太慢", body="希望导出订单时可以按月份筛选。", sender="王总 <WANG@a-tech.com.cn>")
    )
    assert row.status == InboundStatus.CREATED
    feedback = row.feedback
    assert feedback.customer == customer
    assert feedback.contact == customer.contacts.get()
    assert feedback.channel == "after_sales"
    assert feedback.raw_text == "导出太慢\n\n希望导出订单时可以按月份筛选。"
    assert feedback.requirement is None and feedback.created_by is None
    assert row.from_address == "wang@a-tech.com.cn"
    assert AuditEntry.objects.filter(object_id=row.pk, action=AuditEntry.Action.CREATE).exists()


def test_mail_from_an_unknown_sender_becomes_feedback_without_a_customer(source, customer):
    row = ingest(source, make_mail(sender="陌生人 <someone@unknown.example>"))
    assert row.status == InboundStatus.CREATED
    assert row.feedback.customer is None and row.feedback.contact is None
    assert row.from_address == "someone@unknown.example"


def test_an_address_shared_by_contacts_of_two_customers_links_no_customer(source, customer, customer_b, users):
    from needpool.customers.services import contact_create

    contact_create(actor=users["admin"], customer=customer_b, name="王总", email="wang@a-tech.com.cn")
    row = ingest(source, make_mail())
    assert row.feedback.customer is None


def test_the_source_channel_is_used(db):
    source = make_source(feedback_channel="ticket")
    assert ingest(source, make_mail()).feedback.channel == "ticket"


def test_a_personal_mobile_in_the_words_is_masked_everywhere(source):
    row = ingest(source, make_mail(subject="请回电 13812345678", body="我的手机 138-1234-5678，微信同号"))
    assert "13812345678" not in row.feedback.raw_text and "138****5678" in row.feedback.raw_text
    assert "1234" not in row.body and "138****5678" in row.body
    assert row.subject == "请回电 138****5678"


def test_a_sender_at_a_personal_mailbox_is_kept_by_domain_only(source):
    row = ingest(source, make_mail(sender="张三 <zhangsan123@qq.com>"))
    assert row.status == InboundStatus.CREATED
    assert row.from_address == "***@qq.com"
    assert not InboundMail.objects.filter(from_address__contains="zhangsan").exists()


def test_gbk_mail_becomes_readable_feedback(source):
    row = ingest(source, gbk_mail(subject="售后响应太慢", body="朱镕基路的仓库发货太慢了。"))
    assert row.feedback.raw_text == "售后响应太慢\n\n朱镕基路的仓库发货太慢了。"


def test_a_reply_is_threaded_to_the_feedback_of_the_mail_it_answers(source, customer):
    first = ingest(source, make_mail(message_id="<first@a-tech.com.cn>"))
    reply = ingest(
        source,
        make_mail(
            subject="Re: 导出功能太慢",
            body="补充：最好能导出为 Excel。\n\n> 希望导出订单时可以按月份筛选。",
            message_id="<second@a-tech.com.cn>",
            in_reply_to="<first@a-tech.com.cn>",
        ),
    )
    assert reply.status == InboundStatus.THREADED
    assert reply.thread_feedback == first.feedback and reply.feedback is None
    assert reply.body == "补充：最好能导出为 Excel。"
    assert Feedback.objects.count() == 1
    # A reply to the reply (References only) lands in the same thread.
    third = ingest(source, make_mail(message_id="<third@x>", references="<first@a-tech.com.cn> <second@a-tech.com.cn>"))
    assert third.thread_feedback == first.feedback


def test_a_reply_through_another_mailbox_still_threads(source):
    first = ingest(source, make_mail(message_id="<first@x>"))
    other = make_source(name="销售邮箱", username="sales@example.com")
    reply = ingest(other, make_mail(message_id="<reply@x>", in_reply_to="<first@x>"))
    assert reply.thread_feedback == first.feedback


def test_a_reply_to_an_unknown_mail_becomes_new_feedback(source):
    row = ingest(source, make_mail(in_reply_to="<never-seen@x>"))
    assert row.status == InboundStatus.CREATED


def test_a_feedback_token_threads_only_for_someone_already_in_the_thread(source, customer):
    first = ingest(source, make_mail(sender="wang@a-tech.com.cn"))
    token = f"[FB-{first.feedback_id}]"
    same = ingest(source, make_mail(subject=f"Re: {token} 进展如何", sender="wang@a-tech.com.cn"))
    assert same.status == InboundStatus.THREADED and same.thread_feedback_id == first.feedback_id
    stranger = ingest(source, make_mail(subject=f"Re: {token} 进展如何", sender="spam@evil.example"))
    assert stranger.status == InboundStatus.CREATED and stranger.feedback_id != first.feedback_id
    missing = ingest(source, make_mail(subject="[FB-999999] 你好", sender="wang@a-tech.com.cn"))
    assert missing.status == InboundStatus.CREATED


def test_a_feedback_token_threads_for_the_feedback_contact(source, customer, users):
    from needpool.requirements.services import feedback_create

    feedback = feedback_create(
        actor=users["sales"],
        raw_text="电话里说的需求",
        channel="sales",
        customer=customer,
        contact=customer.contacts.get(),
    )
    row = ingest(source, make_mail(subject=f"补充材料 [FB-{feedback.pk}]", sender="wang@a-tech.com.cn"))
    assert row.thread_feedback == feedback


def test_allowed_attachments_are_kept_and_others_named_in_the_reason(source, settings):
    settings.NEEDPOOL_ATTACHMENT_MAX_BYTES = 1000
    row = ingest(
        source,
        make_mail(
            attachments=[
                ("需求说明.pdf", "application/pdf", b"%PDF-1.4 small"),
                ("病毒.exe", "application/octet-stream", b"MZ"),
                ("大文件.pdf", "application/pdf", b"x" * 1001),
            ]
        ),
    )
    kept = list(row.attachments.all())
    assert [(a.name, a.size) for a in kept] == [("需求说明.pdf", 14)]
    assert kept[0].file.read() == b"%PDF-1.4 small"
    assert "病毒.exe" in row.reason and "大文件.pdf" in row.reason


def test_at_most_ten_attachments_per_mail(source):
    row = ingest(source, make_mail(attachments=[(f"f{i}.txt", "text/plain", b"x") for i in range(12)]))
    assert row.attachments.count() == services.MAX_ATTACHMENTS
    assert "f11.txt" in row.reason


def test_a_threaded_reply_keeps_its_attachments(source):
    ingest(source, make_mail(message_id="<a@x>"))
    reply = ingest(
        source, make_mail(message_id="<b@x>", in_reply_to="<a@x>", attachments=[("图.png", "image/png", b"1")])
    )
    assert reply.status == InboundStatus.THREADED and reply.attachments.count() == 1


def test_the_same_mail_twice_is_taken_in_once(source):
    mail = make_mail(message_id="<once@x>", attachments=[("a.pdf", "application/pdf", b"1")])
    first = ingest(source, mail)
    again = ingest(source, mail)
    assert again.pk == first.pk
    assert Feedback.objects.count() == 1 and InboundMail.objects.count() == 1
    assert InboundMailAttachment.objects.count() == 1


def test_the_same_message_id_in_two_mailboxes_is_one_row_each(source):
    mail = make_mail(message_id="<both@x>")
    ingest(source, mail)
    second = ingest(make_source(name="另一个", username="b@example.com"), mail)
    # The second mailbox sees a copy of a mail already taken in: it threads to the same feedback.
    assert second.status == InboundStatus.THREADED or second.feedback_id is not None
    assert InboundMail.objects.count() == 2


def test_a_concurrent_poll_that_stored_the_mail_first_wins(source, monkeypatch):
    """The other poll commits between this one's check and its insert: the unique constraint decides."""
    mail = make_mail(message_id="<race@x>")
    winner = ingest(source, mail)
    real_filter = InboundMail.objects.filter
    calls = {"n": 0}

    def blind_first_check(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            return real_filter(pk=-1)  # this poll has not seen the other's row yet
        return real_filter(*args, **kwargs)

    monkeypatch.setattr(InboundMail.objects, "filter", blind_first_check)
    loser = ingest(source, mail)
    assert loser.pk == winner.pk
    assert Feedback.objects.count() == 1


def test_the_constraint_itself_refuses_a_second_row(source):
    ingest(source, make_mail(message_id="<u@x>"))
    with pytest.raises(IntegrityError):
        InboundMail.objects.create(source=source, message_id="<u@x>", received_at=InboundMail.objects.get().received_at)


def test_auto_replies_and_own_mails_are_skipped(source):
    auto = ingest(source, make_mail(extra={"Auto-Submitted": "auto-replied"}, subject="自动回复：我在休假"))
    own = ingest(source, make_mail(sender="feedback@example.com"))
    assert auto.status == own.status == InboundStatus.SKIPPED
    assert not Feedback.objects.exists()


def test_an_empty_mail_is_skipped(source):
    row = ingest(source, make_mail(subject="", body="\n"))
    assert row.status == InboundStatus.SKIPPED and row.feedback is None


def test_an_unreadable_mail_is_recorded_as_failed_once(source):
    row = ingest(source, b"this is not a mail")
    again = ingest(source, b"this is not a mail")
    assert row.status == InboundStatus.FAILED and row.reason.startswith("无法解析邮件")
    assert again.pk == row.pk and not Feedback.objects.exists()


def test_a_mail_the_pool_refuses_is_recorded_as_failed(source, monkeypatch):
    from django.core.exceptions import ValidationError

    def refuse(**kwargs):
        raise ValidationError({"raw_text": "不行"})

    monkeypatch.setattr(services, "feedback_record", refuse)
    row = ingest(source, make_mail(message_id="<refused@x>"))
    assert row.status == InboundStatus.FAILED and "不行" in row.reason
    assert row.message_id == "<refused@x>" and not Feedback.objects.exists()


def test_long_mails_are_cut_to_the_feedback_limit_and_say_so(source):
    row = ingest(source, make_mail(body="很长" * 4000))
    assert len(row.feedback.raw_text) == services.MAX_TEXT
    assert "5000" in row.reason
