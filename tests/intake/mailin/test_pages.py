"""The admin pages of feedback by mail: who may open them, adding / editing / deleting a mailbox with audit
rows, the password never shown back, 立即收取 and 测试连接, the mail log with its files, query counts."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from needpool.core.models import AuditEntry
from needpool.intake.mailin.models import InboundMail, MailSource
from needpool.intake.mailin.services import mail_ingest
from tests.conftest import PASSWORD, count_queries
from tests.intake.mailin.conftest import make_mail, make_source

FORM = {
    "name": "客服邮箱",
    "host": "imap.exmail.qq.com",
    "port": "993",
    "security": "ssl",
    "username": "feedback@a-corp.cn",
    "password": "app-password-1",
    "folder": "INBOX",
    "feedback_channel": "after_sales",
    "is_active": "on",
}


def signed_in(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.mark.parametrize("role", ["viewer", "sales", "product_manager", "manager"])
def test_only_admins_see_the_pages(users, source, role):
    client = signed_in(users[role])
    mail = mail_ingest(source=source, raw=make_mail(attachments=[("a.pdf", "application/pdf", b"1")]).as_bytes())
    urls = [
        reverse("intake:mail"),
        reverse("intake:mail_source_new"),
        reverse("intake:mail_source", args=[source.pk]),
        reverse("intake:mail_log", args=[mail.pk]),
        reverse("intake:mail_file", args=[mail.pk, mail.attachments.get().pk]),
    ]
    for url in urls:
        assert client.get(url).status_code == 404, url
    for name in ("mail_source_delete", "mail_source_poll", "mail_source_test"):
        assert client.post(reverse(f"intake:{name}", args=[source.pk])).status_code == 404
    assert client.post(reverse("intake:mail_source_new"), FORM).status_code == 404
    assert MailSource.objects.count() == 1
    assert "nav-mail-intake" not in client.get("/").content.decode()


def test_anonymous_visitors_are_sent_to_sign_in(source):
    response = Client().get(reverse("intake:mail"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_an_admin_adds_a_mailbox_and_the_password_is_never_shown(admin_user):
    client = signed_in(admin_user)
    assert "nav-mail-intake" in client.get("/").content.decode()
    response = client.post(reverse("intake:mail_source_new"), FORM)
    source = MailSource.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("intake:mail_source", args=[source.pk])
    assert source.password == "app-password-1" and source.created_by == admin_user
    page = client.get(response["Location"]).content.decode()
    assert "app-password-1" not in page and "••••••" in page
    entry = AuditEntry.objects.get(object_id=source.pk, action=AuditEntry.Action.CREATE)
    assert "password" not in entry.changes and entry.actor == admin_user


def test_bad_input_is_refused_with_a_message_and_nothing_is_written(admin_user):
    client = signed_in(admin_user)
    response = client.post(reverse("intake:mail_source_new"), {**FORM, "host": "imap://mail.x.cn:993", "password": ""})
    assert response.status_code == 200
    content = response.content.decode()
    assert "请填写密码或客户端专用密码" in content
    assert not MailSource.objects.exists()
    response = client.post(reverse("intake:mail_source_new"), {**FORM, "host": "imap://mail.x.cn"})
    assert "请只填写服务器名称" in response.content.decode()
    assert not MailSource.objects.exists()


def test_editing_with_an_empty_password_keeps_it_and_audits_the_change(admin_user):
    client = signed_in(admin_user)
    source = make_source(last_uid=9)
    url = reverse("intake:mail_source", args=[source.pk])
    response = client.post(url, {**FORM, "password": "", "host": "imap.feishu.cn"})
    assert response.status_code == 302
    source.refresh_from_db()
    assert source.password == "app-password-1" and source.host == "imap.feishu.cn"
    assert source.last_uid == 0  # another server: start counting again
    client.post(url, {**FORM, "password": "new-secret-2", "host": "imap.feishu.cn"})
    source.refresh_from_db()
    assert source.password == "new-secret-2"
    changes = [e.changes for e in AuditEntry.objects.filter(object_id=source.pk, action=AuditEntry.Action.UPDATE)]
    assert any("host" in c for c in changes)
    assert all("new-secret-2" not in str(c) and "app-password-1" not in str(c) for c in changes)
    assert "new-secret-2" not in client.get(url).content.decode()


def test_deleting_a_mailbox_keeps_its_feedback(admin_user, source):
    row = mail_ingest(source=source, raw=make_mail().as_bytes())
    client = signed_in(admin_user)
    response = client.post(reverse("intake:mail_source_delete", args=[source.pk]))
    assert response.status_code == 302
    assert not MailSource.objects.exists() and not InboundMail.objects.exists()
    assert row.feedback.__class__.objects.filter(pk=row.feedback_id).exists()
    assert AuditEntry.objects.filter(object_id=source.pk, action=AuditEntry.Action.DELETE).exists()


def test_poll_now_runs_the_poll_in_the_background_worker(
    admin_user, source, mailbox, django_capture_on_commit_callbacks
):
    mailbox.add(make_mail(subject="立即收取的邮件"))
    client = signed_in(admin_user)
    with django_capture_on_commit_callbacks(execute=True) as queued:
        response = client.post(reverse("intake:mail_source_poll", args=[source.pk]), follow=True)
    assert len(queued) == 1  # queued after the request's commit
    assert "已开始收取" in response.content.decode()
    assert InboundMail.objects.filter(subject="立即收取的邮件").exists()  # jobs run at once in tests


def test_poll_now_is_refused_for_an_inactive_mailbox(admin_user, db, mailbox):
    source = make_source(is_active=False)
    mailbox.add(make_mail())
    response = signed_in(admin_user).post(reverse("intake:mail_source_poll", args=[source.pk]), follow=True)
    assert "该邮箱已停用" in response.content.decode()
    assert not InboundMail.objects.exists()


def test_the_connection_test_says_what_the_server_answered(admin_user, db, mailbox):
    mailbox.add(make_mail())
    client = signed_in(admin_user)
    good = client.post(reverse("intake:mail_source_test", args=[make_source().pk]), follow=True).content.decode()
    assert "连接成功" in good and "1 封邮件" in good
    assert not mailbox.seen(1)  # a test reads nothing
    bad = client.post(reverse("intake:mail_source_test", args=[make_source(password="x").pk]), follow=True)
    assert "连接失败" in bad.content.decode() and "AUTHENTICATIONFAILED" in bad.content.decode()


def test_the_mail_log_links_to_feedback_and_serves_files(admin_user, source):
    first = mail_ingest(
        source=source,
        raw=make_mail(message_id="<p1@x>", attachments=[("说明.pdf", "application/pdf", b"%PDF")]).as_bytes(),
    )
    reply = mail_ingest(source=source, raw=make_mail(message_id="<p2@x>", in_reply_to="<p1@x>", body="补充").as_bytes())
    client = signed_in(admin_user)
    index = client.get(reverse("intake:mail")).content.decode()
    counts = re.search(r'mail-source-row">(.*?)</tr>', index, re.S).group(1)
    assert re.findall(r'text-end">([^<]*)</td>', counts) == ["1", "1", "0 / 0"]
    assert reverse("requirements:feedback_triage", args=[first.feedback_id]) in index
    page = client.get(reverse("intake:mail_log", args=[reply.pk])).content.decode()
    assert "补充" in page and "说明.pdf" in page  # the whole thread
    file_url = reverse("intake:mail_file", args=[first.pk, first.attachments.get().pk])
    download = client.get(file_url)
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"%PDF"
    assert client.get(reverse("intake:mail_file", args=[reply.pk, first.attachments.get().pk])).status_code == 404
    failed = client.get(reverse("intake:mail") + "?status=failed").content.decode()
    assert "mail-row" not in failed


def test_the_index_and_mailbox_pages_read_a_bounded_number_of_rows(admin_user, db):
    client = signed_in(admin_user)
    sources = [make_source(name=f"邮箱{i}", username=f"u{i}@x.cn") for i in range(3)]
    for i in range(3):
        mail_ingest(source=sources[0], raw=make_mail(message_id=f"<q{i}@x>", sender=f"s{i}@x.cn").as_bytes())
    small = count_queries(client, reverse("intake:mail"))
    for i in range(3, 20):
        source = sources[i % 3]
        mail_ingest(
            source=source,
            raw=make_mail(message_id=f"<q{i}@x>", attachments=[("a.pdf", "application/pdf", b"1")]).as_bytes(),
        )
    assert count_queries(client, reverse("intake:mail")) == small
    detail = reverse("intake:mail_source", args=[sources[0].pk])
    assert count_queries(client, detail) <= small + 8
