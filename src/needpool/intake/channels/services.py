"""Write use-cases of the collection channels: a channel's settings and its secrets (API token, access
codes), feedback sent by an integration with the channel's token, and the ``Idempotency-Key`` record of
the feedback API.

Every function is atomic, validates its input (nothing is written on a refusal) and writes its audit row
in the same transaction.

Decisions
- Channel-API feedback follows the portal's rules for incoming words (``intake.incoming``): customers
  and contacts are matched, never created, and the privacy rule refuses personal mobiles and mailboxes.
- Idempotency: the key's record is inserted in the same transaction as the feedback. A concurrent
  request with the same key blocks on the unique index until the first commits, then replays its
  response; if the first fails, nothing was stored and the second runs normally. Only successful
  creations are remembered, so a refused request can be corrected and retried with the same key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from needpool.accounts.models import User
from needpool.accounts.roles import Cap
from needpool.core.audit import audit_record, diff, snapshot
from needpool.core.models import AuditEntry
from needpool.core.permissions import require
from needpool.customers.models import Customer
from needpool.customers.permissions import can_view_customer
from needpool.intake.channels.tokens import (
    RESERVED_SLUGS,
    TOKEN_SHOWN_CHARS,
    access_code_digest,
    digest,
    new_access_code,
    new_channel_token,
)
from needpool.intake.incoming import MAX_TEXT, check_type, clean_contact, clean_text, match_contact, match_customer
from needpool.intake.models import (
    KIND_FEEDBACK_CHANNEL,
    ChannelAccessCode,
    IdempotencyRecord,
    IntakeChannel,
    Submission,
    Via,
)
from needpool.requirements.choices import Sentiment
from needpool.requirements.models import ClassOption
from needpool.requirements.services import feedback_record

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
def channel_create(*, actor: User, **data: Any) -> IntakeChannel:
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
def channel_update(*, actor: User, channel: IntakeChannel, **data: Any) -> IntakeChannel:
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
def channel_token_rotate(*, actor: User, channel: IntakeChannel) -> tuple[IntakeChannel, str]:
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
def channel_token_revoke(*, actor: User, channel: IntakeChannel) -> IntakeChannel:
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
def access_code_issue(*, actor: User, channel: IntakeChannel, customer: Customer) -> tuple[ChannelAccessCode, str]:
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
def access_code_revoke(*, actor: User, access_code: ChannelAccessCode) -> ChannelAccessCode:
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
    raw_text = clean_text(raw_text, "raw_text", required=True, limit=MAX_TEXT, label=_("原始内容"))
    customer_code = clean_text(customer_code, "customer_code", required=False, limit=30, label=_("客户编号"))
    customer_name = clean_text(customer_name, "customer_name", required=False, limit=120, label=_("客户名称"))
    external_id = clean_text(external_id, "external_id", required=False, limit=100, label=_("外部编号"))
    name, phone, email = clean_contact(name=contact_name, phone=contact_phone, email=contact_email, require_one=False)
    check_type(type)
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
    customer = match_customer(code=customer_code, name=customer_name)
    feedback = feedback_record(
        actor=None,
        raw_text=raw_text,
        channel=channel.feedback_channel,
        customer=customer,
        contact=match_contact(customer, email),
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
