"""Reading one RFC 822 mail (pure functions, no database): headers decoded, the text the sender wrote
(plain text preferred, HTML turned into text otherwise, quoted replies and signatures trimmed where that is
simple) and the attached files. Chinese charsets (gb2312 / gbk / gb18030, also mislabelled ones) decode."""

from __future__ import annotations

import codecs
import contextlib
import email
import email.header
import email.utils
import hashlib
import html
import re
from dataclasses import dataclass, field
from email import policy
from email.message import Message
from html.parser import HTMLParser
from pathlib import PurePath
from typing import Any

# A subject token of the form [FB-123] threads a mail to feedback 123.
FEEDBACK_TOKEN = re.compile(r"\[FB-(\d{1,12})\]", re.IGNORECASE)
_MESSAGE_ID = re.compile(r"<[^<>\s]{1,250}>")
# Where a quoted original begins in a reply: everything after it is the earlier mail, not new words.
_QUOTE_STARTS = (
    re.compile(r"^-{2,}\s*Original Message\s*-{2,}\s*$", re.IGNORECASE),
    re.compile(r"^-{2,}\s*原始邮件\s*-{2,}\s*$"),
    re.compile(r"^-{2,}\s*回复的原邮件\s*-{2,}\s*$"),
    re.compile(r"^\s*(发件人|From)\s*[:：].+$"),
    re.compile(r"^\s*On .{4,200} wrote:\s*$", re.IGNORECASE),
    re.compile(r"^\s*在.{2,120}写道\s*[:：]\s*$"),
    re.compile(r"^_{8,}\s*$"),  # Outlook's rule above the quoted header block
)
_SIGNATURE = re.compile(r"^--\s?$")
_GB_NAMES = {"gb2312", "gbk", "gb_2312-80", "x-gbk", "euc-cn", "cp936", "gb18030", "csgb2312"}


class MailParseError(ValueError):
    """The bytes are not a mail that can be read."""


@dataclass
class ParsedAttachment:
    name: str
    content_type: str
    data: bytes


@dataclass
class ParsedMail:
    message_id: str
    in_reply_to: str
    references: list[str]
    from_address: str
    from_name: str
    subject: str
    date: Any  # datetime | None
    text: str
    attachments: list[ParsedAttachment] = field(default_factory=list)
    auto_reply: bool = False

    @property
    def thread_ids(self) -> list[str]:
        """The Message-IDs this mail answers, nearest first (In-Reply-To, then References from the end)."""
        ids = [self.in_reply_to] if self.in_reply_to else []
        ids += [ref for ref in reversed(self.references) if ref not in ids]
        return ids

    @property
    def feedback_token(self) -> int | None:
        match = FEEDBACK_TOKEN.search(self.subject)
        return int(match.group(1)) if match else None


def raw_key(raw: bytes) -> str:
    """A stand-in Message-ID for a mail without one: the same bytes always give the same key."""
    return f"<sha256-{hashlib.sha256(raw).hexdigest()}@no-message-id>"


def _decode_bytes(data: bytes, charset: str | None) -> str:
    name = (charset or "").strip().strip('"').lower()
    if name in _GB_NAMES:
        name = "gb18030"  # a superset: mails labelled gb2312 often carry GBK characters
    try:
        codecs.lookup(name or "utf-8")
    except LookupError:
        name = "utf-8"
    for candidate in dict.fromkeys([name or "utf-8", "utf-8", "gb18030"]):
        try:
            return data.decode(candidate)
        except UnicodeDecodeError:
            continue
    return data.decode(name or "utf-8", errors="replace")


def _header(msg: Message, name: str) -> str:
    try:
        value = msg.get(name)
    except Exception:  # a header the policy cannot parse
        value = None
    if value is None:
        return ""
    try:
        text = str(value)
    except Exception:
        text = ""
    if not text:
        raw = msg.get_all(name, failobj=[])
        text = str(raw[0]) if raw else ""
    if "=?" in text:  # encoded words the default policy left alone (e.g. a charset it does not know)
        with contextlib.suppress(Exception):  # not encoded words after all: keep the text as it stands
            text = "".join(
                _decode_bytes(chunk, charset) if isinstance(chunk, bytes) else chunk
                for chunk, charset in email.header.decode_header(text)
            )
    return " ".join(text.split())


def _message_ids(value: str) -> list[str]:
    return _MESSAGE_ID.findall(value or "")


def _part_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    return _decode_bytes(payload, part.get_content_charset())


class _TextOfHtml(HTMLParser):
    _BLOCKS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table"})
    _HIDDEN = frozenset({"script", "style", "head", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self._hidden = 0
        self._quote = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._HIDDEN:
            self._hidden += 1
        elif tag == "blockquote":
            self._quote += 1
        if tag in self._BLOCKS:
            self.out.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag == "blockquote":
            self._quote = max(0, self._quote - 1)
        if tag in self._BLOCKS:
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden and not self._quote:  # a quoted earlier mail is not the sender's new words
            self.out.append(data)


def html_to_text(markup: str) -> str:
    parser = _TextOfHtml()
    try:
        parser.feed(markup)
        parser.close()
    except Exception:
        return html.unescape(re.sub(r"<[^>]*>", " ", markup))
    lines = [" ".join(line.split()) for line in "".join(parser.out).splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def trim_reply(text: str) -> str:
    """The sender's new words: quoted lines (">"), the quoted original and the signature are dropped."""
    kept: list[str] = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if any(pattern.match(line) for pattern in _QUOTE_STARTS) or _SIGNATURE.match(line):
            if kept and "".join(kept).strip():
                break
            continue
        if line.lstrip().startswith(">"):
            continue
        kept.append(line.rstrip())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()


def _filename(part: Message) -> str:
    try:
        name = part.get_filename() or ""
    except Exception:
        name = ""
    if "=?" in name:
        with contextlib.suppress(Exception):  # not encoded words after all: keep the name as it stands
            name = "".join(
                _decode_bytes(chunk, charset) if isinstance(chunk, bytes) else chunk
                for chunk, charset in email.header.decode_header(name)
            )
    return PurePath(name.replace("\\", "/")).name.strip()


def parse_mail(raw: bytes) -> ParsedMail:
    """Read ``raw``; ``MailParseError`` when it is not a mail (no headers, no sender)."""
    if not raw or not raw.strip():
        raise MailParseError("empty message")
    try:
        msg = email.message_from_bytes(raw, policy=policy.default)
    except Exception as exc:
        raise MailParseError(f"unreadable message: {exc.__class__.__name__}") from exc
    if not msg.keys():
        raise MailParseError("no headers")
    from_header = _header(msg, "From")
    name, address = email.utils.parseaddr(from_header)
    address = address.strip().lower()
    if "@" not in address or len(address) > 254 or any(c.isspace() for c in address):
        raise MailParseError("no sender address")
    message_ids = _message_ids(_header(msg, "Message-ID"))
    message_id = message_ids[0] if message_ids else raw_key(raw)
    in_reply = _message_ids(_header(msg, "In-Reply-To"))
    references = _message_ids(_header(msg, "References"))[-20:]
    try:
        date = email.utils.parsedate_to_datetime(_header(msg, "Date")) if _header(msg, "Date") else None
    except (TypeError, ValueError, IndexError, OverflowError):
        date = None
    if date is not None and date.tzinfo is None:
        date = None
    plain: list[str] = []
    markup: list[str] = []
    attachments: list[ParsedAttachment] = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        try:
            disposition = (part.get_content_disposition() or "").lower()
            content_type = part.get_content_type()
        except Exception:  # noqa: S112 - a part with unreadable headers is left out, the rest is read
            continue
        filename = _filename(part)
        if (
            disposition == "attachment"
            or (filename and disposition != "inline")
            or (filename and not content_type.startswith("text/"))
        ):
            data = part.get_payload(decode=True)
            if isinstance(data, bytes) and filename:
                attachments.append(ParsedAttachment(name=filename[:200], content_type=content_type[:100], data=data))
            continue
        if content_type == "text/plain":
            plain.append(_part_text(part))
        elif content_type == "text/html":
            markup.append(_part_text(part))
    text = "\n".join(plain) if any(p.strip() for p in plain) else "\n".join(html_to_text(m) for m in markup)
    auto = _header(msg, "Auto-Submitted").lower()
    return ParsedMail(
        message_id=message_id[:255],
        in_reply_to=in_reply[0][:255] if in_reply else "",
        references=[ref[:255] for ref in references],
        from_address=address,
        from_name=name.strip()[:120],
        subject=_header(msg, "Subject")[:255],
        date=date,
        text=trim_reply(text.replace("\x00", "")),
        attachments=attachments,
        auto_reply=bool(auto and auto != "no"),
    )
