"""Write use-cases of intake: channels and their secrets, portal submissions, channel-API feedback,
messages to submitters, and the ``Idempotency-Key`` record of the feedback API.

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
- Idempotency: the key's record is inserted in the same transaction as the feedback. A concurrent
  request with the same key blocks on the unique index until the first commits, then replays its
  response; if the first fails, nothing was stored and the second runs normally. Only successful
  creations are remembered, so a refused request can be corrected and retried with the same key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import send_mail
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from needpool.accounts.roles import Cap
from needpool.core.audit import audit_record, diff, snapshot
from needpool.core.config import personal_email_domains
from needpool.core.models import AuditEntry
from needpool.core.permissions import require
from needpool.customers.models import Contact, Customer
from needpool.customers.permissions import can_view_customer
from needpool.customers.privacy import check_contact_privacy
from needpool.intake.channels import (
    RESERVED_SLUGS,
    TOKEN_SHOWN_CHARS,
    access_code_digest,
    digest,
    new_access_code,
    new_channel_token,
    new_tracking_token,
)
from needpool.intake.models import (
    KIND_FEEDBACK_CHANNEL,
    AccessMode,
    ChannelAccessCode,
    IdempotencyRecord,
    IntakeChannel,
    PortalMessage,
    PortalShows,
    Submission,
    SubmissionAttachment,
    TrackingLink,
    Via,
)
from needpool.intake.permissions import can_message_submitter
from needpool.requirements.choices import Dimension, Sentiment
from needpool.requirements.models import ClassOption
from needpool.requirements.services import feedback_record

logger = logging.getLogger(__name__)

MAX_TEXT = 5000
MAX_MESSAGE = 2000
IDEMPOTENCY_TTL = dt.timedelta(hours=24)
CHANNEL_FIELDS = (
    "name",
    "slug",
    "kind",
    "feedback_channel",
    "is_active",
    "access_mode",
    "portal_shows",
    "intro",
    "portal_rate_limit",
    "api_rate_limit",
    "max_attachment_mb",
    "max_attachments",
)


# ---------------------------------------------------------------- channels (admin)


def _check_channel(channel: IntakeChannel) -> None:
    channel.name = (channel.name or "").strip()
    channel.slug = (channel.slug or "").strip().lower()
    if not channel.feedback_channel:
        channel.feedback_channel = KIND_FEEDBACK_CHANNEL.get(channel.kind, "")
    errors: dict[str, str] = {}
    if channel.slug in RESERVED_SLUGS:
        errors["slug"] = _("“%(slug)s”是门户保留的地址，请换一个。") % {"slug": channel.slug}
    elif channel.slug and IntakeChannel.objects.filter(slug=channel.slug).exclude(pk=channel.pk).exists():
        errors["slug"] = _("链接标识“%(slug)s”已被其他渠道使用。") % {"slug": channel.slug}
    if errors:
        raise ValidationError(errors)
    channel.full_clean(exclude=["created_by"], validate_unique=False, validate_constraints=False)


@transaction.atomic
def channel_create(*, actor: Any, **data: Any) -> IntakeChannel:
    """Create an intake channel (name, slug, kind and the settings in ``CHANNEL_FIELDS``); no token yet."""
    require(actor, Cap.CONFIGURE)
    unknown = set(data) - set(CHANNEL_FIELDS)
    if unknown:
        raise ValidationError({name: _("未知字段。") for name in sorted(unknown)})
    channel = IntakeChannel(**data, created_by=actor if getattr(actor, "pk", None) else None)
    _check_channel(channel)
    channel.save()
    audit_record(actor=actor, obj=channel, action=AuditEntry.Action.CREATE, changes=snapshot(channel, CHANNEL_FIELDS))
    return channel


@transaction.atomic
def channel_update(*, actor: Any, channel: IntakeChannel, **data: Any) -> IntakeChannel:
    require(actor, Cap.CONFIGURE)
    unknown = set(data) - set(CHANNEL_FIELDS)
    if unknown:
        raise ValidationError({name: _("未知字段。") for name in sorted(unknown)})
    channel = IntakeChannel.objects.select_for_update().get(pk=channel.pk)
    before = snapshot(channel, CHANNEL_FIELDS)
    for name, value in data.items():
        setattr(channel, name, value)
    _check_channel(channel)
    channel.save()
    changes = diff(before, snapshot(channel, CHANNEL_FIELDS))
    if changes:
        audit_record(actor=actor, obj=channel, action=AuditEntry.Action.UPDATE, changes=changes)
    return channel


@transaction.atomic
def channel_token_rotate(*, actor: Any, channel: IntakeChannel) -> tuple[IntakeChannel, str]:
    """Give the channel a new API token (the old one stops working at once). The token is returned once."""
    require(actor, Cap.CONFIGURE)
    channel = IntakeChannel.objects.select_for_update().get(pk=channel.pk)
    previous = channel.token_prefix
    token = new_channel_token()
    channel.token_hash = digest(token)
    channel.token_prefix = token[:TOKEN_SHOWN_CHARS]
    channel.token_created_at = timezone.now()
    channel.token_last_used_at = None
    channel.save(update_fields=["token_hash", "token_prefix", "token_created_at", "token_last_used_at", "updated_at"])
    audit_record(
        actor=actor,
        obj=channel,
        action=AuditEntry.Action.UPDATE,
        changes={"token": (f"{previous}…" if previous else "", f"{channel.token_prefix}…")},
    )
    return channel, token


@transaction.atomic
def channel_token_revoke(*, actor: Any, channel: IntakeChannel) -> IntakeChannel:
    require(actor, Cap.CONFIGURE)
    channel = IntakeChannel.objects.select_for_update().get(pk=channel.pk)
    if not channel.token_hash:
        raise ValidationError(_("该渠道没有 API 令牌。"))
    previous = channel.token_prefix
    channel.token_hash = channel.token_prefix = ""
    channel.token_created_at = channel.token_last_used_at = None
    channel.save(update_fields=["token_hash", "token_prefix", "token_created_at", "token_last_used_at", "updated_at"])
    audit_record(actor=actor, obj=channel, action=AuditEntry.Action.UPDATE, changes={"token": (f"{previous}…", "")})
    return channel


def channel_token_touch(*, channel: IntakeChannel) -> None:
    """Note when the token was last used (at most once a minute, so busy channels do not write per call)."""
    now = timezone.now()
    IntakeChannel.objects.filter(pk=channel.pk).exclude(token_last_used_at__gt=now - dt.timedelta(minutes=1)).update(
        token_last_used_at=now
    )


@transaction.atomic
def access_code_issue(*, actor: Any, channel: IntakeChannel, customer: Customer) -> tuple[ChannelAccessCode, str]:
    """Issue (or replace) a customer's access code for a channel. The code is returned once."""
    require(actor, Cap.CONFIGURE)
    if not can_view_customer(actor, customer):
        raise ValidationError({"customer": _("客户不存在或您无权访问。")})
    code = new_access_code()
    record = ChannelAccessCode.objects.select_for_update().filter(channel=channel, customer=customer).first()
    if record is None:
        record = ChannelAccessCode(channel=channel, customer=customer)
    record.code_hash = access_code_digest(code)
    record.hint = code[-4:]
    record.is_active = True
    record.created_by = actor
    record.created_at = timezone.now()
    record.last_used_at = None
    record.save()
    audit_record(
        actor=actor,
        obj=channel,
        action=AuditEntry.Action.UPDATE,
        changes={"access_code": f"{customer.code} …{record.hint}"},
    )
    return record, code


@transaction.atomic
def access_code_revoke(*, actor: Any, access_code: ChannelAccessCode) -> ChannelAccessCode:
    require(actor, Cap.CONFIGURE)
    access_code.is_active = False
    access_code.save(update_fields=["is_active"])
    audit_record(
        actor=actor,
        obj=access_code.channel,
        action=AuditEntry.Action.UPDATE,
        changes={"access_code": (f"{access_code.customer.code} …{access_code.hint}", "")},
    )
    return access_code


# ---------------------------------------------------------------- shared checks of incoming words


def _clean_text(value: str, field: str, *, required: bool, limit: int, label: str) -> str:
    text = (value or "").strip()
    if required and not text:
        raise ValidationError({field: _("请填写%(label)s。") % {"label": label}})
    if len(text) > limit:
        raise ValidationError(
            {
                field: _("%(label)s不能超过 %(limit)s 个字符（现有 %(count)s 个）。")
                % {
                    "label": label,
                    "limit": limit,
                    "count": len(text),
                }
            }
        )
    return text


def _clean_contact(*, name: str, phone: str, email: str, require_one: bool) -> tuple[str, str, str]:
    """Contact details under the privacy rule; errors keyed contact_name / contact_phone / contact_email."""
    name = _clean_text(name, "contact_name", required=require_one, limit=60, label=_("联系人"))
    phone = _clean_text(phone, "contact_phone", required=False, limit=40, label=_("工作电话"))
    email = _clean_text(email, "contact_email", required=False, limit=254, label=_("工作邮箱")).lower()
    errors: dict[str, str] = {}
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors["contact_email"] = _("请输入有效的邮箱地址。")
    try:
        check_contact_privacy(phone=phone, email=email if not errors else "", personal_domains=personal_email_domains())
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors[f"contact_{field}"] = messages[0]
    if require_one and not (phone or email) and not errors:
        errors["contact_phone"] = _("请至少填写工作电话或工作邮箱中的一项，以便我们联系您。")
    if errors:
        raise ValidationError(errors)
    return name, phone, email


def _match_customer(*, code: str = "", name: str = "") -> Customer | None:
    if code:
        found = Customer.objects.filter(code__iexact=code).first()
        if found is not None:
            return found
    for text in (name, code):
        if text:
            matches = list(Customer.objects.filter(name=text)[:2])
            if len(matches) == 1:
                return matches[0]
    return None


def _match_contact(customer: Customer | None, email: str) -> Contact | None:
    if customer is None or not email:
        return None
    return customer.contacts.filter(email__iexact=email).first()


def _check_type(option: ClassOption | None) -> None:
    if option is not None and (option.dimension != Dimension.TYPE or not option.is_active):
        raise ValidationError({"type": _("所选需求类型不存在或已停用。")})


def attachment_limit_bytes(channel: IntakeChannel) -> int:
    """The smaller of the channel's per-file limit and the site-wide NEEDPOOL_ATTACHMENT_MAX_BYTES."""
    return min(channel.max_attachment_mb * 1024 * 1024, settings.NEEDPOOL_ATTACHMENT_MAX_BYTES)


def _check_uploads(channel: IntakeChannel, uploads: Sequence[UploadedFile]) -> None:
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
    uploads: Sequence[UploadedFile] = (),
    language: str = "",
    site_url: str = "",
) -> PortalReceipt:
    """Turn a public form submission into an unlinked feedback item plus its submission record."""
    if not (channel.is_active and channel.has_portal):
        raise ValidationError(_("该提交入口已关闭。"))
    description = _clean_text(description, "description", required=True, limit=MAX_TEXT, label=_("需求描述"))
    customer_text = _clean_text(customer_text, "customer", required=False, limit=120, label=_("客户名称或编号"))
    name, phone, email = _clean_contact(name=contact_name, phone=contact_phone, email=contact_email, require_one=True)
    _check_type(type)
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
        customer = _match_customer(code=customer_text, name=customer_text)
    feedback = feedback_record(
        actor=None,
        raw_text=description,
        channel=channel.feedback_channel,
        customer=customer,
        contact=_match_contact(customer, email),
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
    return PortalReceipt(submission=submission, tracking_token=token, emailed_to=email)


@transaction.atomic
def portal_message_send(*, actor: Any, submission: Submission, body: str, site_url: str = "") -> PortalMessage:
    """Send a message to a submitter: shown on the tracking page (when the channel shows messages) and mailed."""
    if not can_message_submitter(actor, submission):
        raise PermissionDenied(_("您没有给提交人留言的权限。"))
    body = _clean_text(body, "body", required=True, limit=MAX_MESSAGE, label=_("留言内容"))
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


# ---------------------------------------------------------------- channel API


class ExternalIdTaken(Exception):
    """The channel already sent an item with this external id (the API answers 409 with its feedback id)."""

    def __init__(self, feedback_id: int) -> None:
        super().__init__(feedback_id)
        self.feedback_id = feedback_id


@transaction.atomic
def channel_feedback_submit(
    *,
    channel: IntakeChannel,
    raw_text: str,
    customer_code: str = "",
    customer_name: str = "",
    contact_name: str = "",
    contact_phone: str = "",
    contact_email: str = "",
    received_at: dt.datetime | None = None,
    external_id: str = "",
    type: ClassOption | None = None,
    sentiment: str = "",
    expected_date: dt.date | None = None,
) -> Submission:
    """Feedback from an authenticated integration: lands unlinked in the pool under the channel's feedback channel."""
    if not channel.is_active:
        raise PermissionDenied(_("该渠道已停用。"))
    raw_text = _clean_text(raw_text, "raw_text", required=True, limit=MAX_TEXT, label=_("原始内容"))
    customer_code = _clean_text(customer_code, "customer_code", required=False, limit=30, label=_("客户编号"))
    customer_name = _clean_text(customer_name, "customer_name", required=False, limit=120, label=_("客户名称"))
    external_id = _clean_text(external_id, "external_id", required=False, limit=100, label=_("外部编号"))
    name, phone, email = _clean_contact(name=contact_name, phone=contact_phone, email=contact_email, require_one=False)
    _check_type(type)
    if sentiment and sentiment not in Sentiment.values:
        raise ValidationError({"sentiment": _("无效的情绪。")})
    if received_at is not None and received_at > timezone.now() + dt.timedelta(minutes=5):
        raise ValidationError({"received_at": _("收到时间不能晚于现在。")})
    if external_id:
        taken = Submission.objects.filter(channel=channel, external_id=external_id).values_list(
            "feedback_id", flat=True
        )
        if taken:
            raise ExternalIdTaken(taken[0])
    customer = _match_customer(code=customer_code, name=customer_name)
    feedback = feedback_record(
        actor=None,
        raw_text=raw_text,
        channel=channel.feedback_channel,
        customer=customer,
        contact=_match_contact(customer, email),
        received_at=received_at,
        sentiment=sentiment,
        type=type,
    )
    try:
        with transaction.atomic():
            submission = Submission.objects.create(
                channel=channel,
                via=Via.API,
                feedback=feedback,
                customer_text=" ".join(t for t in (customer_code, customer_name) if t)[:120],
                contact_name=name,
                contact_phone=phone,
                contact_email=email,
                expected_date=expected_date,
                external_id=external_id,
                language=(translation.get_language() or "")[:10],
            )
    except IntegrityError:  # the same external id committed by a concurrent call
        taken_id = Submission.objects.filter(channel=channel, external_id=external_id).values_list(
            "feedback_id", flat=True
        )
        if not taken_id:
            raise
        raise ExternalIdTaken(taken_id[0]) from None
    audit_record(
        actor=None,
        obj=submission,
        action=AuditEntry.Action.CREATE,
        changes={
            "channel": channel.name,
            "feedback": feedback.pk,
            **({"external_id": external_id} if external_id else {}),
        },
    )
    return submission


# ---------------------------------------------------------------- Idempotency-Key


class IdempotencyKeyReused(Exception):
    """The key was already used by this caller for a request with a different body."""


@dataclass(frozen=True)
class IdempotentResult:
    status_code: int
    body: Any
    replayed: bool


def request_fingerprint(method: str, path: str, data: Any) -> str:
    canonical = json.dumps([method.upper(), path, data], sort_keys=True, ensure_ascii=False, cls=DjangoJSONEncoder)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def idempotent_call(*, scope: str, key: str, request_hash: str, run: Callable[[], tuple[int, Any]]) -> IdempotentResult:
    """Run ``run`` once per (scope, key) within 24 hours; later calls with the same body get its response.

    ``run`` returns (status code, JSON-able body); an exception from it rolls everything back and
    leaves the key unused.
    """
    with transaction.atomic():
        now = timezone.now()
        IdempotencyRecord.objects.filter(scope=scope, expires_at__lte=now).delete()
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    scope=scope, key=key, request_hash=request_hash, expires_at=now + IDEMPOTENCY_TTL
                )
        except IntegrityError:
            # Another request with this key committed first (on PostgreSQL this insert waited for it).
            existing = IdempotencyRecord.objects.get(scope=scope, key=key)
            if existing.request_hash != request_hash:
                raise IdempotencyKeyReused(key) from None
            return IdempotentResult(status_code=existing.status_code or 200, body=existing.response_body, replayed=True)
        status_code, body = run()
        record.status_code = status_code
        record.response_body = json.loads(json.dumps(body, cls=DjangoJSONEncoder))
        record.save(update_fields=["status_code", "response_body"])
        return IdempotentResult(status_code=status_code, body=body, replayed=False)
