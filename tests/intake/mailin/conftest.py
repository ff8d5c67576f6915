"""Feedback by mail: a fake IMAP server at the library boundary (``imaplib.IMAP4`` / ``IMAP4_SSL`` replaced by
a class with the methods the poll uses) and real RFC 822 mails built with ``email.message.EmailMessage``."""

from __future__ import annotations

import base64
import imaplib
import re
import threading
from collections.abc import Callable
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import format_datetime, make_msgid
from typing import Any

import pytest
from django.utils import timezone

from needpool.intake.mailin.models import MailSecurity, MailSource

IMAP_ERROR = imaplib.IMAP4.error


class FakeMailbox:
    """The folder the fake server serves: (uid, raw bytes, flags), UIDVALIDITY, and a log of commands."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.uid_validity = 7
        self.next_uid = 1
        self.password = "app-password-1"
        self.log: list[tuple[str, ...]] = []
        self.on_store: Callable[[int], None] | None = None
        self.vanished: list[int] = []  # UIDs the search answers but that are gone when fetched
        self.read_only = False  # STORE answers NO
        self.lock = threading.Lock()

    def add(self, raw: bytes | EmailMessage, *, seen: bool = False) -> int:
        data = raw.as_bytes() if isinstance(raw, EmailMessage) else raw
        with self.lock:
            uid = self.next_uid
            self.next_uid += 1
            self.messages.append({"uid": uid, "raw": data, "flags": {"\\Seen"} if seen else set()})
        return uid

    def seen(self, uid: int) -> bool:
        return any(m["uid"] == uid and "\\Seen" in m["flags"] for m in self.messages)


class FakeIMAP:
    """What the poll calls of ``imaplib.IMAP4``: login, select, response, uid SEARCH / FETCH / STORE, logout."""

    error = IMAP_ERROR
    mailbox: FakeMailbox

    def __init__(self, host: str = "", port: int = 0, *args: Any, **kwargs: Any) -> None:
        self.mailbox.log.append(("connect", host, str(port), self.__class__.__name__))
        self.selected = False

    def starttls(self, ssl_context: Any = None) -> tuple[str, list[bytes]]:
        self.mailbox.log.append(("starttls",))
        return "OK", [b"Begin TLS"]

    def login(self, user: str, password: str) -> tuple[str, list[bytes]]:
        if password != self.mailbox.password:
            raise IMAP_ERROR("[AUTHENTICATIONFAILED] Authentication failed.")
        return "OK", [b"LOGIN completed"]

    def select(self, mailbox: str = "INBOX", readonly: bool = False) -> tuple[str, list[bytes]]:
        if mailbox.strip('"') != "INBOX":
            return "NO", [b"Mailbox doesn't exist"]
        self.selected = True
        return "OK", [str(len(self.mailbox.messages)).encode()]

    def response(self, code: str) -> tuple[str, list[bytes | None]]:
        if code == "UIDVALIDITY":
            return code, [str(self.mailbox.uid_validity).encode()]
        return code, [None]

    def uid(self, command: str, *args: str) -> tuple[str, list[Any]]:
        assert self.selected
        command = command.upper()
        self.mailbox.log.append(("uid", command, *args))
        if command == "SEARCH":
            criteria = " ".join(args)
            if criteria == "UNSEEN":
                uids = [m["uid"] for m in self.mailbox.messages if "\\Seen" not in m["flags"]]
            else:
                match = re.fullmatch(r"UID (\d+):\*", criteria)
                assert match, criteria
                low = int(match.group(1))
                uids = [m["uid"] for m in self.mailbox.messages if m["uid"] >= low]
                if not uids and self.mailbox.messages:  # as real servers do: n:* includes the highest UID
                    uids = [self.mailbox.messages[-1]["uid"]]
            uids += [u for u in self.mailbox.vanished if u not in uids]
            return "OK", [" ".join(str(u) for u in uids).encode()]
        uid = int(args[0])
        found = [m for m in self.mailbox.messages if m["uid"] == uid]
        if command == "FETCH":
            if not found:
                return "OK", [None]
            raw = found[0]["raw"]
            return "OK", [(f"1 (UID {uid} BODY[] {{{len(raw)}}}".encode(), raw), b")"]
        if command == "STORE":
            if self.mailbox.read_only:
                return "NO", [b"[READ-ONLY] Mailbox is read-only"]
            if self.mailbox.on_store is not None:
                self.mailbox.on_store(uid)
            with self.mailbox.lock:
                for m in found:
                    m["flags"].add("\\Seen")
            return "OK", [f"1 (UID {uid} FLAGS (\\Seen))".encode()]
        raise AssertionError(command)

    def logout(self) -> tuple[str, list[bytes]]:
        self.mailbox.log.append(("logout",))
        return "BYE", [b"Logging out"]


@pytest.fixture
def mailbox(monkeypatch: pytest.MonkeyPatch) -> FakeMailbox:
    box = FakeMailbox()
    ssl_class = type("FakeIMAP4_SSL", (FakeIMAP,), {"mailbox": box})
    plain_class = type("FakeIMAP4", (FakeIMAP,), {"mailbox": box})
    monkeypatch.setattr(imaplib, "IMAP4_SSL", ssl_class)
    monkeypatch.setattr(imaplib, "IMAP4", plain_class)
    return box


def make_source(**overrides: Any) -> MailSource:
    data: dict[str, Any] = {
        "name": "客服邮箱",
        "host": "imap.example.com",
        "port": 993,
        "security": MailSecurity.SSL,
        "username": "feedback@example.com",
        "password": "app-password-1",
        "folder": "INBOX",
        "feedback_channel": "after_sales",
        "is_active": True,
    }
    data.update(overrides)
    return MailSource.objects.create(**data)


@pytest.fixture
def source(db: Any) -> MailSource:
    return make_source()


def make_mail(
    *,
    subject: str = "导出功能太慢",
    body: str | None = "希望导出订单时可以按月份筛选。",
    html: str | None = None,
    sender: str = "王总 <wang@a-tech.com.cn>",
    message_id: str | None = None,
    in_reply_to: str = "",
    references: str = "",
    attachments: list[tuple[str, str, bytes]] | None = None,
    extra: dict[str, str] | None = None,
) -> EmailMessage:
    msg = EmailMessage(policy=default_policy)
    msg["From"] = sender
    msg["To"] = "feedback@example.com"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(timezone.now())
    msg["Message-ID"] = message_id or make_msgid(domain="a-tech.com.cn")
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if references:
        msg["References"] = references
    for key, value in (extra or {}).items():
        msg[key] = value
    if body is not None:
        msg.set_content(body)
        if html is not None:
            msg.add_alternative(html, subtype="html")
    elif html is not None:
        msg.set_content(html, subtype="html")
    for filename, content_type, data in attachments or []:
        maintype, subtype = content_type.split("/", 1)
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg


def gbk_mail(*, subject: str, body: str, message_id: str = "<gbk-1@a-tech.com.cn>") -> bytes:
    """A mail as older Chinese clients send it: GBK encoded-word subject, body labelled gb2312 (GBK inside)."""
    encoded_subject = "=?gbk?B?" + base64.b64encode(subject.encode("gbk")).decode() + "?="
    head = (
        "From: =?gbk?B?" + base64.b64encode("李经理".encode("gbk")).decode() + "?= <li@b-corp.cn>\r\n"
        "To: feedback@example.com\r\n"
        f"Subject: {encoded_subject}\r\n"
        f"Message-ID: {message_id}\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=gb2312\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n"
    )
    return head.encode("ascii") + base64.encodebytes(body.encode("gbk"))
