"""CSAT (1–5) after a requirement closes and NPS (0–10) campaigns by customer segment.

Each invitation carries a random token (32 bytes) in its mail link; only its SHA-256 is stored. An answer is
stored by one conditional UPDATE (still unanswered, not expired), so two submits at once store one answer and
the second is told so. Sending is idempotent: one invitation per contact per requirement (CSAT) or per
campaign (NPS), guarded by unique constraints, and each mail is queued under a key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from needpool.accounts.models import User
from needpool.core.audit import audit_record, snapshot
from needpool.core.mail import mail_queue
from needpool.core.models import AuditEntry
from needpool.customers.choices import Segment, ValueTier
from needpool.customers.models import Contact, Customer
from needpool.loop import permissions
from needpool.loop.models import NpsCampaign, SurveyInvitation
from needpool.loop.selectors import DETRACTOR_MAX
from needpool.loop.services.config import loop_settings, site_link
from needpool.loop.services.notices import Asker, contact_askers
from needpool.loop.services.privacy import scrub_customers
from needpool.notify.kinds import EventKind
from needpool.notify.services import emit
from needpool.requirements.choices import StatusCategory
from needpool.requirements.models import Requirement, StatusChange

TOKEN_BYTES = 32
LOW_CSAT = 2
SEND_BATCH = 500


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, token_hash(token)


def _invite(
    *,
    kind: str,
    asker: Asker,
    now: dt.datetime,
    days: int,
    subject: str,
    body: str,
    requirement: Requirement | None = None,
    campaign: NpsCampaign | None = None,
) -> SurveyInvitation | None:
    """One invitation and its mail (``{link}`` and ``{expires}`` filled in); None when it already exists."""
    token, digest = new_token()
    subject_id = requirement.pk if requirement is not None else campaign.pk if campaign is not None else 0
    try:
        with transaction.atomic():
            invitation = SurveyInvitation.objects.create(
                kind=kind,
                requirement=requirement,
                campaign=campaign,
                customer_id=asker.customer_id,
                contact_id=asker.contact_id,
                email=asker.email,
                token_hash=digest,
                created_at=now,
                expires_at=now + dt.timedelta(days=days),
            )
            link = site_link(reverse("loop_public:survey", kwargs={"token": token}))
            expires = timezone.localtime(invitation.expires_at).strftime("%Y-%m-%d")
            invitation.mail = mail_queue(
                key=f"loop:{kind}:{subject_id}:{asker.contact_id or asker.email}",
                to=[asker.email],
                subject=subject,
                body=body.replace("{link}", link).replace("{expires}", expires),
            )
            invitation.save(update_fields=["mail"])
    except IntegrityError:  # invited at the same moment by another run of the job
        return None
    return invitation


# ---------------------------------------------------------------- CSAT


def csat_invite(*, requirement_id: int, now: dt.datetime | None = None) -> int:
    """Invite every contact behind a closed requirement (once each); returns how many were invited now."""
    now = now or timezone.now()
    config = loop_settings()
    if not config.csat_enabled:
        return 0
    requirement = Requirement.objects.filter(pk=requirement_id).first()
    if requirement is None:
        return 0
    invited_contacts = set(
        SurveyInvitation.objects.filter(kind=SurveyInvitation.Kind.CSAT, requirement=requirement).values_list(
            "contact_id", flat=True
        )
    )
    made = 0
    with translation.override(settings.LANGUAGE_CODE):
        body = _(
            "您好，%(name)s！\n\n您提出的需求“%(title)s”（编号 %(code)s）已处理完毕。"
            "请花半分钟为我们的处理结果打分（1–5 分），您的意见会帮助我们做得更好：\n\n{link}\n\n"
            "链接仅供您本人使用，{expires} 前有效，无需登录。"
        )
        for asker in contact_askers(requirement.pk):
            if asker.contact_id in invited_contacts:
                continue
            title = scrub_customers(requirement.title, requirement.pk, keep_customer_id=asker.customer_id)
            text = body % {"name": asker.name, "title": title, "code": requirement.code}
            if _invite(
                kind=SurveyInvitation.Kind.CSAT,
                asker=asker,
                now=now,
                days=config.csat_expiry_days,
                subject=_("请为需求“%(title)s”的处理结果打分") % {"title": title},
                body=text,
                requirement=requirement,
            ):
                made += 1
    return made


def csat_invite_closed(*, now: dt.datetime | None = None, days: int = 60) -> dict[str, int]:
    """Invite the contacts of requirements closed in the last ``days`` days who were not invited yet.

    A requirement closed after a rejection gets no survey: there was nothing delivered to rate.
    """
    now = now or timezone.now()
    moves = (
        StatusChange.objects.filter(at__gte=now - dt.timedelta(days=days), target__key="closed")
        .exclude(source__category=StatusCategory.REJECTED)
        .filter(requirement__status__key="closed")
        .values_list("requirement_id", flat=True)
        .distinct()
    )
    requirement_ids = sorted(set(moves))[:SEND_BATCH]
    invited = sum(csat_invite(requirement_id=pk, now=now) for pk in requirement_ids)
    return {"requirements": len(requirement_ids), "invited": invited}


# ---------------------------------------------------------------- answering (public, no account)


def invitation_by_token(token: str) -> SurveyInvitation:
    """The invitation behind a token; 404 for anything else (unknown and malformed look the same)."""
    if not token or not 20 <= len(token) <= 100:
        raise Http404
    invitation = (
        SurveyInvitation.objects.select_related("requirement", "campaign").filter(token_hash=token_hash(token)).first()
    )
    if invitation is None:
        raise Http404
    return invitation


def public_title(invitation: SurveyInvitation) -> str:
    """The requirement's title as its invitee may read it (other customers' names replaced)."""
    requirement = invitation.requirement
    if requirement is None:
        return ""
    return scrub_customers(requirement.title, requirement.pk, keep_customer_id=invitation.customer_id)


def invitation_expired(invitation: SurveyInvitation, now: dt.datetime | None = None) -> bool:
    return invitation.answered_at is None and invitation.expires_at <= (now or timezone.now())


def score_range(kind: str) -> tuple[int, int]:
    return (1, 5) if kind == SurveyInvitation.Kind.CSAT else (0, 10)


@transaction.atomic
def survey_answer(
    *, invitation: SurveyInvitation, score: Any, comment: str = "", now: dt.datetime | None = None
) -> SurveyInvitation:
    """Store the answer once; refused when already answered (also by a submit at the same moment) or expired."""
    now = now or timezone.now()
    low, high = score_range(invitation.kind)
    try:
        value = int(score)
        if str(score).strip() != str(value):
            raise ValueError
    except (TypeError, ValueError):
        value = -1
    if not low <= value <= high:
        raise ValidationError({"score": _("请选择 %(low)s 到 %(high)s 分。") % {"low": low, "high": high}})
    comment = (comment or "").strip()
    if len(comment) > 2000:
        raise ValidationError({"comment": _("意见不能超过 2000 个字符。")})
    if invitation.answered_at is not None:
        raise ValidationError(_("这份问卷已经提交过了，每个链接只能回答一次。"), code="answered")
    if invitation.expires_at <= now:
        raise ValidationError(_("这份问卷已过期，不能再提交。"), code="expired")
    stored = SurveyInvitation.objects.filter(pk=invitation.pk, answered_at__isnull=True, expires_at__gt=now).update(
        score=value, comment=comment, answered_at=now
    )
    if not stored:
        raise ValidationError(_("这份问卷已经提交过了，每个链接只能回答一次。"), code="answered")
    invitation.refresh_from_db()
    if is_low_score(invitation.kind, value):
        _tell_account_owner(invitation)
    return invitation


def is_low_score(kind: str, score: int) -> bool:
    """A score the account owner should hear of at once: CSAT 2 or less, NPS 6 or less (a detractor)."""
    return score <= (LOW_CSAT if kind == SurveyInvitation.Kind.CSAT else DETRACTOR_MAX)


def _tell_account_owner(invitation: SurveyInvitation) -> None:
    """The customer's account owner hears of a low score (once per answer)."""
    if invitation.customer_id is None:
        return
    customer = Customer.objects.select_related("owner").filter(pk=invitation.customer_id).first()
    if customer is None or customer.owner is None:
        return
    owner, requirement, campaign = customer.owner, invitation.requirement, invitation.campaign
    if invitation.kind == SurveyInvitation.Kind.CSAT:
        if requirement is None:
            return
        message = gettext_noop("%(customer)s 对需求 %(code)s 的满意度评分为 %(score)s 分，请及时跟进。")
        url = reverse("requirements:detail", kwargs={"pk": requirement.pk}) + "#section-loop"
        subject: dict[str, Any] = {
            "type": "requirement",
            "id": requirement.pk,
            "code": requirement.code,
            "title": requirement.title,
        }
    else:
        message = gettext_noop("%(customer)s 在 NPS 调查“%(campaign)s”中的评分为 %(score)s 分，请及时跟进。")
        url = reverse("customers:detail", args=[customer.pk])
        subject = {"type": "customer", "id": customer.pk, "code": "", "title": customer.name}
    emit(
        kind=EventKind.LOW_SCORE,
        key=f"loop:low:{invitation.pk}",
        message=message,
        params={
            "customer": customer.name,
            "code": requirement.code if requirement else "",
            "campaign": campaign.name if campaign else "",
            "score": invitation.score,
        },
        url=url,
        recipients=[owner],
        teams=[owner.team_id] if owner.team_id else [],
        subject=subject,
        data={
            "survey": invitation.kind,
            "score": invitation.score,
            "customer": {"id": customer.pk, "name": customer.name},
            "campaign": campaign.pk if campaign else None,
            "invitation": invitation.pk,
        },
    )


# ---------------------------------------------------------------- NPS campaigns


def _clean_campaign(name: Any, segments: Any, value_tiers: Any, question: Any) -> dict[str, Any]:
    errors: dict[str, str] = {}
    name = " ".join(str(name or "").split())
    if not name:
        errors["name"] = _("请填写调查名称。")
    elif len(name) > 120:
        errors["name"] = _("名称不能超过 120 个字符。")
    segments = sorted(set(segments or []))
    if any(s not in Segment.values for s in segments):
        errors["segments"] = _("未知的客户分层。")
    value_tiers = sorted(set(value_tiers or []))
    if any(t not in ValueTier.values for t in value_tiers):
        errors["value_tiers"] = _("未知的客户价值等级。")
    question = " ".join(str(question or "").split())
    if len(question) > 300:
        errors["question"] = _("问题不能超过 300 个字符。")
    if errors:
        raise ValidationError(errors)
    return {"name": name, "segments": segments, "value_tiers": value_tiers, "question": question}


def default_nps_question() -> str:
    return _("您有多大可能向朋友或同事推荐我们的产品？")


@transaction.atomic
def nps_campaign_create(
    *, actor: User, name: str, segments: Any = (), value_tiers: Any = (), question: str = ""
) -> NpsCampaign:
    if not permissions.can_close_loop(actor):
        raise permissions.deny(_("只有经理、产品经理和管理员可以发起 NPS 调查。"))
    data = _clean_campaign(name, segments, value_tiers, question)
    campaign = NpsCampaign.objects.create(created_by=actor, **data)
    audit_record(actor=actor, obj=campaign, action=AuditEntry.Action.CREATE, changes=snapshot(campaign, list(data)))
    return campaign


def campaign_contacts(campaign: NpsCampaign) -> Any:
    """The contacts with an e-mail address at the customers the campaign's filters select."""
    customers = Customer.objects.all()
    if campaign.segments:
        customers = customers.filter(segment__in=campaign.segments)
    if campaign.value_tiers:
        customers = customers.filter(value_tier__in=campaign.value_tiers)
    return Contact.objects.filter(customer__in=customers.values("pk")).exclude(email="").order_by("pk")


@transaction.atomic
def nps_campaign_start(*, actor: User, campaign: NpsCampaign, now: dt.datetime | None = None) -> NpsCampaign:
    """Start sending: the periodic job (and one queued now) invites every selected contact once."""
    if not permissions.can_close_loop(actor):
        raise permissions.deny(_("只有经理、产品经理和管理员可以发起 NPS 调查。"))
    locked = NpsCampaign.objects.select_for_update().get(pk=campaign.pk)
    if locked.status != NpsCampaign.Status.DRAFT:
        raise ValidationError(_("这份调查已经发送过了。"))
    if not campaign_contacts(locked).exists():
        raise ValidationError(_("所选客户分层下没有留有邮箱的联系人，无法发送。"))
    locked.status, locked.started_at = NpsCampaign.Status.SENDING, now or timezone.now()
    locked.save(update_fields=["status", "started_at", "updated_at"])
    audit_record(actor=actor, obj=locked, action=AuditEntry.Action.UPDATE, changes={"status": ("draft", "sending")})
    from needpool.loop.tasks import nps_send

    pk = locked.pk
    transaction.on_commit(lambda: nps_send(pk))
    return locked


def nps_campaign_send(*, campaign_id: int, now: dt.datetime | None = None, batch: int = SEND_BATCH) -> dict[str, int]:
    """Invite the next ``batch`` contacts not invited yet; the campaign is sent once nobody is left."""
    now = now or timezone.now()
    campaign = NpsCampaign.objects.filter(pk=campaign_id, status=NpsCampaign.Status.SENDING).first()
    if campaign is None:
        return {"invited": 0, "remaining": 0}
    config = loop_settings()
    invited = SurveyInvitation.objects.filter(campaign=campaign).values("contact_id")
    todo = list(campaign_contacts(campaign).exclude(pk__in=invited)[:batch])
    made = 0
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("邀请您参与调查：%(name)s") % {"name": campaign.name}
        question = campaign.question or default_nps_question()
        for contact in todo:
            body = _(
                "您好，%(name)s！\n\n%(question)s\n请用 0–10 分告诉我们（只需半分钟，无需登录）：\n\n{link}\n\n"
                "链接仅供您本人使用，{expires} 前有效。"
            ) % {"name": contact.name, "question": question}
            asker = Asker(contact.email.strip().lower(), contact.name, contact.customer_id, contact.pk)
            if _invite(
                kind=SurveyInvitation.Kind.NPS,
                asker=asker,
                now=now,
                days=config.nps_expiry_days,
                subject=subject,
                body=body,
                campaign=campaign,
            ):
                made += 1
    remaining = campaign_contacts(campaign).exclude(pk__in=invited).count()
    if remaining == 0:
        NpsCampaign.objects.filter(pk=campaign.pk, status=NpsCampaign.Status.SENDING).update(
            status=NpsCampaign.Status.SENT, updated_at=now
        )
    return {"invited": made, "remaining": remaining}


def nps_send_due(*, now: dt.datetime | None = None) -> dict[str, int]:
    totals = {"campaigns": 0, "invited": 0}
    for pk in NpsCampaign.objects.filter(status=NpsCampaign.Status.SENDING).values_list("pk", flat=True)[:50]:
        totals["campaigns"] += 1
        totals["invited"] += nps_campaign_send(campaign_id=pk, now=now)["invited"]
    return totals
