"""Write use-cases of feedback by mail: a mailbox's settings (admin), one mail into the pool
(``mail_ingest``), and one poll of a mailbox (``mail_poll``).

Decisions
- One path into the pool: a new mail becomes feedback through ``requirements.services.feedback_record``,
  as the channel API's items do, so the pool's rules apply unchanged — a mobile number in the words is
  masked on save (privacy rule). The mail's own copy of its text (``InboundMail.body``) and its subject are
  masked the same way, and a sender at a personal mailbox domain (qq.com, 163.com, …) is kept only as
  ``***@domain``.
- The sender's address is matched to a contact's work mail (case-insensitive). One match (or several
  contacts of one customer) links the feedback to that customer and contact. An unknown sender, or an
  address several customers' contacts share, gives feedback without a customer, as the channel API does
  for a customer it cannot match; staff link it later. Customers and contacts are never created.
- A reply is threaded, not new feedback: its In-Reply-To / References name a mail already stored (in any
  mailbox), or its subject carries ``[FB-<id>]`` and the sender already wrote in that feedback's thread (or
  is that feedback's contact) — so nobody can add words to feedback by guessing numbers. A threaded reply
  keeps its text and files on its own ``InboundMail`` row beside the feedback; the feedback's original
  words are not edited.
- Idempotent by Message-ID (per mailbox; a mail without one is keyed by a hash of its bytes): the unique
  constraint decides between two polls that fetch the same mail at once; the loser returns the winner's row.
- Automatic replies (``Auto-Submitted``) and mails from the mailbox's own account are skipped (no loops).
- A mail that cannot be read, or that the pool refuses, is recorded as failed with the reason; the poll
  carries on with the next one. A failed mail is not tried again (its Message-ID is taken).
- Attachments follow the site's upload rules (``NEEDPOOL_ATTACHMENT_EXTENSIONS`` and
  ``NEEDPOOL_ATTACHMENT_MAX_BYTES``), at most ``MAX_ATTACHMENTS`` per mail; others are left out and named
  in the row's reason.
- The poll marks a mail \\Seen only after its row committed, and remembers the highest UID done, so the
  next poll starts after it. The first poll of a mailbox takes its unseen mails only.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from needpool.accounts.models import User
from needpool.core.audit import audit_record, diff, snapshot
from needpool.core.config import personal_email_domains
from needpool.core.models import AuditEntry
from needpool.core.permissions import is_admin
from needpool.customers.models import Contact, Customer
from needpool.customers.privacy import email_domain, is_personal_email, mask_mobiles
from needpool.intake.incoming import MAX_TEXT
from needpool.intake.mailin import imap
from needpool.intake.mailin.models import InboundMail, InboundMailAttachment, InboundStatus, MailSource
from needpool.intake.mailin.parsing import MailParseError, ParsedMail, parse_mail, raw_key
from needpool.requirements.models import Feedback
from needpool.requirements.services import feedback_record

logger = logging.getLogger(__name__)

SOURCE_FIELDS = ("name", "host", "port", "security", "username", "folder", "feedback_channel", "is_active")
MAX_ATTACHMENTS = 10
POLL_BATCH = 50  # mails per poll and mailbox; the rest come two minutes later
MAX_RAW_BYTES = 30 * 1024 * 1024  # a bigger mail is recorded as failed, not read


def _deny() -> PermissionDenied:
    return PermissionDenied(_("只有管理员可以管理收件邮箱。"))


# ---------------------------------------------------------------- mailboxes (admin)


def _check_source(source: MailSource) -> None:
    for name in ("name", "host", "username", "folder"):
        setattr(source, name, (getattr(source, name) or "").strip())
    source.folder = source.folder or "INBOX"
    errors: dict[str, str] = {}
    if not source.password:
        errors["password"] = _("请填写密码或客户端专用密码。")
    if source.port is not None and not 1 <= int(source.port) <= 65535:
        errors["port"] = _("端口应在 1 到 65535 之间。")
    if any(c in source.host for c in "/ :@") and not source.host.startswith("["):
        errors["host"] = _("请只填写服务器名称，如 imap.exmail.qq.com（不要带 imap:// 或端口）。")
    if errors:
        raise ValidationError(errors)
    source.full_clean(exclude=["created_by"])


@transaction.atomic
def mail_source_create(*, actor: User, password: str, **data: Any) -> MailSource:
    """Add a mailbox (fields of ``SOURCE_FIELDS`` and the password); its first poll takes the unseen mails."""
    if not is_admin(actor):
        raise _deny()
    unknown = set(data) - set(SOURCE_FIELDS)
    if unknown:
        raise ValidationError({name: _("未知字段。") for name in sorted(unknown)})
    source = MailSource(**data, password=password or "", created_by=actor if getattr(actor, "pk", None) else None)
    _check_source(source)
    source.save()
    audit_record(actor=actor, obj=source, action=AuditEntry.Action.CREATE, changes=snapshot(source, SOURCE_FIELDS))
    return source


@transaction.atomic
def mail_source_update(*, actor: User, source: MailSource, password: str = "", **data: Any) -> MailSource:
    """Change a mailbox; an empty ``password`` keeps the stored one. A new server, account or folder starts
    the UID count again (Message-IDs still keep every mail from coming in twice)."""
    if not is_admin(actor):
        raise _deny()
    unknown = set(data) - set(SOURCE_FIELDS)
    if unknown:
        raise ValidationError({name: _("未知字段。") for name in sorted(unknown)})
    source = MailSource.objects.select_for_update().get(pk=source.pk)
    before = snapshot(source, SOURCE_FIELDS)
    for name, value in data.items():
        setattr(source, name, value)
    if password:
        source.password = password
    _check_source(source)
    changes: dict[str, Any] = diff(before, snapshot(source, SOURCE_FIELDS))
    if {"host", "port", "username", "folder"} & set(changes):
        source.last_uid = 0
        source.uid_validity = None
    if password:
        changes["password"] = ("******", _("已更改"))
    source.save()
    if changes:
        audit_record(actor=actor, obj=source, action=AuditEntry.Action.UPDATE, changes=changes)
    return source


@transaction.atomic
def mail_source_delete(*, actor: User, source: MailSource) -> None:
    """Remove a mailbox and its mail log; the feedback its mails became stays in the pool."""
    if not is_admin(actor):
        raise _deny()
    source = MailSource.objects.select_for_update().get(pk=source.pk)
    audit_record(actor=actor, obj=source, action=AuditEntry.Action.DELETE, changes=snapshot(source, SOURCE_FIELDS))
    files = [name for a in InboundMailAttachment.objects.filter(mail__source=source) if (name := a.file.name)]
    source.delete()

    def remove_files() -> None:
        from django.core.files.storage import default_storage

        for name in files:
            try:
                default_storage.delete(name)
            except OSError:
                logger.warning("could not remove mail attachment %s", name)

    transaction.on_commit(remove_files)


def mail_source_check(*, actor: User, source: MailSource) -> int:
    """Sign in to the mailbox and open its folder (nothing is read or changed); the number of mails in it.
    ``imap.MailboxError`` says what the server answered."""
    if not is_admin(actor):
        raise _deny()
    with imap.connected(source) as conn:
        status, data = conn.select(imap._quoted(source.folder or "INBOX"), readonly=True)
        first = data[0] if data else b"0"
        return int(first) if status == "OK" and isinstance(first, bytes) and first.isdigit() else 0


# ---------------------------------------------------------------- one mail


def _shown_address(address: str) -> str:
    """A sender as the mail log keeps it: a personal mailbox only by its domain (privacy rule)."""
    if is_personal_email(address, personal_email_domains()):
        return f"***@{email_domain(address)}"
    return address


def _sender_match(address: str) -> tuple[Customer | None, Contact | None]:
    contacts = list(
        Contact.objects.filter(email__iexact=address, customer__deleted_at__isnull=True)
        .select_related("customer")
        .order_by("id")[:10]
    )
    customers = {c.customer_id for c in contacts}
    if len(customers) != 1:
        return None, None
    return contacts[0].customer, contacts[0]


def _thread_of(source: MailSource, parsed: ParsedMail) -> Feedback | None:
    ids = parsed.thread_ids
    if ids:
        earlier = (
            InboundMail.objects.filter(message_id__in=ids)
            .filter(Q(feedback__isnull=False) | Q(thread_feedback__isnull=False))
            .order_by("created_at", "id")
            .first()
        )
        if earlier is not None:
            return Feedback.objects.filter(pk=earlier.feedback_id_shown or 0).first()
    token = parsed.feedback_token
    if token is not None:
        feedback = Feedback.objects.filter(pk=token).select_related("contact").first()
        if feedback is None:
            return None
        wrote_before = InboundMail.objects.filter(
            Q(feedback=feedback) | Q(thread_feedback=feedback), from_address__iexact=parsed.from_address
        ).exists()
        is_contact = bool(feedback.contact and feedback.contact.email.lower() == parsed.from_address)
        if wrote_before or is_contact:
            return feedback
    return None


def _keep_attachments(mail: InboundMail, parsed: ParsedMail) -> list[str]:
    """Save the allowed files; the names of those left out, with why."""
    allowed = settings.NEEDPOOL_ATTACHMENT_EXTENSIONS
    limit = settings.NEEDPOOL_ATTACHMENT_MAX_BYTES
    left_out: list[str] = []
    kept = 0
    for attachment in parsed.attachments:
        name = PurePath(attachment.name).name[:200]
        ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        if not name or ext not in allowed:
            left_out.append(_("%(name)s（类型不允许）") % {"name": name or "?"})
        elif not attachment.data:
            left_out.append(_("%(name)s（空文件）") % {"name": name})
        elif len(attachment.data) > limit:
            left_out.append(_("%(name)s（超过大小上限）") % {"name": name})
        elif kept >= MAX_ATTACHMENTS:
            left_out.append(_("%(name)s（附件过多）") % {"name": name})
        else:
            record = InboundMailAttachment(
                mail=mail, name=name, size=len(attachment.data), content_type=attachment.content_type
            )
            record.file.save(name, ContentFile(attachment.data), save=False)
            record.save()
            kept += 1
    return left_out


def _feedback_text(parsed: ParsedMail) -> tuple[str, bool]:
    subject = parsed.subject.strip()
    body = parsed.text.strip()
    text = f"{subject}\n\n{body}" if subject and body and not body.startswith(subject) else (body or subject)
    if len(text) > MAX_TEXT:
        return text[: MAX_TEXT - 1] + "…", True
    return text, False


def _received_at(parsed: ParsedMail) -> dt.datetime:
    now = timezone.now()
    date: dt.datetime | None = parsed.date
    if date is None or date > now + dt.timedelta(minutes=5) or date.year < 2000:
        return now
    return date


def _new_row(source: MailSource, parsed: ParsedMail) -> InboundMail:
    return InboundMail(
        source=source,
        message_id=parsed.message_id,
        in_reply_to=parsed.in_reply_to,
        references=" ".join(parsed.references)[:5000],
        from_address=_shown_address(parsed.from_address)[:254],
        subject=mask_mobiles(parsed.subject)[:255],
        body=mask_mobiles(parsed.text)[:20000],
        received_at=_received_at(parsed),
    )


def _ingest(source: MailSource, parsed: ParsedMail) -> InboundMail:
    mail = _new_row(source, parsed)
    notes: list[str] = []
    own_address = source.username.strip().lower()
    if parsed.auto_reply:
        mail.status, mail.reason = InboundStatus.SKIPPED, _("自动回复")
    elif own_address and parsed.from_address == own_address:
        mail.status, mail.reason = InboundStatus.SKIPPED, _("本邮箱自己发出的邮件")
    elif (thread := _thread_of(source, parsed)) is not None:
        mail.status, mail.thread_feedback = InboundStatus.THREADED, thread
    else:
        text, cut = _feedback_text(parsed)
        if not text:
            mail.status, mail.reason = InboundStatus.SKIPPED, _("邮件没有主题也没有正文")
        else:
            customer, contact = _sender_match(parsed.from_address)
            mail.feedback = feedback_record(
                actor=None,
                raw_text=text,
                channel=source.feedback_channel,
                customer=customer,
                contact=contact,
                received_at=mail.received_at,
            )
            mail.status = InboundStatus.CREATED
            if cut:
                notes.append(_("正文超过 %(limit)s 字，反馈中只保留了前面部分") % {"limit": MAX_TEXT})
    mail.save()
    if mail.status in (InboundStatus.CREATED, InboundStatus.THREADED):
        left_out = _keep_attachments(mail, parsed)
        if left_out:
            notes.append(_("未保存的附件：%(files)s") % {"files": "、".join(left_out)})
    if notes:
        mail.reason = "；".join([*([mail.reason] if mail.reason else []), *notes])[:500]
        mail.save(update_fields=["reason"])
    audit_record(
        actor=None,
        obj=mail,
        action=AuditEntry.Action.CREATE,
        changes={
            "source": source.name,
            "status": mail.status,
            **({"feedback": mail.feedback_id_shown} if mail.feedback_id_shown else {}),
        },
    )
    return mail


def _failed(source: MailSource, message_id: str, reason: str, parsed: ParsedMail | None = None) -> InboundMail:
    """Record a mail that could not be taken in (once per Message-ID)."""
    with transaction.atomic():
        existing = InboundMail.objects.filter(source=source, message_id=message_id).first()
        if existing is not None:
            return existing
        mail = (
            _new_row(source, parsed)
            if parsed
            else InboundMail(source=source, message_id=message_id, received_at=timezone.now())
        )
        mail.status, mail.reason = InboundStatus.FAILED, reason[:500]
        try:
            with transaction.atomic():
                mail.save()
        except IntegrityError:
            return InboundMail.objects.get(source=source, message_id=message_id)
        return mail


def mail_ingest(*, source: MailSource, raw: bytes) -> InboundMail:
    """Take one raw RFC 822 mail into the pool: new feedback, a reply threaded to its feedback, or a row
    that says why not. Safe to call again with the same mail: the row stored first is returned."""
    if len(raw) > MAX_RAW_BYTES:
        return _failed(source, raw_key(raw), _("邮件过大（超过 %(mb)s MB）") % {"mb": MAX_RAW_BYTES // 1024 // 1024})
    try:
        parsed = parse_mail(raw)
    except MailParseError as exc:
        return _failed(source, raw_key(raw), _("无法解析邮件：%(error)s") % {"error": exc})
    existing = InboundMail.objects.filter(source=source, message_id=parsed.message_id).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return _ingest(source, parsed)
    except IntegrityError:
        # The same Message-ID committed by a concurrent poll (on PostgreSQL this insert waited for it).
        existing = InboundMail.objects.filter(source=source, message_id=parsed.message_id).first()
        if existing is None:
            return _failed(source, parsed.message_id, _("保存失败：数据冲突"), parsed)
        return existing
    except ValidationError as exc:
        messages = "；".join(str(m) for m in exc.messages)
        return _failed(source, parsed.message_id, _("反馈未保存：%(error)s") % {"error": messages}, parsed)


# ---------------------------------------------------------------- one poll


@dataclass
class PollResult:
    counts: dict[str, int] = field(default_factory=dict)
    error: str = ""

    def add(self, status: str) -> None:
        self.counts[status] = self.counts.get(status, 0) + 1


def _note_poll(source: MailSource, error: str) -> None:
    MailSource.objects.filter(pk=source.pk).update(last_polled_at=timezone.now(), last_error=error[:2000])


def mail_poll(*, source_id: int) -> PollResult:
    """Fetch the new mails of one active mailbox and take each in (``mail_ingest``); safe to run twice at once.
    The mailbox's last poll time and error are kept for the admin page."""
    result = PollResult()
    source = MailSource.objects.filter(pk=source_id, is_active=True).first()
    if source is None:
        return result
    try:
        with imap.connected(source) as conn:
            validity = imap.uid_validity(conn)
            after = source.last_uid
            if validity is not None and source.uid_validity is not None and validity != source.uid_validity:
                after = 0  # the server renumbered the folder: start again (Message-IDs prevent doubles)
            if validity is not None and validity != source.uid_validity:
                MailSource.objects.filter(pk=source.pk).update(uid_validity=validity, last_uid=after)
            for uid in imap.new_uids(conn, after_uid=after, limit=POLL_BATCH):
                raw = imap.fetch_raw(conn, uid)
                if raw is not None:  # else removed from the folder since the search: nothing to take in
                    try:
                        mail = mail_ingest(source=source, raw=raw)
                    except Exception as exc:  # one bad mail must not stop the others
                        logger.exception("mail %s of mailbox %s could not be taken in", uid, source.pk)
                        reason = _("处理出错：%(error)s") % {"error": exc.__class__.__name__}
                        mail = _failed(source, raw_key(raw), reason)
                    result.add(mail.status)
                    # Committed: only now is it marked read on the server. A folder that refuses the flag
                    # (read-only) is reported, and the mail still counts as done.
                    try:
                        imap.mark_seen(conn, uid)
                    except imap.MailboxError as exc:
                        result.error = str(exc)
                MailSource.objects.filter(pk=source.pk, last_uid__lt=uid).update(last_uid=uid)
    except (imap.MailboxError, OSError, EOFError) as exc:
        result.error = str(exc) or exc.__class__.__name__
    except Exception as exc:  # imaplib.IMAP4.error and friends mid-session
        result.error = f"{exc.__class__.__name__}: {exc}"[:500]
    _note_poll(source, result.error)
    return result


def mail_poll_all() -> dict[int, PollResult]:
    """One poll of every active mailbox (the periodic job)."""
    active = MailSource.objects.filter(is_active=True).values_list("pk", flat=True)
    return {pk: mail_poll(source_id=pk) for pk in active}


def mail_poll_request(*, actor: User, source: MailSource) -> None:
    """收取 now: queue one poll of the mailbox for the background worker (it runs after this commits)."""
    if not is_admin(actor):
        raise _deny()
    if not source.is_active:
        raise ValidationError(_("该邮箱已停用，请先启用。"))
    from needpool.intake.mailin.tasks import mail_poll_job  # the task module imports this one

    source_id = source.pk
    transaction.on_commit(lambda: mail_poll_job(source_id))
