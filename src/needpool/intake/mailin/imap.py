"""The IMAP side of a poll, on the standard library's ``imaplib``: connect (SSL, STARTTLS or plain), list the
new mails of the folder by UID, fetch one, mark one seen. Every call is bounded by a socket timeout."""

from __future__ import annotations

import contextlib
import imaplib
import re
import ssl
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from needpool.intake.mailin.models import MailSecurity, MailSource

TIMEOUT_SECONDS = 30
_UIDVALIDITY = re.compile(rb"UIDVALIDITY (\d+)")


class MailboxError(Exception):
    """The mail server refused or failed (message is for the admin)."""


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _check(result: tuple[str, Sequence[Any]], what: str) -> Sequence[Any]:
    status, data = result
    if status != "OK":
        detail = b" ".join(d for d in data if isinstance(d, bytes)).decode("utf-8", "replace")[:200]
        raise MailboxError(f"{what}: {status} {detail}".strip())
    return data


def _uid(conn: imaplib.IMAP4, command: str, *args: str) -> Sequence[Any]:
    try:
        return _check(conn.uid(command, *args), command.lower())
    except imaplib.IMAP4.error as exc:  # BAD answers and broken connections
        raise MailboxError(f"{command.lower()}: {exc}"[:300]) from exc


@contextmanager
def connected(source: MailSource) -> Iterator[imaplib.IMAP4]:
    """A logged-in connection with the source's folder selected (read-write, to set \\Seen)."""
    try:
        if source.security == MailSecurity.SSL:
            conn: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                source.host, source.port, ssl_context=ssl.create_default_context(), timeout=TIMEOUT_SECONDS
            )
        else:
            conn = imaplib.IMAP4(source.host, source.port, timeout=TIMEOUT_SECONDS)
            if source.security == MailSecurity.STARTTLS:
                conn.starttls(ssl_context=ssl.create_default_context())
    except (OSError, imaplib.IMAP4.error) as exc:
        raise MailboxError(f"connect {source.host}:{source.port}: {exc}") from exc
    try:
        try:
            _check(conn.login(source.username, source.password), "login")
            _check(conn.select(_quoted(source.folder or "INBOX")), "select")
        except imaplib.IMAP4.error as exc:
            raise MailboxError(str(exc)[:300]) from exc
        yield conn
    finally:
        with contextlib.suppress(Exception):  # the connection is going away anyway
            conn.logout()


def uid_validity(conn: imaplib.IMAP4) -> int | None:
    try:
        _typ, data = conn.response("UIDVALIDITY")
    except Exception:
        return None
    for item in data or []:
        if isinstance(item, bytes) and item.strip().isdigit():
            return int(item)
        if isinstance(item, bytes) and (match := _UIDVALIDITY.search(item)):
            return int(match.group(1))
    return None


def new_uids(conn: imaplib.IMAP4, *, after_uid: int, limit: int) -> list[int]:
    """UIDs above ``after_uid`` (the first poll of a mailbox: its unseen mails), oldest first, at most ``limit``."""
    criteria = "UNSEEN" if after_uid <= 0 else f"UID {after_uid + 1}:*"
    data = _uid(conn, "SEARCH", criteria)
    uids: list[int] = []
    for chunk in data:
        if isinstance(chunk, bytes):
            uids.extend(int(token) for token in chunk.split() if token.isdigit())
    # "n:*" also answers the highest UID when every UID is below n: keep only the new ones.
    return sorted(uid for uid in set(uids) if uid > after_uid)[:limit]


def fetch_raw(conn: imaplib.IMAP4, uid: int) -> bytes | None:
    """The whole mail, without setting \\Seen (BODY.PEEK); None when it was removed since the search."""
    data = _uid(conn, "FETCH", str(uid), "(BODY.PEEK[])")
    for item in data:
        if isinstance(item, tuple) and len(item) >= 2 and isinstance(item[1], bytes):
            return item[1]
    return None


def mark_seen(conn: imaplib.IMAP4, uid: int) -> None:
    _uid(conn, "STORE", str(uid), "+FLAGS", "(\\Seen)")
