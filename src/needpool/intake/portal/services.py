"""Write use-cases of the portal: a public submission (feedback plus its submission record and tracking
link) and a staff message to a submitter.

Every function is atomic, validates its input (nothing is written on a refusal), writes its audit row
in the same transaction, and sends mail only after commit.

Decisions
- Customers are never created from outside. A submission names its customer by code or name; an exact
  code (case-insensitive), or a name that matches exactly one customer, links the feedback to that
  customer, otherwise the words as typed stay on the ``Submission`` for staff to sort out. In
  access-code mode the code identifies the customer. The matching result is never shown to the
  submitter (nobody can probe the customer list). A contact is linked only when the customer matched and
  one of its contacts has the same work e-mail; contacts are never created either.
- The privacy rule of ``customers.privacy`` applies to every contact detail that comes in: a personal
  mobile number or a personal mailbox is refused with the same message as on the contact form.
- Portal feedback is recorded under the channel's feedback channel (官网表单 by default) and lands
  unlinked in the pool (no requirement), with the submitter's type as its initial type.
- Tracking: every portal submission gets its own private link, shown after submitting. When an e-mail
  address was given, a second link listing every submission of that address is mailed to it — that
  link is only ever sent to the address itself. Each mail carries a fresh link; all stay valid.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from needpool.accounts.models import User
from needpool.core.audit import audit_record
from needpool.core.models import AuditEntry
from needpool.customers.models import Customer
from needpool.customers.privacy import masking_notices
from needpool.intake.channels.tokens import (
    access_code_digest,
    digest,
    new_tracking_token,
)
from needpool.intake.incoming import MAX_TEXT, check_type, clean_contact, clean_text, match_contact, match_customer
from needpool.intake.models import (
    AccessMode,
    ChannelAccessCode,
    IntakeChannel,
    PortalMessage,
    PortalShows,
    Submission,
    SubmissionAttachment,
    TrackingLink,
    Via,
)
from needpool.intake.portal.permissions import can_message_submitter
from needpool.requirements.models import ClassOption
from needpool.requirements.services import feedback_record

logger = logging.getLogger(__name__)

MAX_MESSAGE = 2000


def attachment_limit_bytes(channel: IntakeChannel) -> int:
    """The smaller of the channel's per-file limit and the site-wide NEEDPOOL_ATTACHMENT_MAX_BYTES."""
    return min(channel.max_attachment_mb * 1024 * 1024, settings.NEEDPOOL_ATTACHMENT_MAX_BYTES)


def _check_uploads(channel: IntakeChannel, uploads: Sequence[UploadedFile[Any]]) -> None:
    if not uploads:
        return
    if channel.max_attachments == 0:
        raise ValidationError({"attachments": _("此渠道不接受附件。")})
    if len(uploads) > channel.max_attachments:
        raise ValidationError(
            {
                "attachments": _("最多上传 %(max)s 个附件（您选择了 %(count)s 个）。")
                % {
                    "max": channel.max_attachments,
                    "count": len(uploads),
                }
            }
        )
    allowed = settings.NEEDPOOL_ATTACHMENT_EXTENSIONS
    limit = attachment_limit_bytes(channel)
    for upload in uploads:
        name = PurePath(upload.name or "").name
        ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        if not name or ext not in allowed:
            raise ValidationError(
                {
                    "attachments": _("不支持的文件类型“%(ext)s”（%(name)s）。允许：%(allowed)s。")
                    % {
                        "ext": ext or "?",
                        "name": name or "?",
                        "allowed": ", ".join(allowed),
                    }
                }
            )
        if not upload.size:
            raise ValidationError({"attachments": _("文件“%(name)s”是空的。") % {"name": name}})
        if upload.size > limit:
            raise ValidationError(
                {
                    "attachments": _("文件“%(name)s”过大：每个附件最大 %(mb)s MB。")
                    % {
                        "name": name,
                        "mb": f"{round(limit / 1024 / 1024, 1):g}",
                    }
                }
            )


# ---------------------------------------------------------------- tracking links and mail


def _tracking_url(site_url: str, token: str) -> str:
    return site_url.rstrip("/") + reverse("portal:track", args=[token])


def _issue_link(*, submission: Submission | None = None, email: str = "") -> str:
    token = new_tracking_token()
    TrackingLink.objects.create(token_hash=digest(token), submission=submission, email=email)
    return token


def _mail_after_commit(*, to: str, subject: str, body: str) -> None:
    def send() -> None:
        try:
            send_mail(subject, body, None, [to])
        except Exception:  # the submission is saved; a mail server hiccup must not turn it into an error page
            logger.exception("portal mail to %s failed", to)

    transaction.on_commit(send)


def _receipt_mail(submission: Submission, link: str) -> tuple[str, str]:
    subject = _("%(channel)s：我们已收到您的需求") % {"channel": submission.channel.name}
    lines = [
        _("%(name)s，您好：") % {"name": submission.contact_name or _("客户")},
        "",
        _("我们已收到您通过“%(channel)s”提交的需求：") % {"channel": submission.channel.name},
        submission.feedback.raw_text[:300],
        "",
        _("查看您提交的全部需求的处理进度（此链接只发给您，请勿转发）："),
        link,
        "",
        _("此邮件由系统自动发送，请勿直接回复。"),
    ]
    return subject, "\n".join(lines)


def _message_mail(message: PortalMessage, link: str) -> tuple[str, str]:
    submission = message.submission
    subject = _("%(channel)s：关于您提交的需求的新留言") % {"channel": submission.channel.name}
    lines = [
        _("%(name)s，您好：") % {"name": submission.contact_name or _("客户")},
        "",
        _("关于您在 %(date)s 提交的需求：") % {"date": timezone.localtime(submission.created_at).strftime("%Y-%m-%d")},
        submission.feedback.raw_text[:120],
        "",
        message.body,
        "",
        _("查看处理进度："),
        link,
    ]
    return subject, "\n".join(lines)


# ---------------------------------------------------------------- portal submissions


@dataclass(frozen=True)
class PortalReceipt:
    """A saved portal submission and the token of its own tracking link (shown once, on the next page)."""

    submission: Submission
    tracking_token: str
    emailed_to: str
    #: True when mobile numbers in the description were masked (the thank-you page says so).
    masked_mobiles: bool = False


@transaction.atomic
def portal_submit(
    *,
    channel: IntakeChannel,
    description: str,
    contact_name: str,
    contact_phone: str = "",
    contact_email: str = "",
    customer_text: str = "",
    access_code: str = "",
    type: ClassOption | None = None,
    expected_date: dt.date | None = None,
    uploads: Sequence[UploadedFile[Any]] = (),
    language: str = "",
    site_url: str = "",
) -> PortalReceipt:
    """Turn a public form submission into an unlinked feedback item plus its submission record."""
    if not (channel.is_active and channel.has_portal):
        raise ValidationError(_("该提交入口已关闭。"))
    description = clean_text(description, "description", required=True, limit=MAX_TEXT, label=_("需求描述"))
    customer_text = clean_text(customer_text, "customer", required=False, limit=120, label=_("客户名称或编号"))
    name, phone, email = clean_contact(name=contact_name, phone=contact_phone, email=contact_email, require_one=True)
    check_type(type)
    if expected_date is not None and expected_date < timezone.localdate():
        raise ValidationError({"expected_date": _("期望时间不能早于今天。")})
    _check_uploads(channel, uploads)
    if channel.access_mode == AccessMode.CODE:
        if not (access_code or "").strip():
            raise ValidationError({"access_code": _("此入口仅对持有访问码的客户开放：请填写访问码。")})
        record = (
            ChannelAccessCode.objects.select_related("customer")
            .filter(channel=channel, code_hash=access_code_digest(access_code), is_active=True)
            .first()
        )
        if record is None:
            raise ValidationError({"access_code": _("访问码无效或已停用，请向您的客户经理确认。")})
        customer: Customer | None = record.customer
        ChannelAccessCode.objects.filter(pk=record.pk).update(last_used_at=timezone.now())
    else:
        if not customer_text:
            raise ValidationError({"customer": _("请填写%(label)s。") % {"label": _("客户名称或编号")}})
        customer = match_customer(code=customer_text, name=customer_text)
    feedback = feedback_record(
        actor=None,
        raw_text=description,
        channel=channel.feedback_channel,
        customer=customer,
        contact=match_contact(customer, email),
        type=type,
    )
    submission = Submission.objects.create(
        channel=channel,
        via=Via.PORTAL,
        feedback=feedback,
        customer_text=customer_text,
        contact_name=name,
        contact_phone=phone,
        contact_email=email,
        expected_date=expected_date,
        language=(language or translation.get_language() or "")[:10],
    )
    for upload in uploads:
        attachment = SubmissionAttachment(
            submission=submission,
            name=PurePath(upload.name or "").name[:200],
            size=upload.size or 0,
            content_type=(upload.content_type or "")[:100],
        )
        attachment.file.save(attachment.name, upload, save=False)
        attachment.save()
    token = _issue_link(submission=submission)
    if email:
        link = _tracking_url(site_url, _issue_link(email=email))
        subject, body = _receipt_mail(submission, link)
        _mail_after_commit(to=email, subject=subject, body=body)
    audit_record(
        actor=None,
        obj=submission,
        action=AuditEntry.Action.CREATE,
        changes={"channel": channel.name, "feedback": feedback.pk, **({"files": len(uploads)} if uploads else {})},
    )
    return PortalReceipt(
        submission=submission, tracking_token=token, emailed_to=email, masked_mobiles=bool(masking_notices(feedback))
    )


@transaction.atomic
def portal_message_send(*, actor: User, submission: Submission, body: str, site_url: str = "") -> PortalMessage:
    """Send a message to a submitter: shown on the tracking page (when the channel shows messages) and mailed."""
    if not can_message_submitter(actor, submission):
        raise PermissionDenied(_("您没有给提交人留言的权限。"))
    body = clean_text(body, "body", required=True, limit=MAX_MESSAGE, label=_("留言内容"))
    shows = submission.channel.portal_shows == PortalShows.STATUS_AND_MESSAGES
    if not shows and not submission.contact_email:
        raise ValidationError({"body": _("该渠道的跟踪页不显示留言，而提交人没有留下邮箱：留言无法送达。")})
    message = PortalMessage.objects.create(
        submission=submission, body=body, author=actor, emailed=bool(submission.contact_email)
    )
    if submission.contact_email:
        with translation.override(submission.language or None):
            link = _tracking_url(site_url, _issue_link(email=submission.contact_email))
            subject, text = _message_mail(message, link)
        _mail_after_commit(to=submission.contact_email, subject=subject, body=text)
    audit_record(actor=actor, obj=submission, action=AuditEntry.Action.COMMENT, changes={"message": body[:200]})
    return message


def portal_tell_decision(event: Any) -> int:
    """Listener (``requirements.lifecycle.StatusMoved``): a rejected requirement's reason appears on the tracking
    page of every portal submission behind it whose channel shows messages. The mail to the submitter is the
    closing-the-loop notice's; this message is not mailed again. Returns how many messages were written."""
    from needpool.requirements.choices import StatusCategory

    note = " ".join((event.note or "").split())
    if event.target_category != StatusCategory.REJECTED or not note:
        return 0
    submissions = Submission.objects.filter(
        feedback__requirement_id=event.requirement_id, channel__portal_shows=PortalShows.STATUS_AND_MESSAGES
    )
    body = _("该需求经评估暂不采纳。原因：%(note)s") % {"note": note[: MAX_MESSAGE - 40]}
    with transaction.atomic():
        made = PortalMessage.objects.bulk_create(
            PortalMessage(submission=s, body=body, author_id=event.actor_id, emailed=False) for s in submissions
        )
    return len(made)
